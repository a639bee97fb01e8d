/**
 * Faults with real processes: nodes run as `src/main.ts` child processes on a broker
 * that is a process of its own (the embedded broker as `wsmesh broker`, or Mosquitto
 * with the project's mosquitto.conf), so a node or the broker can be killed, frozen
 * and restarted. Every wait is bounded; every count is checked (sent, received,
 * duplicates: none). docs/cluster.md states what each test holds the nodes to.
 */
import { expect } from 'chai';
import mqtt from 'mqtt';
import { admin, eventually, login, openSocket, push, type Login, type TestSocket } from '../support/client.ts';
import { requireBinary } from '../support/binaries.ts';
import { hasMosquitto, killAllBrokers, MOSQUITTO_NODE_PASSWORD, MOSQUITTO_NODE_USER, startEmbeddedBrokerProcess, startMosquitto, type BrokerProcess } from '../support/broker.ts';
import { freePort, killAll, startNodeProcess, type NodeProcess } from '../support/process.ts';

const KEEPALIVE_S = 2;
const ALICE = { contextId: 1, userId: 3 };
const sockets: TestSocket[] = [];

interface Stats {
  nodes: number;
  sockets: { local: number; cluster: number };
  bufferedMessages: number;
  counters: {
    messages: { delivered: number; received: number; dropped: Record<string, number> };
    remote: { publishes: number; sent: number; received: number };
  };
}

interface Row {
  node: string;
  connectionId: string;
}

async function stats(node: NodeProcess): Promise<Stats> {
  return (await admin(node.url, 'GET', '/api/admin/stats')).body;
}

/** `node:connectionId` of alice's sockets in the node's cluster-wide listing, sorted. */
async function aliceRows(node: NodeProcess): Promise<string[]> {
  const rows: Row[] = (await admin(node.url, 'GET', `/api/admin/sockets?scope=cluster&contextId=${ALICE.contextId}&userId=${ALICE.userId}`)).body;
  return rows.map((r) => `${r.node}:${r.connectionId}`).sort();
}

function wsUrl(node: NodeProcess): string {
  return `ws://127.0.0.1:${node.port}`;
}

/** The broker probes use the node account: only it may read the internal subtree. */
const PROBE_ACCOUNT = { username: MOSQUITTO_NODE_USER, password: MOSQUITTO_NODE_PASSWORD };

/** The flags of one node of the test cluster on `broker`. */
function nodeFlags(id: string, broker: BrokerProcess | string, cluster: string, extra: string[] = []): string[] {
  const url = typeof broker === 'string' ? broker : broker.url;
  // Every test broker (Mosquitto, `wsmesh broker`) takes the same node account.
  const credentials = ['--cluster.username', MOSQUITTO_NODE_USER, '--cluster.password', MOSQUITTO_NODE_PASSWORD];
  return ['--node-id', id, '--route', id.toUpperCase(), '--broker', url, '--cluster.name', cluster, '--cluster.keepalive', String(KEEPALIVE_S), '--session.keys', 'faults-signing-key', ...credentials, ...extra];
}

/** Every node counts `count` live nodes (itself included). */
async function clusterFormed(nodes: NodeProcess[], count: number, timeoutMs = 5000): Promise<void> {
  await eventually(async () => (await Promise.all(nodes.map(stats))).every((s) => s.nodes === count), `${nodes.length} nodes to count ${count} nodes`, timeoutMs);
}

/** Opens alice's socket on `node` once her session (issued elsewhere) has reached it. */
async function aliceSocket(node: NodeProcess, auth: Login, connection: string, path = '/ws/demo'): Promise<TestSocket> {
  await eventually(async () => (await fetch(`${node.url}/api/session?session=${auth.session}`, { headers: { cookie: auth.cookie } })).status === 200, `the session on ${node.url}`, 3000);
  const socket = await openSocket(wsUrl(node), auth, path, { connection });
  sockets.push(socket);
  return socket;
}

/** Every node lists exactly `expected` (`node:connectionId`) as alice's sockets. */
async function listingIs(nodes: NodeProcess[], expected: string[], timeoutMs = 3000): Promise<void> {
  const want = [...expected].sort().join(',');
  await eventually(async () => (await Promise.all(nodes.map(aliceRows))).every((rows) => rows.join(',') === want), `every node to list ${want}`, timeoutMs);
}

function pushAlice(node: NodeProcess, message: string) {
  return push(node.url, { ...ALICE, message });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function duplicates(frames: string[]): string[] {
  return frames.filter((frame, i) => frames.indexOf(frame) !== i);
}

/** The retained registry topics a fresh subscriber gets (a clean session, so only what the broker holds). */
async function retainedRegistry(url: string, cluster: string, settleMs = 400): Promise<string[]> {
  const client = await mqtt.connectAsync(url, { clientId: `faults-probe-${Math.random().toString(36).slice(2, 10)}`, clean: true, protocolVersion: 4, reconnectPeriod: 0, ...PROBE_ACCOUNT });
  const topics: string[] = [];
  client.on('message', (topic, payload, packet) => {
    if (packet.retain && payload.length) topics.push(topic);
  });
  try {
    await client.subscribeAsync(`${cluster}/internal/registry/#`, { qos: 1 });
    await sleep(settleMs);
  } finally {
    await client.endAsync(true);
  }
  return topics.sort();
}

/** The epoch of the process that last announced `node`, from its retained presence. */
async function epochOf(url: string, cluster: string, node: string): Promise<string> {
  const client = await mqtt.connectAsync(url, { clientId: `faults-probe-${Math.random().toString(36).slice(2, 10)}`, clean: true, protocolVersion: 4, reconnectPeriod: 0, ...PROBE_ACCOUNT });
  try {
    // Sealed payloads (src/cluster/envelope.ts): w1.<mac>.<json body>.
    const presence = new Promise<{ epoch: string }>((resolve) => client.on('message', (_topic, payload) => payload.length && resolve(JSON.parse(payload.toString().split('.').slice(2).join('.')))));
    await client.subscribeAsync(`${cluster}/internal/presence/${node}`, { qos: 1 });
    const timeout = sleep(2000).then(() => {
      throw new Error(`no retained presence for ${node}`);
    });
    return (await Promise.race([presence, timeout])).epoch;
  } finally {
    await client.endAsync(true);
  }
}

function clusterName(): string {
  return `f${Math.random().toString(36).slice(2, 8)}`;
}

describe('cluster faults (real processes)', function () {
  this.timeout(45000);

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    await killAll();
    await killAllBrokers();
  });

  describe('a node killed with SIGKILL', () => {
    it('is gone from every registry within 2 x keepalive, and pushes reach only the live nodes, once', async () => {
      const broker = await startEmbeddedBrokerProcess();
      const name = clusterName();
      const flags = ['--websockets.remote.delayDuration', '0'];
      const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((id) => startNodeProcess(nodeFlags(id, broker, name, flags))));
      await clusterFormed([a, b, c], 3);
      const auth = await login(a.url);
      await aliceSocket(b, auth, 'on-b');
      const onC = await aliceSocket(c, auth, 'on-c');
      await listingIs([a, c], ['b:on-b', 'c:on-c']);

      const killedAt = Date.now();
      b.child.kill('SIGKILL');
      await eventually(
        async () => {
          const [rowsA, rowsC, statsA, statsC] = await Promise.all([aliceRows(a), aliceRows(c), stats(a), stats(c)]);
          return rowsA.join() === 'c:on-c' && rowsC.join() === 'c:on-c' && statsA.nodes === 2 && statsC.nodes === 2;
        },
        'a and c to forget b',
        2 * KEEPALIVE_S * 1000 + 2000,
      );
      const gone = Date.now() - killedAt;
      console.log(`      dead node gone from the registry in ${gone} ms`);
      expect(gone).to.be.below(2 * KEEPALIVE_S * 1000);

      const before = { a: await stats(a), c: await stats(c) };
      const sent = ['after-1', 'after-2', 'after-3'];
      for (const message of sent) expect((await pushAlice(a, message)).body).to.deep.include({ local: 0, remote: 1 });
      expect(await onC.nextFrames(sent.length)).to.deep.equal(sent);
      await sleep(300); // a duplicate would arrive in this time
      expect(onC.frames).to.deep.equal(sent);
      expect(duplicates(onC.frames)).to.deep.equal([]);
      const after = { a: await stats(a), c: await stats(c) };
      // One inbox publish per push, to c only: nothing was routed to the dead b.
      expect(after.a.counters.remote.publishes - before.a.counters.remote.publishes).to.equal(sent.length);
      expect(after.a.counters.remote.sent - before.a.counters.remote.sent).to.equal(sent.length);
      expect(after.c.counters.remote.received - before.c.counters.remote.received).to.equal(sent.length);
      expect(after.c.counters.messages.dropped.duplicate ?? 0).to.equal(0);
    });
  });

  describe('the broker stopped and restarted (Mosquitto, persistence on)', () => {
    let broker: BrokerProcess;

    before(function () {
      if (!hasMosquitto()) {
        requireBinary('mosquitto'); // throws under CI: a missing broker fails the run
        this.skip();
      }
    });

    /** Nodes a and b on a fresh Mosquitto, alice with a socket on each. */
    async function twoNodes(extraA: string[] = []) {
      broker = await startMosquitto();
      const flags = ['--websockets.remote.delayDuration', '0'];
      // The example ACL grants the node account `wsmesh/internal/#` only.
      const [a, b] = await Promise.all([startNodeProcess(nodeFlags('a', broker, 'wsmesh', [...flags, ...extraA])), startNodeProcess(nodeFlags('b', broker, 'wsmesh', flags))]);
      await clusterFormed([a, b], 2);
      const auth = await login(a.url);
      const onA = await aliceSocket(a, auth, 'on-a');
      const onB = await aliceSocket(b, auth, 'on-b');
      await listingIs([a, b], ['a:on-a', 'b:on-b']);
      return { a, b, onA, onB };
    }

    /** Log lines of `event` from each of a node's two links (main, control). */
    const perLink = (n: NodeProcess, event: string) => ['main', 'control'].map((link) => n.logs.filter((l) => l.event === event && l.link === link).length);

    async function brokerDown(a: NodeProcess, b: NodeProcess): Promise<void> {
      const before = [a, b].map((n) => perLink(n, 'broker.offline'));
      await broker.stop('SIGTERM');
      // Both links of each node: a push while the main link still thinks it is online skips the outbox.
      await Promise.all([a, b].map((n, i) => n.waitForLog(() => perLink(n, 'broker.offline').every((count, link) => count > before[i][link]), 'broker.offline on both links', 5000)));
    }

    async function brokerBack(a: NodeProcess, b: NodeProcess): Promise<void> {
      const before = [a, b].map((n) => perLink(n, 'broker.online'));
      await broker.restart();
      // Backoff is at most 5 s (with jitter): both nodes are back within it.
      await Promise.all([a, b].map((n, i) => n.waitForLog(() => perLink(n, 'broker.online').every((count, link) => count > before[i][link]), 'broker.online again on both links', 8000)));
    }

    it('keeps serving local sockets while it is down, and delivers the held messages after, exactly once, in order', async () => {
      const { a, b, onA, onB } = await twoNodes();
      const before = { a: await stats(a), b: await stats(b) };
      await brokerDown(a, b);

      const fromA = Array.from({ length: 6 }, (_, i) => `a-${i}`);
      const fromB = ['b-0', 'b-1'];
      // Each node still counts the other: its messages for it wait in the outbox.
      for (const message of fromA) expect((await pushAlice(a, message)).body, `push ${message} on a while the broker is down`).to.deep.include({ local: 1, remote: 1 });
      for (const message of fromB) expect((await pushAlice(b, message)).body, `push ${message} on b while the broker is down`).to.deep.include({ local: 1, remote: 1 });
      // Local delivery goes on at once; the other node's messages wait for the broker.
      expect(await onA.nextFrames(fromA.length, 1000)).to.deep.equal(fromA);
      expect(await onB.nextFrames(fromB.length, 1000)).to.deep.equal(fromB);
      await sleep(300);
      expect(onA.frames).to.deep.equal(fromA);
      expect(onB.frames).to.deep.equal(fromB);

      await brokerBack(a, b);
      expect(await onB.nextFrames(fromB.length + fromA.length, 5000)).to.deep.equal([...fromB, ...fromA]);
      expect(await onA.nextFrames(fromA.length + fromB.length, 5000)).to.deep.equal([...fromA, ...fromB]);
      await sleep(500); // a redelivery would arrive in this time
      expect(onB.frames).to.deep.equal([...fromB, ...fromA]);
      expect(onA.frames).to.deep.equal([...fromA, ...fromB]);
      expect(duplicates(onA.frames)).to.deep.equal([]);
      expect(duplicates(onB.frames)).to.deep.equal([]);

      const after = { a: await stats(a), b: await stats(b) };
      expect(after.a.counters.remote.sent - before.a.counters.remote.sent).to.equal(fromA.length);
      expect(after.b.counters.remote.received - before.b.counters.remote.received).to.equal(fromA.length);
      expect(after.b.counters.remote.sent - before.b.counters.remote.sent).to.equal(fromB.length);
      expect(after.a.counters.remote.received - before.a.counters.remote.received).to.equal(fromB.length);
      for (const s of [after.a, after.b]) {
        expect(s.counters.messages.dropped.outboxFull ?? 0).to.equal(0);
        expect(s.counters.messages.dropped.stale ?? 0).to.equal(0);
      }
      // The registry came back with the nodes: each still lists both sockets.
      await listingIs([a, b], ['a:on-a', 'b:on-b']);
    });

    it('holds at most cluster.outboxLimit messages while it is down: the rest are dropped, counted and logged', async () => {
      const { a, b, onA, onB } = await twoNodes(['--cluster.outboxLimit', '5']);
      const before = await stats(a);
      await brokerDown(a, b);

      const sent = Array.from({ length: 12 }, (_, i) => `a-${i}`);
      for (const message of sent) expect((await pushAlice(a, message)).body, `push ${message} on a while the broker is down`).to.deep.include({ local: 1, remote: 1 });
      expect(await onA.nextFrames(sent.length, 1000)).to.deep.equal(sent);
      const down = await stats(a);
      expect((down.counters.messages.dropped.outboxFull ?? 0) - (before.counters.messages.dropped.outboxFull ?? 0)).to.equal(7);
      await eventually(() => a.logs.filter((l) => l.event === 'cluster.outbox_full').length >= 7, 'seven cluster.outbox_full log lines', 1000);
      await sleep(100);
      expect(a.logs.filter((l) => l.event === 'cluster.outbox_full')).to.have.length(7);

      await brokerBack(a, b);
      // The outbox keeps the oldest: the first five, in order.
      expect(await onB.nextFrames(5, 5000)).to.deep.equal(sent.slice(0, 5));
      await sleep(500);
      expect(onB.frames).to.deep.equal(sent.slice(0, 5));
      const after = { a: await stats(a), b: await stats(b) };
      expect(after.b.counters.remote.received).to.equal(5);
      expect(after.a.counters.messages.dropped.outboxFull).to.equal(7);
    });
  });

  describe('a node restarted with the same id', () => {
    it('never delivers what was queued for its previous process, and the old registry entries disappear', async () => {
      const broker = await startEmbeddedBrokerProcess();
      const name = clusterName();
      const flags = ['--websockets.remote.delayDuration', '0'];
      const [a, b] = await Promise.all(['a', 'b'].map((id) => startNodeProcess(nodeFlags(id, broker, name, flags))));
      await clusterFormed([a, b], 2);
      const auth = await login(a.url);
      await aliceSocket(b, auth, 'old');
      await listingIs([a], ['b:old']);
      const oldEpoch = await epochOf(broker.url, name, 'b');
      const oldEntry = `${name}/internal/registry/b/${oldEpoch}/${ALICE.contextId}/${ALICE.userId}`;
      expect(await retainedRegistry(broker.url, name)).to.include(oldEntry);

      // Frozen, b still looks connected to the broker (until 1.5 x keepalive): a routes to it.
      b.child.kill('SIGSTOP');
      const frozenAt = Date.now();
      const stale = Array.from({ length: 5 }, (_, i) => `stale-${i}`);
      for (const message of stale) expect((await pushAlice(a, message)).body).to.deep.include({ local: 0, remote: 1 });
      expect((await stats(a)).counters.remote.sent).to.equal(stale.length);
      await sleep(200); // let the broker take the publishes
      expect(Date.now() - frozenAt).to.be.below(1.5 * KEEPALIVE_S * 1000);
      b.child.kill('SIGKILL');
      await b.exited;

      // The new process first wipes b's persistent session at the broker: what was queued
      // there was for the old process's sockets, which are gone.
      const b2 = await startNodeProcess(nodeFlags('b', broker, name, flags));
      expect(b2.logs.some((l) => l.event === 'broker.session_wiped')).to.equal(true);
      // It learns the cluster from the retained state (presence, sessions) like any new process.
      await clusterFormed([a, b2], 2, 3000).catch((error) => {
        throw new Error(`the restarted b does not see a (retained presence not received?): ${error.message}`);
      });
      const fresh = await aliceSocket(b2, auth, 'new');
      await sleep(300);
      const b2Stats = await stats(b2);
      expect(b2Stats.counters.messages.dropped.duplicate ?? 0).to.equal(0);
      expect(b2Stats.counters.remote.received, 'messages the new b received for the old one').to.equal(0);
      expect(b2Stats.counters.messages.delivered).to.equal(0);
      expect(fresh.frames).to.deep.equal([]);

      // The old process's entries are gone: from a's view, and from the broker's retained state.
      await listingIs([a], ['b:new']);
      await eventually(async () => !(await retainedRegistry(broker.url, name)).some((t) => t.startsWith(`${name}/internal/registry/b/${oldEpoch}/`)), 'no retained entry of the old epoch', 5000);

      expect((await pushAlice(a, 'fresh')).body).to.deep.include({ local: 0, remote: 1 });
      expect(await fresh.nextFrames(1)).to.deep.equal(['fresh']);
      await sleep(300);
      expect(fresh.frames).to.deep.equal(['fresh']);
      expect((await stats(b2)).counters.remote.received).to.equal(1);
    });
  });

  describe('a node whose broker is unreachable at start', () => {
    it('starts within a few seconds, serves its local sockets, and joins the cluster when the broker appears', async () => {
      const port = await freePort();
      const url = `mqtt://127.0.0.1:${port}`;
      const name = clusterName();
      const flags = ['--websockets.remote.delayDuration', '0'];
      const started = Date.now();
      const a = await startNodeProcess(nodeFlags('a', url, name, flags));
      const startup = Date.now() - started;
      expect(a.logs.some((l) => l.event === 'broker.unreachable_at_start')).to.equal(true);
      expect(startup).to.be.below(8000);

      const auth = await login(a.url);
      const onA = await aliceSocket(a, auth, 'on-a');
      expect((await pushAlice(a, 'alone')).body).to.deep.include({ local: 1, remote: 0 });
      expect(await onA.nextFrames(1)).to.deep.equal(['alone']);

      const broker = await startEmbeddedBrokerProcess(port);
      const b = await startNodeProcess(nodeFlags('b', broker, name, flags));
      await clusterFormed([a, b], 2, 8000);
      // The session issued while a was alone reaches b: a republishes its state on joining.
      const onB = await aliceSocket(b, auth, 'on-b');
      await listingIs([a, b], ['a:on-a', 'b:on-b']);
      expect((await pushAlice(a, 'joined')).body).to.deep.include({ local: 1, remote: 1 });
      expect(await onB.nextFrames(1)).to.deep.equal(['joined']);
      expect(await onA.nextFrames(2)).to.deep.equal(['alone', 'joined']);
      await sleep(300);
      expect(onB.frames).to.deep.equal(['joined']);
      expect(onA.frames).to.deep.equal(['alone', 'joined']);
    });
  });
});
