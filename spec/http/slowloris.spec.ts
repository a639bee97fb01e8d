/**
 * Half-open requests (slowloris) are cut after `server.headersTimeout`, checked
 * every tenth of it (http-timeouts.ts), instead of holding a file descriptor each
 * for Node's 60 s; a normal client is served meanwhile, and open sockets, which
 * are no longer requests, are not cut.
 */
import net from 'node:net';
import { expect } from 'chai';
import { loadConfig } from '../../src/config/index.ts';
import { requestTimeouts } from '../../src/http/http-timeouts.ts';
import { eventually, login, openSocket, push, type TestSocket } from '../support/client.ts';
import { startNode, type TestNode } from '../support/node.ts';
import { ADMIN, expectHealthy, untilLocalSockets } from './support/http.ts';

type Kind = 'partial request line' | 'partial headers' | 'dribbled headers' | 'nothing sent';
const KINDS: Kind[] = ['partial request line', 'partial headers', 'dribbled headers', 'nothing sent'];

interface HalfOpen {
  kind: Kind;
  socket: net.Socket;
  connectedAt: number;
  closedAt?: number;
  answer: string;
}

/** Opens one half-open request of `kind` on `port`; resolves once connected and its first bytes are written. */
function halfOpen(port: number, kind: Kind, index: number): Promise<HalfOpen> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const entry: HalfOpen = { kind, socket, connectedAt: 0, answer: '' };
    let dribble: NodeJS.Timeout | undefined;
    socket.on('data', (chunk) => (entry.answer += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      entry.closedAt = Date.now();
      clearInterval(dribble);
    });
    socket.once('connect', () => {
      entry.connectedAt = Date.now();
      const head = `GET /ws/demo?connection=slow-${index} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n`;
      if (kind === 'partial request line') socket.write('GET /ws/de');
      if (kind === 'partial headers') socket.write(head);
      if (kind === 'dribbled headers') {
        // The classic slowloris: a new header line now and then, never the blank line.
        socket.write(head);
        let n = 0;
        dribble = setInterval(() => socket.write(`X-Slow-${n++}: ${n}\r\n`), 400);
      }
      resolve(entry);
    });
    socket.once('error', reject);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

describe('http slowloris', () => {
  describe('with the defaults (server.headersTimeout 5000, server.requestTimeout 10000)', () => {
    let node: TestNode;
    let halves: HalfOpen[] = [];
    let socket: TestSocket | undefined;

    before(async () => {
      node = await startNode();
    });
    after(async () => {
      for (const half of halves) half.socket.destroy();
      socket?.close();
      await node?.stop();
    });

    it('cuts 500 half-open requests within the headers timeout plus one check, while a normal client is served', async () => {
      const { headersTimeout, connectionsCheckingInterval } = requestTimeouts(node.config.server);
      const port = Number(new URL(node.url).port);
      const COUNT = 500;
      // In batches: 500 SYNs at once could overflow the listen backlog (511).
      for (let i = 0; i < COUNT; i += 50) {
        halves.push(...(await Promise.all(Array.from({ length: 50 }, (_, j) => halfOpen(port, KINDS[(i + j) % KINDS.length]!, i + j)))));
      }
      const openedAt = Date.now();

      // A normal client, while the 500 wait: a login, a socket, a push to it, the health check.
      const alice = await login(node.url);
      socket = await openSocket(node.wsUrl, alice, '/ws/demo', { connection: 'normal' });
      expect((await push(node.url, { contextId: 1, userId: 3, message: 'during the storm' })).status).to.equal(202);
      expect(await socket.nextFrames(1)).to.deep.equal(['during the storm']);
      await expectHealthy(node);
      const servedIn = Date.now() - openedAt;
      const stillOpen = halves.filter((half) => half.closedAt === undefined).length;

      const bound = headersTimeout + connectionsCheckingInterval;
      await eventually(() => halves.every((half) => half.closedAt !== undefined), `all ${COUNT} half-open requests cut`, bound + 5000);

      const lifetimes = halves.map((half) => half.closedAt! - half.connectedAt).sort((a, b) => a - b);
      const answered408 = halves.filter((half) => half.answer.startsWith('HTTP/1.1 408')).length;
      const perKind = KINDS.map((kind) => `${kind} ${halves.filter((half) => half.kind === kind && half.closedAt !== undefined).length}`).join(', ');
      console.log(
        `      slowloris: ${COUNT} half-open, ${lifetimes.length} cut (${perKind}); ${answered408} answered 408; cut after min ${lifetimes[0]} ms, p50 ${percentile(lifetimes, 50)}, p99 ${percentile(lifetimes, 99)}, max ${lifetimes.at(-1)} ms (headersTimeout ${headersTimeout} + check every ${connectionsCheckingInterval} ms)`,
      );
      console.log(`      normal client: login, socket, push and healthz served in ${servedIn} ms, with ${stillOpen} half-open requests still held`);
      expect(stillOpen, 'the normal client was served while the half-open requests were held').to.be.above(COUNT / 2);
      // Not before the timeout (a real client that is merely slow is given all of it),
      // and not after the check that follows it, with 1 s of room for a loaded machine.
      expect(lifetimes[0]).to.be.at.least(headersTimeout - 100);
      expect(lifetimes.at(-1)).to.be.at.most(bound + 1000);

      // The socket opened meanwhile is no request: it outlived every cut.
      expect(socket.ws.readyState).to.equal(socket.ws.OPEN);
      expect(node.node.index.size).to.equal(1);
    });
  });

  describe('with short timeouts (headersTimeout 400, requestTimeout 1000)', () => {
    let node: TestNode;

    before(async () => {
      node = await startNode(['--server.headersTimeout', '400', '--server.requestTimeout', '1000']);
    });
    after(async () => node?.stop());

    it('cuts a request whose body never ends after requestTimeout, and leaves an open socket alone past both', async () => {
      const alice = await login(node.url);
      const socket = await openSocket(node.wsUrl, alice, '/ws/demo', { connection: 'long' });

      const port = Number(new URL(node.url).port);
      const slowBody = net.connect(port, '127.0.0.1');
      let answer = '';
      slowBody.on('data', (chunk) => (answer += chunk.toString('latin1')));
      const started = Date.now();
      await new Promise<void>((resolve) => slowBody.once('connect', () => resolve()));
      // Authorized, so the route waits for the body (a refusal would be answered at once).
      slowBody.write(`POST /api/push HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${ADMIN.authorization}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"contextId":`);
      const cutAfter = await new Promise<number>((resolve) => slowBody.once('close', () => resolve(Date.now() - started)));

      // Past both timeouts, the socket still takes pushes.
      await new Promise((resolve) => setTimeout(resolve, 1500 - (Date.now() - started)));
      expect((await push(node.url, { contextId: 1, userId: 3, message: 'still here' })).status).to.equal(202);
      const frames = await socket.nextFrames(1);
      console.log(`      slow body: cut after ${cutAfter} ms (requestTimeout 1000), answer "${answer.split('\r\n')[0]}"; socket open for ${Date.now() - started} ms got ${frames.length} push`);
      expect(answer.startsWith('HTTP/1.1 408')).to.equal(true);
      expect(cutAfter).to.be.within(1000 - 100, 1000 + 100 + 1000);
      expect(socket.ws.readyState).to.equal(socket.ws.OPEN);
      socket.close();
      await untilLocalSockets(node, 0);
    });
  });

  describe('config', () => {
    it('refuses a headers timeout longer than the request timeout (Node would refuse to start)', () => {
      expect(() => loadConfig({ argv: ['--server.headersTimeout', '20000', '--server.requestTimeout', '10000'], env: {} })).to.throw(/server\.headersTimeout[\s\S]*server\.requestTimeout/);
    });

    it('checks for late requests every tenth of the headers timeout, between 100 ms and 1 s', () => {
      const table: Array<[number, number]> = [
        [100, 100],
        [400, 100],
        [5000, 500],
        [10000, 1000],
        [60000, 1000],
      ];
      for (const [headersTimeout, interval] of table) {
        expect(requestTimeouts({ headersTimeout, requestTimeout: 60000 })).to.deep.equal({ headersTimeout, requestTimeout: 60000, connectionsCheckingInterval: interval });
      }
    });
  });
});
