/**
 * Recovery on reconnect, on real processes and real brokers: a client's node is left
 * (plain disconnect), drained (SIGTERM: 1001) or killed (SIGKILL) while a numbered
 * stream of pushes keeps coming through two other nodes, with no pause; the client
 * reconnects to another node at once with its offset and must end with every
 * number exactly once, each node's numbers in order. The raw protocol's envelope
 * with `since=`, and Socket.IO's own connection state recovery with the stock
 * socket.io-client 4 (through a TCP forwarder standing in for the sticky proxy).
 * On the embedded broker (`wsmesh broker`, a process of its own), Mosquitto, and a
 * 3-server NATS cluster. Each test prints what it counted.
 */
import { expect } from 'chai';
import WebSocket from 'ws';
import { io, type Socket } from 'socket.io-client';
import { eventually, login, push, type Login } from '../support/client.ts';
import { killAllBrokers, MOSQUITTO_NODE_ACCOUNTS, startEmbeddedBrokerProcess, startMosquitto, type BrokerProcess } from '../support/broker.ts';
import { startNatsCluster, type NatsCluster } from '../support/nats.ts';
import { killAll, startNodeProcess, type NodeProcess } from '../support/process.ts';
import { requireBroker, type BrokerKind } from '../cluster/support.ts';
import { TcpForwarder } from '../support/tcp-forwarder.ts';
import { checkStream, type StreamReport } from './stream-check.ts';

const TOTAL = 1200;
const SIO_TOTAL = 600;
const LEAVE_AT = 300;
const BROKERS: BrokerKind[] = ['embedded', 'mosquitto', 'nats'];
type Leave = 'disconnect' | 'drain' | 'kill';
const LEAVES: Leave[] = ['disconnect', 'drain', 'kill'];

interface Env {
  broker?: BrokerProcess;
  nats?: NatsCluster;
  flags(index: number): string[];
}

async function brokerEnv(kind: BrokerKind): Promise<Env> {
  const common = (i: number) => [
    '--cluster.name',
    'wsmesh',
    '--session.keys',
    'recovery-signing-key',
    '--cluster.username',
    MOSQUITTO_NODE_ACCOUNTS[i].username,
    '--cluster.password',
    MOSQUITTO_NODE_ACCOUNTS[i].password,
    '--server.drainDuration',
    '200',
    // A ring longer than the stream: what is tested is that nothing is lost or repeated,
    // not how long the client may be away (recovery-rules.spec.ts tests the bounds).
    '--websockets.history.size',
    '2000',
    // Coalescing on, but short: the stream still rides batches.
    '--websockets.remote.delayDuration',
    '20',
    '--websockets.remote.maxDelayDuration',
    '100',
    '--websockets.remote.timerFrequency',
    '10',
  ];
  if (kind === 'nats') {
    const nats = await startNatsCluster();
    return { nats, flags: (i) => ['--broker', nats.brokerSetting(i), '--cluster.keepalive', '10', '--cluster.syncTimeout', '5000', '--cluster.fastPath', 'true', '--mqtt.ingressQos', '0', ...common(i)] };
  }
  const broker = kind === 'embedded' ? await startEmbeddedBrokerProcess() : await startMosquitto();
  // `wsmesh broker` takes the first node account only.
  return { broker, flags: (i) => ['--broker', broker.url, '--cluster.keepalive', '2', ...common(kind === 'embedded' ? 0 : i)] };
}

async function startMember(env: Env, id: string, index: number): Promise<NodeProcess> {
  return startNodeProcess(['--node-id', id, '--route', id.toUpperCase(), ...env.flags(index)]);
}

async function liveNodes(node: NodeProcess): Promise<number> {
  const response = await fetch(`${node.url}/api/admin/stats`, { headers: { authorization: 'Bearer test-admin-token' } });
  return ((await response.json()) as { nodes: number }).nodes;
}

function ws(node: NodeProcess | TcpForwarder): string {
  return `ws://127.0.0.1:${node.port}`;
}

/** Pushes 1..total to alice without a pause, odd numbers through `odd`, even through `even`. */
/** Set by a test's cleanup: a stream still pushing after its test failed stops, and does not feed the next test. */
let stopPushing = false;

async function pushStream(odd: NodeProcess, even: NodeProcess, total: number): Promise<void> {
  // Ids of their own per stream: an id is a duplicate cluster-wide for websockets.dedupWindow.
  const run = Math.random().toString(36).slice(2, 8);
  stopPushing = false;
  for (let n = 1; n <= total && !stopPushing; n++) {
    const node = n % 2 ? odd : even;
    const { status } = await push(node.url, { id: `${run}-${n}`, contextId: 1, userId: 3, message: String(n) });
    if (status !== 202) throw new Error(`push ${n} answered ${status}`);
  }
}

/** A raw-protocol client with the envelope: records numbers, control frames and its last offset. */
class EnvelopeClient {
  numbers: number[] = [];
  controls: Array<Record<string, unknown>> = [];
  offset: string | undefined;
  socket: WebSocket | undefined;
  closeCode: number | undefined;

  open(url: string, auth: Login, since?: string): Promise<void> {
    const query = new URLSearchParams({ session: auth.session, connection: `c${Math.random().toString(36).slice(2, 8)}`, envelope: '1', ...(since ? { since } : {}) });
    const socket = new WebSocket(`${url}/ws/demo?${query}`, { headers: { cookie: auth.cookie } });
    this.socket = socket;
    this.closeCode = undefined;
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Record<string, unknown>;
      if (frame.type) {
        this.controls.push(frame);
        return;
      }
      this.numbers.push(Number(frame.message));
      this.offset = frame.offset as string;
    });
    socket.on('close', (code) => (this.closeCode = code));
    socket.on('error', () => undefined);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
    });
  }

  drop(): void {
    this.socket?.terminate();
  }
}

function report(label: string, result: StreamReport, extra: string): void {
  console.log(`      ${label}: received ${result.received} of ${TOTAL}, missing ${result.missing.length}, duplicates ${result.duplicates.length}, out of order ${result.outOfOrder.length}; ${extra}`);
}

const via = (a: string, c: string) => (n: number) => (n % 2 ? a : c);

for (const kind of BROKERS) {
  describe(`recovery on reconnect, on ${kind} (real processes)`, function () {
    this.timeout(kind === 'nats' ? 180_000 : 90_000);
    let env: Env;
    let a: NodeProcess;
    let c: NodeProcess;
    let auth: Login;
    const cleanups: Array<() => unknown> = [];

    before(async function () {
      requireBroker(this, kind);
      env = await brokerEnv(kind);
      [a, c] = await Promise.all([startMember(env, 'a', 0), startMember(env, 'c', 2)]);
      auth = await login(a.url);
    });

    after(async () => {
      await killAll();
      await env?.nats?.stop();
      await killAllBrokers();
    });

    afterEach(async () => {
      stopPushing = true;
      for (const cleanup of cleanups.splice(0)) await cleanup();
    });

    let bCount = 0;

    /**
     * Node b, for the client to be on; the test may drain or kill it. A new node id
     * (so a new MQTT client id) each time: a killed b's session may still be open on
     * the broker until its keepalive runs out, and NATS ends the newer of two.
     */
    async function nodeB(): Promise<NodeProcess> {
      const b = await startMember(env, `b${++bCount}`, 1);
      cleanups.push(() => b.child.kill('SIGKILL'));
      await eventually(async () => (await liveNodes(a)) === 3 && (await liveNodes(c)) === 3, 'a, b and c to see each other', kind === 'nats' ? 30_000 : 5000);
      return b;
    }

    async function leave(how: Leave, b: NodeProcess, drop: () => void): Promise<void> {
      if (how === 'disconnect') drop();
      else b.child.kill(how === 'drain' ? 'SIGTERM' : 'SIGKILL');
    }

    for (const how of LEAVES) {
      it(`raw protocol: after a ${how}, the client reconnects on another node with since= and gets ${TOTAL} numbers, each once, in order`, async () => {
        const b = await nodeB();
        const client = new EnvelopeClient();
        await client.open(ws(b), auth);
        await eventually(() => client.controls.length > 0, 'the stream frame');
        expect(client.controls[0]).to.include({ type: 'stream' });
        const pushing = pushStream(a, c, TOTAL);
        await eventually(() => client.numbers.length >= LEAVE_AT, `${LEAVE_AT} numbers on b (have ${client.numbers.length})`, 20_000).catch((error: Error) => {
          throw new Error(`${error.message}; b logged: ${b.stderr.filter((l) => !l.includes('"level":"info"')).slice(-5).join('\n')}`);
        });
        await leave(how, b, () => client.drop());
        await eventually(() => client.closeCode !== undefined, 'the socket on b to close', 10_000);
        const at = client.numbers.length;
        // At once, with what the client holds: no pause between the steps.
        await client.open(ws(c), auth, client.offset);
        await pushing;
        await eventually(() => new Set(client.numbers).size >= TOTAL, `all ${TOTAL} numbers (have ${new Set(client.numbers).size})`, 10_000).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 300)); // a duplicate would arrive in this time
        const recovery = client.controls.find((frame) => frame.type === 'recovery');
        const result = checkStream(client.numbers, TOTAL, via('a', 'c'));
        report(`${kind}, raw, ${how}`, result, `closed with ${client.closeCode} after ${at}, recovery ${JSON.stringify(recovery)}`);
        if (result.missing.length || !recovery?.recovered) {
          console.log(`      missing: ${result.missing.slice(0, 20).join(' ')}; around the leave: ${client.numbers.slice(at - 5, at + 5).join(' ')}; c logged ${JSON.stringify(c.logs.filter((l) => l.event === 'stream.opened').slice(-1))}`);
        }
        expect(recovery).to.include({ type: 'recovery', recovered: true });
        expect(result.missing).to.deep.equal([]);
        expect(result.duplicates).to.deep.equal([]);
        expect(result.outOfOrder).to.deep.equal([]);
        client.drop();
      });

      it(`Socket.IO (stock client 4): after a ${how}, socket.recovered is true on another node and the missed events arrive`, async () => {
        const b = await nodeB();
        const proxy = await new TcpForwarder(b.port).listen();
        cleanups.push(() => proxy.close());
        const socket: Socket = io(proxy.url, {
          path: '/socket.io/appsuite',
          transports: ['websocket'],
          query: { session: auth.session, connection: `sio${Math.random().toString(36).slice(2, 8)}` },
          extraHeaders: { cookie: auth.cookie },
          forceNew: true,
          reconnectionDelay: 50,
          reconnectionDelayMax: 200,
          randomizationFactor: 0,
        });
        cleanups.push(() => socket.close());
        const numbers: number[] = [];
        const recoveredAt: boolean[] = [];
        socket.on('message', (message: string) => numbers.push(Number(message)));
        socket.on('connect', () => recoveredAt.push(socket.recovered));
        await eventually(() => socket.connected, 'the first connect', 10_000);
        const pushing = pushStream(a, c, SIO_TOTAL);
        await eventually(() => numbers.length >= LEAVE_AT / 2, `${LEAVE_AT / 2} events`, 20_000);
        // The proxy sends the next connection to c; the client only reconnects.
        proxy.retarget(c.port);
        await leave(how, b, () => proxy.drop());
        await pushing;
        await eventually(() => recoveredAt.length >= 2 && new Set(numbers).size >= SIO_TOTAL, `the reconnect and all ${SIO_TOTAL} events`, 10_000).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 300));
        const result = checkStream(numbers, SIO_TOTAL, via('a', 'c'));
        console.log(`      ${kind}, Socket.IO, ${how}: received ${result.received} of ${SIO_TOTAL}, missing ${result.missing.length}, duplicates ${result.duplicates.length}, out of order ${result.outOfOrder.length}; connects ${JSON.stringify(recoveredAt)}`);
        if (result.missing.length) console.log(`      missing: ${result.missing.slice(0, 20).join(' ')}; c logged ${JSON.stringify(c.logs.filter((l) => l.event === 'stream.opened').slice(-1))}`);
        expect(recoveredAt).to.deep.equal([false, true]);
        expect(result.missing).to.deep.equal([]);
        expect(result.duplicates).to.deep.equal([]);
        expect(result.outOfOrder).to.deep.equal([]);
      });
    }
  });
}
