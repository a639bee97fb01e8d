/**
 * The inspector's HTTP side on a real node: the admin token guard, the charts, the
 * actor sample and details, and the event stream (a snapshot, then a batch when a
 * real socket connects and when it closes), read with fetch() as the page does.
 */
import { expect } from 'chai';
import { startNode, ADMIN_TOKEN, type TestNode } from '../support/node.ts';
import { admin, eventually, login, openSocket } from '../support/client.ts';

interface SseEvent {
  event: string;
  data: any;
}

/** An open `text/event-stream` response, read event by event. */
class EventStream {
  private readonly events: SseEvent[] = [];
  private buffer = '';
  private wake: (() => void) | undefined;
  private ended = false;

  private constructor(readonly response: Response, readonly controller: AbortController) {}

  static async open(url: string, token = ADMIN_TOKEN): Promise<EventStream> {
    const controller = new AbortController();
    const response = await fetch(`${url}/api/admin/inspector/events`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
    const stream = new EventStream(response, controller);
    if (response.ok) void stream.pump();
    return stream;
  }

  /** The next event that passes `match`, skipping others; fails after `timeoutMs`. */
  async next(match: (event: SseEvent) => boolean = () => true, timeoutMs = 3000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.events.findIndex(match);
      if (index >= 0) return this.events.splice(0, index + 1).pop()!;
      this.events.length = 0;
      if (this.ended) throw new Error('the stream ended');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, left);
      });
    }
  }

  close(): void {
    this.controller.abort();
  }

  private async pump(): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of this.response.body as unknown as AsyncIterable<Uint8Array>) {
        this.buffer += decoder.decode(chunk, { stream: true });
        for (let end = this.buffer.indexOf('\n\n'); end >= 0; end = this.buffer.indexOf('\n\n')) {
          const block = this.buffer.slice(0, end);
          this.buffer = this.buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) this.events.push({ event, data: JSON.parse(data) });
        }
        this.wake?.();
      }
    } catch {
      // aborted
    } finally {
      this.ended = true;
      this.wake?.();
    }
  }
}

describe('inspector routes', function () {
  this.timeout(20000);
  let node: TestNode;
  const streams: EventStream[] = [];

  beforeEach(async () => (node = await startNode()));
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close();
    await node.stop();
  });

  const open = async (token?: string) => {
    const stream = await EventStream.open(node.url, token);
    streams.push(stream);
    return stream;
  };

  describe('the admin token', () => {
    for (const path of ['/api/admin/inspector/charts', '/api/admin/inspector/actors', '/api/admin/inspector/actors/x:0', '/api/admin/inspector/events']) {
      it(`guards GET ${path}: 401 ERR_ADMIN_AUTH without it or with a wrong one`, async () => {
        const bare = await fetch(node.url + path);
        expect(bare.status).to.equal(401);
        expect(bare.headers.get('www-authenticate')).to.equal('Bearer realm="wsmesh"');
        expect(await bare.json()).to.include({ error: 'ERR_ADMIN_AUTH' });
        const wrong = await admin(node.url, 'GET', path, 'not-the-token');
        expect(wrong).to.deep.include({ status: 401 });
        expect(wrong.body.error).to.equal('ERR_ADMIN_AUTH');
      });
    }
  });

  describe('GET /api/admin/inspector/charts', () => {
    it("answers every actor's Mermaid chart and definition", async () => {
      const { status, body } = await admin(node.url, 'GET', '/api/admin/inspector/charts');
      expect(status).to.equal(200);
      const names = body.charts.map((c: { name: string }) => c.name);
      expect(names).to.include.members(['node', 'connection', 'buffer', 'ticker', 'broker']);
      const connection = body.charts.find((c: { name: string }) => c.name === 'connection');
      expect(connection.mermaid).to.match(/^stateDiagram-v2\n/).and.contain('upgrade --> authenticated : handshake.accepted');
      expect(connection.definition).to.include({ id: 'connection' });
      expect(connection.description).to.be.a('string').that.is.not.empty;
    });
  });

  describe('GET /api/admin/inspector/events', () => {
    it('sends a snapshot of the counts, then a batch when a socket opens and when it closes', async () => {
      const events = await open();
      expect(events.response.headers.get('content-type')).to.equal('text/event-stream; charset=utf-8');
      expect(events.response.headers.get('cache-control')).to.equal('no-store');
      const snapshot = await events.next();
      expect(snapshot.event).to.equal('snapshot');
      expect(snapshot.data.counts).to.deep.include({ node: { running: 1 }, buffer: { idle: 1 } });
      expect(snapshot.data.counts.connection ?? {}).to.deep.equal({});

      const alice = await login(node.url);
      const socket = await openSocket(node.wsUrl, alice);
      const opened = await events.next((e) => e.event === 'batch' && e.data.counts.connection?.['open.idle'] === 1);
      const change = opened.data.changes.find((c: { machine: string }) => c.machine === 'connection');
      expect(change).to.include({ state: 'open.idle', status: 'active', label: 'user 1/3 /ws/demo' });

      socket.ws.close(1000, 'bye');
      const closed = await events.next((e) => e.event === 'batch' && e.data.left.some((l: { id: string }) => l.id === change.id));
      expect(closed.data.left.find((l: { id: string }) => l.id === change.id)).to.include({ machine: 'connection', state: 'closed', status: 'done' });
      expect(closed.data.counts.connection['open.idle']).to.equal(0);
      expect(closed.data.totals.connection).to.include({ live: 0, created: 1, ended: 1 });
    });

    it('stops feeding a watcher that went away, and lets the node stop while one is connected', async () => {
      const first = await open();
      await first.next();
      const second = await open();
      await second.next();
      expect(node.node.inspector.watchers).to.equal(2);
      first.close();
      await eventually(() => node.node.inspector.watchers === 1, 'the first watcher to be dropped');
      const started = Date.now();
      await node.stop();
      expect(Date.now() - started).to.be.below(5000);
      const ended = await second.next(() => false, 2000).catch((error: Error) => error.message);
      expect(ended).to.equal('the stream ended');
      await eventually(() => node.node.inspector.watchers === 0, 'the second watcher to be dropped');
    });
  });

  describe('GET /api/admin/inspector/actors', () => {
    it("lists live actors with their state; one actor's details leave out the socket and the session", async () => {
      const alice = await login(node.url);
      const socket = await openSocket(node.wsUrl, alice);
      const { status, body } = await admin(node.url, 'GET', '/api/admin/inspector/actors?machine=connection&state=open&limit=5');
      expect(status).to.equal(200);
      expect(body.matching).to.equal(1);
      expect(body.seq).to.be.a('number');
      expect(body.actors).to.have.length(1);
      const [actor] = body.actors;
      expect(actor).to.include({ machine: 'connection', state: 'open.idle', label: 'user 1/3 /ws/demo' });

      const detail = await admin(node.url, 'GET', `/api/admin/inspector/actors/${encodeURIComponent(actor.id)}`);
      expect(detail.status).to.equal(200);
      expect(detail.body).to.include({ id: actor.id, status: 'active', state: 'open.idle' });
      expect(detail.body.context).to.include({ path: '/ws/demo', protocol: 'raw' });
      expect(detail.body.context).to.not.have.any.keys('socket', 'identity', 'hooks');
      const text = JSON.stringify(detail.body);
      expect(text).to.not.contain(alice.session);
      for (const cookie of alice.cookie.split('; ')) expect(text).to.not.contain(cookie.split('=')[1]);

      const everything = await admin(node.url, 'GET', '/api/admin/inspector/actors');
      expect(everything.body.actors.map((a: { machine: string }) => a.machine)).to.include.members(['node', 'buffer', 'connection']);
      socket.close();
    });

    it('refuses a bad limit or perState (400) and answers 404 for an actor that is not live', async () => {
      for (const query of ['limit=0', 'limit=x', 'limit=-1', 'perState=0', 'perState=y', 'limit=1&limit=2']) {
        const { status, body } = await admin(node.url, 'GET', `/api/admin/inspector/actors?${query}`);
        expect([status, body.error], query).to.deep.equal([400, 'ERR_BAD_REQUEST']);
      }
      const missing = await admin(node.url, 'GET', '/api/admin/inspector/actors/x%3A999999');
      expect([missing.status, missing.body.error]).to.deep.equal([404, 'ERR_NOT_FOUND']);
      const post = await admin(node.url, 'POST', '/api/admin/inspector/actors/x%3A0');
      expect(post.status).to.equal(405);
    });
  });

  describe('a node alone, with node=', () => {
    it('lists itself as the only node, and answers node=<itself> and node=all from its own hub, without a broker', async () => {
      expect((await admin(node.url, 'GET', '/api/admin/inspector/nodes')).body).to.deep.equal({ self: 'test-node', nodes: ['test-node'] });
      const alice = await login(node.url);
      const socket = await openSocket(node.wsUrl, alice);
      for (const which of ['test-node', 'all']) {
        const { status, body } = await admin(node.url, 'GET', `/api/admin/inspector/actors?node=${which}&machine=connection&perState=5`);
        expect(status, which).to.equal(200);
        expect(body).to.deep.include({ node: which, matching: 1 });
        expect(body.actors.map((a: { node: string; state: string }) => [a.node, a.state])).to.deep.equal([['test-node', 'open.idle']]);
        expect(body.nodes).to.deep.include({ unanswered: [], failed: [] });
      }
      const id = (await admin(node.url, 'GET', '/api/admin/inspector/actors?machine=connection')).body.actors[0].id;
      const detail = await admin(node.url, 'GET', `/api/admin/inspector/actors/${encodeURIComponent(id)}?node=test-node`);
      expect(detail.body).to.include({ node: 'test-node', id, state: 'open.idle' });
      const legacy = await admin(node.url, 'GET', `/api/admin/inspector/actors/${encodeURIComponent(id)}`);
      expect(legacy.body).to.include({ id }).and.not.have.property('node');
      expect(legacy.body.transitions).to.be.an('array');
      const other = await admin(node.url, 'GET', '/api/admin/inspector/actors?node=b');
      expect([other.status, other.body.error]).to.deep.equal([404, 'ERR_NODE_UNKNOWN']);
      socket.close();
    });
  });

  describe('GET /admin/inspector', () => {
    it('serves a static shell under a strict CSP: no inline script, no data, no token', async () => {
      const res = await fetch(node.url + '/admin/inspector');
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('text/html; charset=utf-8');
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).to.contain("default-src 'self'").and.contain("connect-src 'self'").and.not.contain('unsafe-inline');
      const html = await res.text();
      const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts).to.have.length(1);
      expect(scripts[0][1]).to.contain('src="/admin/inspector/main.js"').and.contain('type="module"');
      expect(scripts[0][2].trim()).to.equal('');
      expect(html).to.not.match(/ on[a-z]+=/i);
      expect(html).to.not.contain(ADMIN_TOKEN);
      const css = await fetch(node.url + '/admin/inspector.css');
      expect(css.status).to.equal(200);
      expect(css.headers.get('content-type')).to.contain('text/css');
    });

    it('serves every module the page script imports, as JavaScript', async () => {
      const seen = new Set<string>();
      const visit = async (path: string): Promise<void> => {
        if (seen.has(path)) return;
        seen.add(path);
        const res = await fetch(node.url + path);
        expect(res.status, path).to.equal(200);
        expect(res.headers.get('content-type'), path).to.equal('text/javascript; charset=utf-8');
        const source = await res.text();
        for (const [, spec] of source.matchAll(/^import [^'"]*['"]([^'"]+)['"]/gm)) await visit(new URL(spec, node.url + path).pathname);
      };
      await visit('/admin/inspector/main.js');
      expect([...seen].sort()).to.include.members(['/admin/inspector/main.js', '/admin/inspector/model.js', '/admin/inspector/layout.js', '/admin/inspector/chart.js', '/admin/inspector/stream.js', '/admin/inspector/render.js', '/admin/inspector/sampled.js']);
    });
  });
});
