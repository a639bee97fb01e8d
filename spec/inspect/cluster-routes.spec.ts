/**
 * The inspector's API over a real 2-node cluster on the embedded broker: the live
 * nodes, another node's actors and one of them with its transitions (asked over the
 * broker), every node's at once, and the refusals. No pushed message, session id or
 * secret cookie reaches an answer.
 */
import { expect } from 'chai';
import { answerInspectorQuestions } from '../../src/inspect/cluster.ts';
import { startPair, type TestPair } from '../cluster/support.ts';
import { admin, eventually, login, openSocket, push, type Login, type TestSocket } from '../support/client.ts';

const MARKER = 'payload-marker-7f3c9b';

describe('inspector routes over the cluster', function () {
  this.timeout(30_000);
  let pair: TestPair;
  const sockets: TestSocket[] = [];

  before(async () => (pair = await startPair(['--cluster.syncTimeout', '800'])));
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));
  after(async () => pair?.stop());

  const url = (node: 'a' | 'b') => pair.nodes[node].url;

  /** Alice logs in on `node` and opens a socket there. */
  async function socketOn(node: 'a' | 'b'): Promise<{ alice: Login; socket: TestSocket }> {
    const alice = await login(url(node));
    const socket = await openSocket(pair.nodes[node].wsUrl, alice);
    sockets.push(socket);
    return { alice, socket };
  }

  /** Whatever any answer says must not hold the message, the session id or the secret cookie. */
  function expectNoSecrets(text: string, alice: Login): void {
    expect(text).to.not.contain(MARKER);
    expect(text).to.not.contain(alice.session);
    for (const cookie of alice.cookie.split('; ')) expect(text).to.not.contain(cookie.split('=')[1]);
  }

  describe('GET /api/admin/inspector/nodes', () => {
    it('names this node and lists both live nodes, from either node', async () => {
      for (const node of ['a', 'b'] as const) {
        const { status, body } = await admin(url(node), 'GET', '/api/admin/inspector/nodes');
        expect(status).to.equal(200);
        expect(body).to.deep.equal({ self: node, nodes: ['a', 'b'] });
      }
    });
  });

  describe('GET /api/admin/inspector/actors?node=', () => {
    it("answers node b's connection actors and counts when asked on a, each actor naming its node", async () => {
      const { alice } = await socketOn('b');
      await eventually(async () => (await admin(url('a'), 'GET', '/api/admin/inspector/actors?node=b&machine=connection')).body.matching === 1, "b's socket in b's answer");
      const { status, body } = await admin(url('a'), 'GET', '/api/admin/inspector/actors?node=b&machine=connection&limit=10');
      expect(status).to.equal(200);
      expect(body.node).to.equal('b');
      expect(body.actors).to.have.length(1);
      expect(body.actors[0]).to.include({ node: 'b', machine: 'connection', state: 'open.idle', label: 'user 1/3 /ws/demo' });
      expect(body.counts.connection['open.idle']).to.equal(1);
      expect(body.counts.node).to.deep.equal({ running: 1 });
      expect(body.totals.connection).to.include({ live: 1 });
      expect(body.nodes.answered.map((n: { node: string }) => n.node)).to.deep.equal(['b']);
      expect(body.nodes).to.include.keys('unanswered', 'failed');
      expect(body.nodes.unanswered).to.deep.equal([]);
      // a holds no socket: its own listing is empty, and unchanged without `node`.
      const own = await admin(url('a'), 'GET', '/api/admin/inspector/actors?machine=connection');
      expect(own.body).to.include({ matching: 0 }).and.to.have.keys('seq', 'matching', 'actors');
      expectNoSecrets(JSON.stringify(body), alice);
    });

    it('answers every node with node=all: both sockets, counts summed, both nodes answered', async () => {
      await socketOn('a');
      await socketOn('b');
      await eventually(async () => (await admin(url('b'), 'GET', '/api/admin/inspector/actors?node=all&machine=connection')).body.matching === 2, 'both sockets in the merged answer');
      const { body } = await admin(url('b'), 'GET', '/api/admin/inspector/actors?node=all&machine=connection&state=open');
      expect(body.node).to.equal('all');
      expect(body.actors.map((a: { node: string }) => a.node).sort()).to.deep.equal(['a', 'b']);
      expect(body.counts.connection['open.idle']).to.equal(2);
      expect(body.counts.node).to.deep.equal({ running: 2 });
      expect(body.nodes.answered.map((n: { node: string }) => n.node)).to.deep.equal(['a', 'b']);
    });

    it('refuses an unknown node (404 ERR_NODE_UNKNOWN, naming the live nodes), a repeated node (400), a missing token (401)', async () => {
      const unknown = await admin(url('a'), 'GET', '/api/admin/inspector/actors?node=zz');
      expect(unknown.status).to.equal(404);
      expect(unknown.body).to.have.keys('error', 'message');
      expect(unknown.body.error).to.equal('ERR_NODE_UNKNOWN');
      expect(unknown.body.message).to.contain('"zz"').and.contain('a, b');
      const twice = await admin(url('a'), 'GET', '/api/admin/inspector/actors?node=a&node=b');
      expect([twice.status, twice.body.error]).to.deep.equal([400, 'ERR_BAD_REQUEST']);
      for (const path of ['/api/admin/inspector/actors?node=b', '/api/admin/inspector/actors/x%3A1?node=b', '/api/admin/inspector/nodes']) {
        const bare = await fetch(url('a') + path);
        expect(bare.status, path).to.equal(401);
        expect((await bare.json()).error).to.equal('ERR_ADMIN_AUTH');
      }
    });
  });

  describe('GET /api/admin/inspector/actors/<id>?node=', () => {
    it("answers an actor of b with its transitions (times, event types), never a pushed message or the session's secrets", async () => {
      const { alice, socket } = await socketOn('b');
      const sent = await push(url('a'), { contextId: 1, userId: 3, message: `hello ${MARKER}` });
      expect(sent.status).to.equal(202);
      await socket.nextFrames(1);
      const listing = await admin(url('a'), 'GET', '/api/admin/inspector/actors?node=b&machine=connection');
      const [actor] = listing.body.actors;
      const started = Date.now();
      const { status, body } = await admin(url('a'), 'GET', `/api/admin/inspector/actors/${encodeURIComponent(actor.id)}?node=b`);
      expect(status).to.equal(200);
      expect(body).to.include({ node: 'b', id: actor.id, machine: 'connection', state: 'open.idle', status: 'active' });
      expect(body.context).to.include({ path: '/ws/demo', sent: 1 });
      // Followed since the listing above (on demand): from there on, each transition is kept.
      expect(body.transitions).to.be.an('array');
      for (const t of body.transitions) {
        expect(t).to.have.keys('at', 'event', 'from', 'to');
        expect(t.at).to.be.within(started - 60_000, Date.now());
      }
      expectNoSecrets(JSON.stringify(body) + JSON.stringify(listing.body), alice);
    });

    it('lists the transitions of an actor followed from its start: upgrade, authenticated, open.idle', async () => {
      // A look first, so b follows connection actors from their start.
      await admin(url('a'), 'GET', '/api/admin/inspector/actors?node=b&machine=connection');
      const { alice } = await socketOn('b');
      const listing = await admin(url('a'), 'GET', '/api/admin/inspector/actors?node=b&machine=connection');
      const { body } = await admin(url('a'), 'GET', `/api/admin/inspector/actors/${encodeURIComponent(listing.body.actors[0].id)}?node=b`);
      expect(body.transitions.map((t: { event: string; from: string | null; to: string }) => [t.event, t.from, t.to])).to.deep.equal([
        ['xstate.init', null, 'upgrade'],
        ['handshake.accepted', 'upgrade', 'authenticated'],
        ['ws.opened', 'authenticated', 'open.idle'],
      ]);
      expect(body.transitions.every((t: { at: number }) => Number.isInteger(t.at))).to.equal(true);
      expectNoSecrets(JSON.stringify(body), alice);
    });

    it('answers 404 ERR_NOT_FOUND for an actor b does not have, 400 for node=all, 404 ERR_NODE_UNKNOWN for an unknown node', async () => {
      const missing = await admin(url('a'), 'GET', '/api/admin/inspector/actors/x%3A999999?node=b');
      expect([missing.status, missing.body.error]).to.deep.equal([404, 'ERR_NOT_FOUND']);
      expect(missing.body.message).to.contain('on node b');
      const all = await admin(url('a'), 'GET', '/api/admin/inspector/actors/x%3A1?node=all');
      expect([all.status, all.body.error]).to.deep.equal([400, 'ERR_BAD_REQUEST']);
      const unknown = await admin(url('a'), 'GET', '/api/admin/inspector/actors/x%3A1?node=nope');
      expect([unknown.status, unknown.body.error]).to.deep.equal([404, 'ERR_NODE_UNKNOWN']);
    });
  });

  describe('a node that does not answer', () => {
    // b answers again, as a node does.
    afterEach(() => answerInspectorQuestions(pair.nodes.b.node.queries, pair.nodes.b.node.inspector));

    it('is named in nodes.unanswered with node=all, and is a 504 ERR_NODE_UNAVAILABLE asked alone', async () => {
      const stalled = new Promise(() => {});
      pair.nodes.b.node.queries.register('inspector.actors', () => stalled);
      const all = await admin(url('a'), 'GET', '/api/admin/inspector/actors?node=all');
      expect(all.status).to.equal(200);
      expect(all.body.nodes.unanswered).to.deep.equal(['b']);
      expect(all.body.nodes.answered.map((n: { node: string }) => n.node)).to.deep.equal(['a']);
      expect(all.body.counts.node).to.deep.equal({ running: 1 });
      const alone = await admin(url('a'), 'GET', '/api/admin/inspector/actors?node=b');
      expect(alone.status).to.equal(504);
      expect(alone.body).to.deep.equal({ error: 'ERR_NODE_UNAVAILABLE', message: 'Node b did not answer within cluster.syncTimeout' });
    });
  });
});
