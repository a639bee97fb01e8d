/**
 * The delivery trace when the broker or a node fails, with real processes: nodes run
 * as `src/main.ts`, the broker as `wsmesh broker`, so the broker can be stopped or
 * frozen and a node frozen (SIGSTOP, then SIGCONT). Produces for real: a publish
 * held, then outbox-limit (the broker away, cluster.outboxLimit 1), stale (the
 * broker frozen past the dedup window with the delivery in it), and a live node
 * that does not answer.
 */
import { expect } from 'chai';
import { admin, eventually, login, openSocket, push, type Login, type TestSocket } from '../support/client.ts';
import { killAllBrokers, MOSQUITTO_NODE_PASSWORD, MOSQUITTO_NODE_USER, startEmbeddedBrokerProcess, type BrokerProcess } from '../support/broker.ts';
import { killAll, startNodeProcess, type NodeProcess } from '../support/process.ts';

const ALICE = { contextId: 1, userId: 3 };

function flags(id: string, broker: BrokerProcess, cluster: string, extra: string[]): string[] {
  return [
    '--node-id',
    id,
    '--route',
    id.toUpperCase(),
    '--broker',
    broker.url,
    '--cluster.name',
    cluster,
    '--session.keys',
    'trace-signing-key',
    '--cluster.username',
    MOSQUITTO_NODE_USER,
    '--cluster.password',
    MOSQUITTO_NODE_PASSWORD,
    '--websockets.remote.delayDuration',
    '0',
    ...extra,
  ];
}

function trace(node: NodeProcess, id: string) {
  return admin(node.url, 'GET', `/api/admin/trace/${id}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the delivery trace under faults (real processes)', function () {
  this.timeout(60_000);
  let broker: BrokerProcess;
  const sockets: TestSocket[] = [];

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    await killAll();
    await killAllBrokers();
  });

  /** Nodes a and b on a broker process; alice logged in on a, her socket `b1` on b, seen by a. */
  async function twoNodes(extra: string[]): Promise<{ a: NodeProcess; b: NodeProcess; onB: TestSocket }> {
    broker = await startEmbeddedBrokerProcess();
    const cluster = `tr${Math.random().toString(36).slice(2, 8)}`;
    const [a, b] = await Promise.all(['a', 'b'].map((id) => startNodeProcess(flags(id, broker, cluster, extra))));
    await eventually(async () => (await Promise.all([a, b].map(async (n) => (await admin(n.url, 'GET', '/api/admin/stats')).body.nodes))).every((count) => count === 2), 'the two nodes to see each other', 10_000);
    const auth: Login = await login(a.url);
    await eventually(async () => (await fetch(`${b.url}/api/session?session=${auth.session}`, { headers: { cookie: auth.cookie } })).status === 200, 'the session on b');
    const onB = await openSocket(`ws://127.0.0.1:${b.port}`, auth, '/ws/a', { connection: 'b1' });
    sockets.push(onB);
    await eventually(async () => (await admin(a.url, 'GET', '/api/admin/sockets?scope=cluster&contextId=1&userId=3')).body.length === 1, 'a to see the socket on b');
    return { a, b, onB };
  }

  it('shows a publish held in the outbox while the broker is away, names outbox-limit for the sockets on other nodes once the outbox is full, and names the nodes that could not be asked', async () => {
    const { a, b, onB } = await twoNodes(['--cluster.outboxLimit', '1', '--cluster.keepalive', '2']);
    await broker.stop('SIGTERM');
    await a.waitForLog((l) => l.event === 'broker.offline' && l.link === 'main', 'a offline', 5000);
    // Without ids: a given id is also announced on P/internal/pushes, which would take the outbox's one place.
    const held = await push(a.url, { ...ALICE, message: 'first' });
    const dropped = await push(a.url, { ...ALICE, message: 'second' });
    expect([held.status, dropped.status]).to.deep.equal([202, 202]);

    expect((await trace(a, held.body.id)).body.publishes.map((p: { outcome: string }) => p.outcome)).to.deep.equal(['held']);
    // Asked now, a cannot reach b (the question finds the outbox full): b is named, not waited for.
    const now = await trace(a, dropped.body.id);
    expect(now.status).to.equal(200);
    expect(now.body.nodes).to.deep.equal({ holding: ['a'], answered: ['a'], unanswered: ['b'], failed: [] });
    expect(now.body.publishes).to.have.length(1);
    expect(now.body.publishes[0]).to.deep.include({ node: 'a', outcome: 'outbox-limit', messages: 1 });
    expect(now.body.notDelivered.map((s: { node: string; connectionId: string; reason: string }) => `${s.node}:${s.connectionId}:${s.reason}`)).to.deep.equal(['b:b1:outbox-limit']);

    await broker.restart();
    await eventually(async () => (await trace(a, dropped.body.id)).body.nodes.unanswered.length === 0, 'b to answer once the broker is back', 15_000);
    const later = (await trace(b, dropped.body.id)).body;
    expect(later.nodes).to.deep.include({ holding: ['a'], unanswered: [] });
    expect(later.nodes.answered).to.deep.equal(['a', 'b']);
    expect(later.received).to.deep.equal([]);
    expect(onB.frames).to.not.include('second');
  });

  it('names stale for the sockets of a node that got the delivery after the dedup window (the broker frozen with it)', async () => {
    // A keepalive far above the freeze: nobody drops the broker meanwhile.
    const { a, b, onB } = await twoNodes(['--websockets.dedupWindow', '500', '--cluster.keepalive', '30']);
    const pid = broker.pid!;
    process.kill(pid, 'SIGSTOP');
    let id: string;
    try {
      const res = await push(a.url, { ...ALICE, message: 'late' });
      expect(res.status).to.equal(202);
      id = res.body.id;
      await sleep(1200);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await eventually(async () => (await trace(b, id)).body.received?.length === 1, 'b to receive the delivery', 10_000);
    const t = (await trace(b, id)).body;
    expect(t.publishes.map((p: { node: string; outcome: string }) => [p.node, p.outcome])).to.deep.equal([['a', 'sent']]);
    expect(t.received.map((r: { node: string; from: string; outcome: string }) => [r.node, r.from, r.outcome])).to.deep.equal([['b', 'a', 'stale']]);
    expect(t.received[0].publish).to.equal(t.publishes[0].publish);
    expect(t.notDelivered.map((s: { node: string; connectionId: string; reason: string }) => `${s.node}:${s.connectionId}:${s.reason}`)).to.deep.equal(['b:b1:stale']);
    expect(t.written).to.deep.equal([]);
    expect(onB.frames).to.deep.equal([]);
    expect((await admin(b.url, 'GET', '/api/admin/stats')).body.counters.messages.dropped.stale).to.equal(1);
  });

  it('names a live node that does not answer (frozen with SIGSTOP) in nodes.unanswered, after cluster.syncTimeout, and hears it again once it runs', async () => {
    const { a, b, onB } = await twoNodes(['--cluster.keepalive', '30', '--cluster.syncTimeout', '1000']);
    const res = await push(a.url, { ...ALICE, id: 'to-b', message: 'hi' });
    expect(res.status).to.equal(202);
    await onB.nextFrames(1);
    const pid = b.child.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      const started = Date.now();
      const t = await trace(a, 'to-b');
      expect(Date.now() - started).to.be.within(900, 5000);
      expect(t.status).to.equal(200);
      expect(t.body.nodes).to.deep.equal({ holding: ['a'], answered: ['a'], unanswered: ['b'], failed: [] });
      expect(t.body.written).to.deep.equal([]);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await eventually(async () => (await trace(a, 'to-b')).body.nodes.unanswered.length === 0, 'b to answer again', 10_000);
    const t = (await trace(a, 'to-b')).body;
    expect(t.written.map((w: { node: string; connectionId: string }) => `${w.node}:${w.connectionId}`)).to.deep.equal(['b:b1']);
  });
});
