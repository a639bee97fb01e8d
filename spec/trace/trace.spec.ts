/**
 * GET /api/admin/trace/<id> with real nodes, real sockets and a real broker (three
 * in-process nodes on the embedded broker, or a node alone): every reason a socket
 * did not get a message is produced for real and read back from another node.
 * The reasons that need a broker away or slow (outbox-limit, stale) and an
 * unresponsive node are in trace-faults.spec.ts, with processes.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { Directory } from '../../src/directory/directory.ts';
import { admin, eventually, login, openSocket, push, type Login, type TestSocket } from '../support/client.ts';
import { DEMO_DIRECTORY, startNode, type TestNode } from '../support/node.ts';
import { registrySettled, startCluster, type TestCluster } from '../cluster/support.ts';

const ALICE = { contextId: 1, userId: 3 };
/** Pushes wait 300 ms in the buffer: three pushes in a row share one publish. */
const COALESCE = ['--websockets.remote.delayDuration', '300', '--websockets.remote.timerFrequency', '50'];

function trace(node: TestNode, id: string, token?: string) {
  return admin(node.url, 'GET', `/api/admin/trace/${id}`, token);
}

describe('GET /api/admin/trace/<id>', function () {
  this.timeout(30_000);
  let cluster: TestCluster | undefined;
  let single: TestNode | undefined;
  const sockets: TestSocket[] = [];

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    await cluster?.stop();
    await single?.stop();
    cluster = single = undefined;
  });

  async function aliceOn(node: TestNode, auth: Login, path: string, connection: string): Promise<TestSocket> {
    await eventually(() => node.node.sessions.get(auth.session) !== undefined, `the session on ${node.config.node.id}`);
    const socket = await openSocket(node.wsUrl, auth, path, { connection });
    sockets.push(socket);
    return socket;
  }

  describe('across the cluster', () => {
    it('shows where it was accepted, the publish it was coalesced into, the nodes that received it, the sockets written and why the others were not (path-filter, source-token)', async () => {
      cluster = await startCluster('embedded', COALESCE);
      const { a, b, c } = cluster.nodes;
      const auth = await login(a.url);
      const a1 = await aliceOn(a, auth, '/ws/a', 'a1');
      const b1 = await aliceOn(b, auth, '/ws/a', 'b1');
      await aliceOn(b, auth, '/ws/b', 'b2');
      await aliceOn(c, auth, '/ws/a', 'src');
      await registrySettled(cluster, 1, 3, 4);
      for (const id of ['t-1', 't-2', 't-3']) {
        const res = await push(a.url, { ...ALICE, id, message: `secret text ${id}`, pathFilter: '/ws/a', sourceToken: 'src' });
        expect(res.status).to.equal(202);
      }
      await b1.nextFrames(3);
      await a1.nextFrames(3);

      // Asked on c, which neither accepted it nor wrote it anywhere.
      const res = await trace(c, 't-2');
      expect(res.status).to.equal(200);
      const t = res.body;
      expect(JSON.stringify(t)).to.not.include('secret text');
      expect(t.id).to.equal('t-2');
      expect(t.kept).to.equal(false);
      expect(t.accepted).to.have.length(1);
      expect(t.accepted[0]).to.deep.include({ node: 'a', contextId: 1, userId: 3, pathFilter: '/ws/a', sourceToken: 'src' });
      expect(t.queued.map((q: { node: string }) => q.node)).to.deep.equal(['a']);
      expect(t.publishes).to.have.length(1);
      const [publish] = t.publishes;
      expect(publish).to.deep.include({ node: 'a', topic: `${a.config.cluster.name}/internal/deliver/1/3`, messages: 3, outcome: 'sent' });
      expect(publish.publish).to.match(/^a:\d+$/);
      expect(t.coalesced).to.deep.equal([{ node: 'a', at: publish.at, publish: publish.publish, with: 2 }]);
      expect(t.received.map((r: { node: string; from: string; publish: string; outcome: string }) => [r.node, r.from, r.publish, r.outcome])).to.have.deep.members([
        ['b', 'a', publish.publish, 'delivered'],
        ['c', 'a', publish.publish, 'delivered'],
      ]);
      expect(t.written.map((w: { node: string; connectionId: string }) => `${w.node}:${w.connectionId}`)).to.have.members(['a:a1', 'b:b1']);
      expect(t.notDelivered.map((s: { node: string; connectionId: string; reason: string }) => `${s.node}:${s.connectionId}:${s.reason}`)).to.have.members(['b:b2:path-filter', 'c:src:source-token']);
      expect(t.nodes).to.deep.equal({ holding: ['a', 'b', 'c'], answered: ['a', 'b', 'c'], unanswered: [], failed: [] });
      for (const list of ['accepted', 'publishes', 'received', 'written', 'notDelivered']) for (const e of t[list]) expect(e.at, list).to.be.a('number').within(Date.now() - 20_000, Date.now());
    });

    it('names no-socket when no node holds a socket of the user', async () => {
      cluster = await startCluster('embedded');
      const { a, b } = cluster.nodes;
      const res = await push(a.url, { contextId: 1, userId: 4, id: 'nobody-home', message: 'hi' });
      expect(res.body).to.deep.include({ local: 0, remote: 0 });
      const t = (await trace(b, 'nobody-home')).body;
      expect(t.notDelivered.map((s: { node: string; connectionId: string | null; reason: string }) => [s.node, s.connectionId, s.reason])).to.deep.equal([['a', null, 'no-socket']]);
      expect(t.written).to.deep.equal([]);
    });

    it('names duplicate for the sockets a repeated id did not reach (the repeat is refused, the first push had missed them)', async () => {
      cluster = await startCluster('embedded', ['--websockets.remote.delayDuration', '0']);
      const { a, b } = cluster.nodes;
      const auth = await login(a.url);
      const onB = await aliceOn(b, auth, '/ws/a', 'b1');
      await registrySettled(cluster, 1, 3, 1);
      expect((await push(a.url, { ...ALICE, id: 'dup-1', message: 'one', pathFilter: '/ws/x' })).status).to.equal(202);
      await eventually(async () => (await trace(a, 'dup-1')).body.received?.length === 1, 'b to receive the first push');
      const repeat = await push(a.url, { ...ALICE, id: 'dup-1', message: 'two' });
      expect(repeat.body).to.deep.equal({ id: 'dup-1', local: 0, remote: 0, duplicate: true });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(onB.frames).to.deep.equal([]);
      const t = (await trace(b, 'dup-1')).body;
      expect(t.refused).to.have.length(1);
      expect(t.refused[0]).to.deep.include({ node: 'a', reason: 'duplicate' });
      expect(t.notDelivered.map((s: { node: string; connectionId: string; reason: string }) => `${s.node}:${s.connectionId}:${s.reason}`)).to.deep.equal(['b:b1:path-filter', 'b:b1:duplicate']);
    });

    it('names disabled for the sockets of a user a directory reload disabled while they were open, which get nothing more', async () => {
      cluster = await startCluster('embedded', ['--websockets.remote.delayDuration', '0']);
      const { a, b } = cluster.nodes;
      const auth = await login(a.url);
      const onB = await aliceOn(b, auth, '/ws/a', 'b1');
      await registrySettled(cluster, 1, 3, 1);
      // The reload the directory watcher makes: alice is disabled on b from now on.
      const text = JSON.parse(readFileSync(DEMO_DIRECTORY, 'utf8'));
      text.users.find((u: { id: number; context: number }) => u.id === 3 && u.context === 1).enabled = false;
      b.node.applyDirectory(Directory.parse(JSON.stringify(text), 'disabled.json'));
      expect((await push(a.url, { ...ALICE, id: 'to-disabled', message: 'hi' })).status).to.equal(202);
      await eventually(async () => (await trace(a, 'to-disabled')).body.notDelivered?.length === 1, 'b to skip the socket');
      const t = (await trace(a, 'to-disabled')).body;
      expect(t.notDelivered.map((s: { node: string; connectionId: string; reason: string }) => `${s.node}:${s.connectionId}:${s.reason}`)).to.deep.equal(['b:b1:disabled']);
      expect(t.received.map((r: { node: string; outcome: string }) => [r.node, r.outcome])).to.deep.equal([['b', 'delivered']]);
      expect(onB.frames).to.deep.equal([]);
      expect((await admin(b.url, 'GET', '/api/admin/stats')).body.counters.messages.dropped.disabled).to.equal(1);
    });
  });

  describe('on one node', () => {
    it('names slow-consumer for the socket closed with 1013 by the push that overflowed it', async () => {
      single = await startNode(['--websockets.maxBufferedBytes', '65536']);
      const auth = await login(single.url);
      const slow = await openSocket(single.wsUrl, auth, '/ws/slow', { connection: 'slow' });
      const fast = await openSocket(single.wsUrl, auth, '/ws/fast', { connection: 'fast' });
      sockets.push(slow, fast);
      (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const chunk = 'x'.repeat(32 * 1024);
      let n = 0;
      while (single.node.stats.slowConsumerCloses === 0 && n < 2000) await push(single.url, { ...ALICE, id: `s-${++n}`, message: chunk, pathFilter: '/ws/slow' });
      expect(single.node.stats.slowConsumerCloses).to.equal(1);
      // Still closing (the client reads nothing, so the close handshake waits): a later push finds it closed as a slow consumer.
      await push(single.url, { ...ALICE, id: 'after-1013', message: 'late', pathFilter: '/ws/slow' });
      (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      expect(await slow.closedWith(5000)).to.equal(1013);
      expect((await trace(single, 'after-1013')).body.notDelivered.map((s: { connectionId: string; reason: string }) => `${s.connectionId}:${s.reason}`)).to.have.members(['slow:slow-consumer', 'fast:path-filter']);

      const overflow = (await trace(single, `s-${n}`)).body;
      expect(overflow.notDelivered.map((s: { connectionId: string; reason: string }) => `${s.connectionId}:${s.reason}`)).to.have.members(['slow:slow-consumer', 'fast:path-filter']);
      expect(overflow.written).to.deep.equal([]);
      if (n > 1) expect((await trace(single, 's-1')).body.written.map((w: { connectionId: string }) => w.connectionId)).to.deep.equal(['slow']);
      expect(overflow.nodes).to.deep.equal({ holding: ['test-node'], answered: ['test-node'], unanswered: [], failed: [] });
    });

    it('names closing for a socket closing for another reason (an operator closed it; the client has not answered the close yet)', async () => {
      single = await startNode();
      const auth = await login(single.url);
      const socket = await openSocket(single.wsUrl, auth, '/ws/a', { connection: 'leaving' });
      sockets.push(socket);
      (socket.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      expect((await admin(single.url, 'DELETE', '/api/admin/sockets?contextId=1&userId=3')).body).to.deep.equal({ closed: 1 });
      await push(single.url, { ...ALICE, id: 'to-closing', message: 'late' });
      (socket.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      expect(await socket.closedWith(5000)).to.equal(4403);
      const t = (await trace(single, 'to-closing')).body;
      expect(t.notDelivered.map((s: { connectionId: string; reason: string }) => `${s.connectionId}:${s.reason}`)).to.deep.equal(['leaving:closing']);
      expect(socket.frames).to.deep.equal([]);
    });

    it('keeps a push with "trace": true past the ring of the last trace.size messages, and forgets the others', async () => {
      single = await startNode(['--trace.size', '2', '--trace.keep', '1']);
      expect((await push(single.url, { ...ALICE, id: 'keep-me', message: 'm', trace: true })).status).to.equal(202);
      for (let i = 0; i < 5; i++) await push(single.url, { ...ALICE, id: `other-${i}`, message: 'm' });
      const kept = await trace(single, 'keep-me');
      expect(kept.status).to.equal(200);
      expect(kept.body.kept).to.equal(true);
      expect(kept.body.notDelivered[0]).to.deep.include({ reason: 'no-socket' });
      expect((await trace(single, 'other-4')).body.kept).to.equal(false);
      expect((await trace(single, 'other-0')).status).to.equal(404);
    });

    it('refuses "trace" that is not a boolean', async () => {
      single = await startNode();
      const res = await push(single.url, { ...ALICE, message: 'm', trace: 'yes' });
      expect(res.status).to.equal(400);
      expect(res.body.error).to.equal('ERR_BAD_REQUEST');
    });
  });

  describe('bad requests', () => {
    it('answers 404 ERR_MESSAGE_UNKNOWN for an id no node holds, 401 without the admin token, 400 for an id that is not one, 405 for another method', async () => {
      single = await startNode();
      const unknown = await trace(single, 'never-pushed');
      expect(unknown.status).to.equal(404);
      expect(unknown.body.error).to.equal('ERR_MESSAGE_UNKNOWN');
      expect(unknown.body.message).to.be.a('string').and.include('never-pushed');

      const anonymous = await fetch(`${single.url}/api/admin/trace/never-pushed`);
      expect(anonymous.status).to.equal(401);
      expect(anonymous.headers.get('www-authenticate')).to.match(/^Bearer/);
      expect((await anonymous.json()).error).to.equal('ERR_ADMIN_AUTH');
      expect((await trace(single, 'never-pushed', 'wrong-token')).status).to.equal(401);

      for (const bad of ['has%20space', 'a/b', 'x'.repeat(129), '%C3%A9']) {
        const res = await trace(single, bad);
        expect(res.status, bad).to.equal(400);
        expect(res.body.error, bad).to.equal('ERR_BAD_REQUEST');
      }
      const post = await fetch(`${single.url}/api/admin/trace/x`, { method: 'POST', headers: { authorization: 'Bearer test-admin-token' } });
      expect(post.status).to.equal(405);
      expect(post.headers.get('allow')).to.equal('GET');
    });
  });
});
