/**
 * A peer that pings faster than it reads the pongs is dropped once 60 pongs wait
 * unwritten (socket-events.ts, MAX_PENDING_PONGS, ws's own bound), and the close
 * is logged as what it is: `reason: "ping flood"`, `by: "server"`, not a client's
 * 1006. Real ws clients; the flooder pauses its socket so it reads nothing.
 */
import { setImmediate as tick } from 'node:timers/promises';
import { expect } from 'chai';
import { MAX_PENDING_PONGS } from '../../src/actors/socket-events.ts';
import { eventually, login, openSocket, tcpOf, type Login, type TestSocket } from '../support/client.ts';
import { startNode, type TestNode } from '../support/node.ts';
import { untilLocalSockets } from './support/http.ts';

const PAYLOAD = Buffer.alloc(125, 0x61);

/** `count` masked ping frames (mask key 0, so the payload is sent as is) in one buffer: one write. */
function pingBurst(count: number): Buffer {
  const frame = Buffer.concat([Buffer.from([0x89, 0x80 | PAYLOAD.length, 0, 0, 0, 0]), PAYLOAD]);
  return Buffer.concat(Array.from({ length: count }, () => frame));
}

describe('http ping flood', () => {
  let node: TestNode;
  let alice: Login;
  const logs: string[] = [];
  const open: TestSocket[] = [];

  before(async () => {
    node = await startNode(['--websockets.maxSocketsPerUser', '20'], { logs });
    alice = await login(node.url);
  });
  afterEach(async () => {
    for (const socket of open.splice(0)) {
      socket.ws.resume();
      socket.close();
    }
    await untilLocalSockets(node, 0);
  });
  after(async () => node?.stop());

  async function connect(connection: string): Promise<TestSocket> {
    const socket = await openSocket(node.wsUrl, alice, '/ws/demo', { connection });
    open.push(socket);
    let pongs = 0;
    socket.ws.on('pong', () => pongs++);
    Object.defineProperty(socket, 'pongs', { get: () => pongs });
    return socket;
  }

  /** The node's `ws.closed` line for this connection, once logged. */
  function closeLine(connection: string): any {
    return logs.map((line) => JSON.parse(line)).find((entry) => entry.event === 'ws.closed' && entry.connectionId === connection);
  }

  it('drops a client that floods pings without reading, and logs "ping flood" by the server', async () => {
    const socket = await connect('flooder');
    socket.ws.pause();
    // Batches of 10 pings a turn: no single read holds 60, so what fills the pongs'
    // queue is the client not reading, not one burst. The unread pongs first fill the
    // kernel's buffers (here up to tcp_rmem's 32 MiB plus tcp_wmem's 4 MiB): some
    // 300,000 pings of 125 bytes.
    let sent = 0;
    const started = Date.now();
    while (!closeLine('flooder') && sent < 1_000_000) {
      for (let i = 0; i < 10; i++) socket.ws.ping(PAYLOAD);
      sent += 10;
      await tick();
    }
    const elapsed = Date.now() - started;
    await eventually(() => closeLine('flooder') !== undefined, 'the close line of the flooder');
    const line = closeLine('flooder');
    socket.ws.resume();
    const code = await socket.closedWith();
    console.log(`      ping flood (client not reading): ${sent} pings (${((sent * 131) / 2 ** 20).toFixed(1)} MiB) sent in ${elapsed} ms before the cut; log: code ${line.code}, reason "${line.reason}", by ${line.by}; client saw ${code}`);
    expect({ code: line.code, reason: line.reason, by: line.by }).to.deep.equal({ code: 1006, reason: 'ping flood', by: 'server' });
    expect(code).to.equal(1006);
    expect(sent).to.be.above(MAX_PENDING_PONGS);
  });

  it('answers every ping of a client that pings steadily and reads its pongs, and keeps it open', async () => {
    const socket = (await connect('steady')) as TestSocket & { pongs: number };
    const PINGS = 1000;
    for (let i = 0; i < PINGS; i += 20) {
      for (let j = 0; j < 20; j++) socket.ws.ping(PAYLOAD);
      await eventually(() => socket.pongs >= i + 20, `${i + 20} pongs`);
    }
    console.log(`      steady pinger: ${PINGS} pings, ${socket.pongs} pongs, socket ${socket.ws.readyState === socket.ws.OPEN ? 'open' : 'closed'}`);
    expect(socket.pongs).to.equal(PINGS);
    expect(socket.ws.readyState).to.equal(socket.ws.OPEN);
    expect(closeLine('steady')).to.equal(undefined);
  });

  it(`drops a burst of more than ${MAX_PENDING_PONGS} pings in one read, even from a reading client, and keeps one of fewer`, async () => {
    const small = (await connect('burst-small')) as TestSocket & { pongs: number };
    const SMALL = MAX_PENDING_PONGS - 10;
    tcpOf(small).write(pingBurst(SMALL));
    await eventually(() => small.pongs === SMALL, `${SMALL} pongs`);

    const large = await connect('burst-large');
    const LARGE = MAX_PENDING_PONGS * 3;
    tcpOf(large).write(pingBurst(LARGE));
    const code = await large.closedWith();
    await eventually(() => closeLine('burst-large') !== undefined, 'the close line of the large burst');
    const line = closeLine('burst-large');
    console.log(
      `      bursts: ${SMALL} pings in one write -> ${small.pongs} pongs, open ${small.ws.readyState === small.ws.OPEN}; ${LARGE} in one write -> client saw ${code}, log reason "${line.reason}" by ${line.by}`,
    );
    expect(small.ws.readyState).to.equal(small.ws.OPEN);
    expect(code).to.equal(1006);
    expect({ code: line.code, reason: line.reason, by: line.by }).to.deep.equal({ code: 1006, reason: 'ping flood', by: 'server' });
  });
});
