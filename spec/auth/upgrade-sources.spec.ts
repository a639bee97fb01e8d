/**
 * The application's ways in, end to end on real nodes: a connect proxy answered by a
 * real HTTP app started here, and JWTs (HS256 from a secret); the order of sources;
 * what follows authentication (the cascade with the app's user-scope values); expiry
 * closing sockets with 4401; the logout hook closing a session's sockets on another
 * node; Socket.IO with a token; the counts by source.
 */
import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { admin, eventually, login, openSocket, push, TestSocket } from '../support/client.ts';
import { ADMIN_TOKEN, startNode, type TestNode } from '../support/node.ts';
import { freePort } from '../support/process.ts';
import { CLIENTS, IoClientPool } from '../support/socket-io.ts';

const SECRET = 'a-test-secret-of-at-least-32-bytes-long!';
const key = new TextEncoder().encode(SECRET);

function token(claims: Record<string, unknown>, expiresInS = 300, alg = 'HS256'): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims).setProtectedHeader({ alg }).setIssuedAt(now).setExpirationTime(now + expiresInS).sign(key);
}

/** The application: its session cookie `appsid` names who is logged in. */
interface App {
  url: string;
  calls: Array<Record<string, any>>;
  sessions: Map<string, { status: number; body?: unknown; delayMs?: number }>;
  close(): Promise<void>;
}

async function startApp(): Promise<App> {
  const calls: App['calls'] = [];
  const sessions: App['sessions'] = new Map();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c));
    req.on('end', () => {
      const call = JSON.parse(text);
      calls.push(call);
      const sid = /appsid=([^;]+)/.exec(call.headers.cookie ?? '')?.[1];
      const answer = (sid && sessions.get(sid)) || { status: 401 };
      setTimeout(() => {
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(answer.body === undefined ? '{}' : JSON.stringify(answer.body));
      }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/connect`,
    calls,
    sessions,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function refusal(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: any }> {
  const socket = new TestSocket(url, { headers });
  try {
    await socket.opened();
  } catch (err) {
    return err as { status: number; body: any; headers: any };
  } finally {
    socket.close();
  }
  throw new Error(`the socket opened: ${url}`);
}

describe('sessions from the application: connect proxy and JWT', function () {
  this.timeout(30000);
  const nodes: TestNode[] = [];
  const sockets: TestSocket[] = [];
  const io = new IoClientPool();
  let app: App | undefined;

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    io.closeAll();
    for (const n of nodes.splice(0)) await n.stop();
    await app?.close();
    app = undefined;
  });

  async function node(flags: string[]): Promise<TestNode> {
    const started = await startNode(flags);
    nodes.push(started);
    return started;
  }

  async function open(n: TestNode, query: string, headers: Record<string, string> = {}): Promise<TestSocket> {
    const s = new TestSocket(`${n.wsUrl}/ws/app?${query}`, { headers });
    sockets.push(s);
    await s.opened();
    return s;
  }

  describe('the connect proxy', () => {
    it('opens a socket for the user the app names, passes only the configured headers, and delivers to it', async () => {
      app = await startApp();
      app.sessions.set('s-alice', { status: 200, body: { userId: 3, contextId: 1, sessionId: 'app-1' } });
      const n = await node(['--auth.proxy.url', app.url]);
      const s = await open(n, 'connection=c1', { cookie: 'appsid=s-alice', 'x-secret': 'not passed', origin: n.url });
      expect((await push(n.url, { contextId: 1, userId: 3, message: 'hi from the app' })).body.local).to.equal(1);
      expect(await s.nextFrames(1)).to.deep.equal(['hi from the app']);
      const call = app.calls[0];
      expect(call).to.deep.include({ path: '/ws/app', query: { connection: 'c1' }, clientAddress: '127.0.0.1', origin: n.url });
      expect(Object.keys(call.headers).sort()).to.deep.equal(['cookie', 'user-agent'].filter((h) => h in call.headers).sort());
      expect(call.headers.cookie).to.equal('appsid=s-alice');
      expect(call.headers).to.not.have.property('x-secret');
    });

    it('answers 401 with 403 ERR_SESSION_UNKNOWN, 403 with ERR_DISABLED, a 500 or a timeout with 503 ERR_AUTH_UNAVAILABLE and Retry-After', async () => {
      app = await startApp();
      app.sessions.set('s-off', { status: 403 });
      app.sessions.set('s-500', { status: 500 });
      app.sessions.set('s-slow', { status: 200, body: { userId: 3, contextId: 1 }, delayMs: 1500 });
      const n = await node(['--auth.proxy.url', app.url, '--auth.proxy.timeout', '300']);
      const base = `${n.wsUrl}/ws/app`;
      const unknown = await refusal(base, { cookie: 'appsid=nobody' });
      expect([unknown.status, unknown.body.error]).to.deep.equal([403, 'ERR_SESSION_UNKNOWN']);
      const off = await refusal(base, { cookie: 'appsid=s-off' });
      expect([off.status, off.body.error]).to.deep.equal([403, 'ERR_DISABLED']);
      for (const sid of ['s-500', 's-slow']) {
        const down = await refusal(base, { cookie: `appsid=${sid}` });
        expect([down.status, down.body.error], sid).to.deep.equal([503, 'ERR_AUTH_UNAVAILABLE']);
        expect(Number(down.headers['retry-after']), sid).to.be.at.least(1);
      }
    });

    it("lets the app's user-scope config outrank the directory, and keeps the directory's disabled context", async () => {
      app = await startApp();
      app.sessions.set('s-off-by-app', { status: 200, body: { userId: 3, contextId: 1, config: { 'websockets.enabled': false } } });
      app.sessions.set('s-acme', { status: 200, body: { userId: 77, contextId: 2 } }); // acme: sockets off in the directory's context scope
      app.sessions.set('s-stranger', { status: 200, body: { userId: 99, contextId: 9 } }); // a context the directory does not list
      const n = await node(['--auth.proxy.url', app.url]);
      const off = await refusal(`${n.wsUrl}/ws/app`, { cookie: 'appsid=s-off-by-app' });
      expect([off.status, off.body.error]).to.deep.equal([403, 'ERR_DISABLED']);
      const acme = await refusal(`${n.wsUrl}/ws/app`, { cookie: 'appsid=s-acme' });
      expect([acme.status, acme.body.error]).to.deep.equal([403, 'ERR_DISABLED']);
      await open(n, '', { cookie: 'appsid=s-stranger' });
    });

    it("closes the session's sockets with 4401 when its expiresAt passes", async () => {
      app = await startApp();
      app.sessions.set('s-short', { status: 200, body: { userId: 3, contextId: 1, sessionId: 'short', expiresAt: Date.now() + 1500 } });
      const n = await node(['--auth.proxy.url', app.url]);
      const s = await open(n, '', { cookie: 'appsid=s-short' });
      expect(await s.closedWith(5000)).to.equal(4401);
    });
  });

  describe('JWT', () => {
    it('opens a socket with ?token= and with the configured cookie; refuses a bad, an unsigned and an expired token', async () => {
      const n = await node(['--auth.jwt.secret', SECRET, '--auth.jwt.cookie', 'jwt', '--auth.jwt.clockTolerance', '0']);
      await open(n, `token=${await token({ sub: '3', ctx: 1 })}`);
      await open(n, '', { cookie: `jwt=${await token({ sub: 3, ctx: 1 })}` });
      const good = await token({ sub: '3', ctx: 1 });
      const [h, p] = good.split('.');
      const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`;
      const tampered = `${h}.${Buffer.from(JSON.stringify({ sub: '4', ctx: 1, exp: Math.floor(Date.now() / 1000) + 60 })).toString('base64url')}.${good.split('.')[2]}`;
      for (const [bad, code] of [
        [unsigned, 'ERR_TOKEN_INVALID'],
        [tampered, 'ERR_TOKEN_INVALID'],
        ['not.a.token', 'ERR_TOKEN_INVALID'],
        [await token({ sub: '3', ctx: 1 }, -10), 'ERR_TOKEN_EXPIRED'],
      ] as const) {
        const refused = await refusal(`${n.wsUrl}/ws/app?token=${bad}`);
        expect([refused.status, refused.body.error], bad).to.deep.equal([403, code]);
        expect(JSON.stringify(refused.body)).to.not.include(bad);
      }
    });

    it('closes a socket with 4401 when its token expires (plus the tolerance)', async () => {
      const n = await node(['--auth.jwt.secret', SECRET, '--auth.jwt.clockTolerance', '0']);
      const s = await open(n, `token=${await token({ sub: '3', ctx: 1 }, 2)}`);
      expect(await s.closedWith(6000)).to.equal(4401);
    });

    it('connects a Socket.IO client with a token', async () => {
      const n = await node(['--auth.jwt.secret', SECRET]);
      const jwt = await token({ sub: '3', ctx: 1 });
      const c = await io.open(CLIENTS[0], n.url, { session: '', cookie: '' }, { client: { query: { token: jwt } }, events: ['news'] }).connected();
      await push(n.url, { contextId: 1, userId: 3, message: { name: 'news', args: [1] } });
      expect(await c.next('news')).to.deep.equal([1]);
    });
  });

  describe('logs', () => {
    it('log one line per refusal with its code and source, and never a token, a cookie or the app\'s answer', async () => {
      app = await startApp();
      app.sessions.set('s-junk', { status: 200, body: { userId: 'SECRET-IN-BODY', contextId: 1 } });
      const logs: string[] = [];
      const n = await startNode(['--auth.proxy.url', app.url, '--auth.jwt.secret', SECRET], { logs });
      nodes.push(n);
      const expired = await token({ sub: '3', ctx: 1 }, -60); // past the default 30 s tolerance
      await refusal(`${n.wsUrl}/ws/app?token=${expired}`);
      await refusal(`${n.wsUrl}/ws/app`, { cookie: 'appsid=s-junk' });
      await refusal(`${n.wsUrl}/ws/app`, { cookie: 'appsid=nobody-COOKIE-SECRET' });
      const rejected = logs.map((l) => JSON.parse(l)).filter((l) => l.event === 'ws.handshake' && l.outcome === 'rejected');
      expect(rejected.map((l) => [l.source, l.error])).to.deep.equal([
        ['token', 'ERR_TOKEN_EXPIRED'],
        ['proxy', 'ERR_AUTH_UNAVAILABLE'],
        ['proxy', 'ERR_SESSION_UNKNOWN'],
      ]);
      const all = logs.join('\n');
      expect(all).to.not.include(expired).and.not.include(expired.split('.')[1]);
      expect(all).to.not.include('SECRET-IN-BODY').and.not.include('COOKIE-SECRET');
    });
  });

  describe('the order of sources', () => {
    it('takes ?session= first, then a token, then the proxy; with none configured, no session is ERR_SESSION_MISSING', async () => {
      app = await startApp();
      app.sessions.set('s-bob', { status: 200, body: { userId: 4, contextId: 1 } });
      const n = await node(['--auth.proxy.url', app.url, '--auth.jwt.secret', SECRET]);
      const alice = await login(n.url);
      await open(n, `session=${alice.session}&token=${await token({ sub: '4', ctx: 1 })}`, { cookie: `${alice.cookie}; appsid=s-bob` });
      expect(app.calls).to.have.length(0);
      await open(n, `token=${await token({ sub: '4', ctx: 1 })}`, { cookie: 'appsid=s-bob' });
      expect(app.calls).to.have.length(0);
      await open(n, '', { cookie: 'appsid=s-bob' });
      expect(app.calls).to.have.length(1);
      // dave is disabled in the directory: a token for him is counted as the token's refusal.
      await refusal(`${n.wsUrl}/ws/app?token=${await token({ sub: '6', ctx: 1 })}`);
      const counts = Object.fromEntries(n.node.stats.authRequests);
      expect(counts).to.deep.include({ 'session ok': 1, 'token ok': 1, 'proxy ok': 1, 'token ERR_DISABLED': 1 });
      const metrics = await (await fetch(`${n.url}/metrics`)).text();
      expect(metrics).to.match(/wsmesh_auth_requests_total\{source="proxy",result="ok"\} 1/);

      const plain = await node([]);
      const missing = await refusal(`${plain.wsUrl}/ws/app`);
      expect([missing.status, missing.body.error]).to.deep.equal([400, 'ERR_SESSION_MISSING']);
    });
  });

  describe('the logout hook', () => {
    it("closes an app session's sockets on another node with 4401 (Socket.IO gets session:invalid first), and leaves other sessions", async () => {
      app = await startApp();
      app.sessions.set('s-1', { status: 200, body: { userId: 3, contextId: 1, sessionId: 'app-session-1' } });
      app.sessions.set('s-2', { status: 200, body: { userId: 3, contextId: 1, sessionId: 'app-session-2' } });
      const port = await freePort();
      const cluster = ['--cluster.name', `t${Math.random().toString(36).slice(2, 8)}`, '--cluster.username', 'n', '--cluster.password', 'p', '--auth.proxy.url', app.url];
      const a = await node(['--node-id', 'a', '--broker', 'embedded', '--broker-port', String(port), ...cluster]);
      const b = await node(['--node-id', 'b', '--broker', `mqtt://127.0.0.1:${port}`, ...cluster]);
      const onB = await open(b, '', { cookie: 'appsid=s-1' });
      const other = await open(b, '', { cookie: 'appsid=s-2' });
      const ioOnB = await io.open(CLIENTS[0], b.url, { session: '', cookie: 'appsid=s-1' }, { client: { query: { connection: 'sio-b' } } }).connected();
      const res = await fetch(`${a.url}/api/admin/sessions/end`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ sessionId: 'app-session-1' }) });
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.equal({ sessionId: 'app-session-1', closed: 0 });
      expect(await onB.closedWith(5000)).to.equal(4401);
      await eventually(() => ioOnB.log.some((e) => e.event === 'session:invalid'), 'session:invalid on the Socket.IO client');
      expect(other.closeCode).to.equal(undefined);
      // The app still vouches for s-1 (it forgot to end it on its side): wsmesh does not reopen it.
      const again = await refusal(`${b.wsUrl}/ws/app`, { cookie: 'appsid=s-1' });
      expect([again.status, again.body.error]).to.deep.equal([403, 'ERR_SESSION_UNKNOWN']);
      const bad = await fetch(`${a.url}/api/admin/sessions/end`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: '{"sessionId": 7}' });
      expect([bad.status, (await bad.json()).error]).to.deep.equal([400, 'ERR_BAD_REQUEST']);
      expect((await fetch(`${a.url}/api/admin/sessions/end`, { method: 'POST', body: '{}' })).status).to.equal(401);
    });
  });
});
