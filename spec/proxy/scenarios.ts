/**
 * The end-to-end scenarios every reverse proxy must pass, shared by apache.spec.ts
 * and nginx.spec.ts: an embedded broker process, two wsmesh node processes (routes
 * OX1 and OX2, `server.trustProxy` on), and the proxy in front, run from the same
 * template as `config/proxy/*`. Clients connect from 127.0.0.2, the proxy reaches
 * the nodes from 127.0.0.1, so "the node sees the client's address" is a claim a
 * test can refute. docs/proxy.md states what each test holds the proxy to.
 */
import { expect } from 'chai';
import { io, type Socket } from 'socket.io-client';
import { admin, eventually, push, TestSocket } from '../support/client.ts';
import { requireBinariesOrSkip } from '../support/binaries.ts';
import { killAllBrokers, startEmbeddedBrokerProcess, type BrokerProcess } from '../support/broker.ts';
import { killAll, startNodeProcess, type NodeProcess } from '../support/process.ts';
import { http, routeOf, stopAllProxies, type ProxyKind, type ProxyProcess } from './support.ts';

/** The client's address; the proxy connects to the nodes from 127.0.0.1. */
export const CLIENT = '127.0.0.2';
/** Another client, for the IP check. */
const OTHER_CLIENT = '127.0.0.3';
const ROUTES = ['OX1', 'OX2'] as const;
type Route = (typeof ROUTES)[number];
/**
 * The example's rule at test scale: the proxy's idle timeout (100 s in the example)
 * above the nodes' ping interval (25 s by default). Verified by hand: with pings
 * every 10 s instead, both proxies cut the idle socket of that test.
 */
const PROXY_TIMEOUT_S = 4;
const PING_INTERVAL_MS = 1000;
const ALICE = { login: 'alice@demo', password: 'wonderland', contextId: 1, userId: 3 };
const BOB = { login: 'bob@demo', password: 'builder', contextId: 1, userId: 4 };
type User = typeof ALICE;

interface Stack {
  broker: BrokerProcess;
  nodes: Record<Route, NodeProcess>;
  ids: Record<Route, string>;
  proxy: ProxyProcess;
}

interface ProxyLogin {
  session: string;
  route: string;
  /** The route in the JSESSIONID cookie. */
  stickyRoute: string;
  cookie: string;
}

interface SocketRow {
  connectionId: string;
  node: string;
  remoteAddress: string;
  path: string;
}

async function startStack(kind: ProxyKind): Promise<Stack> {
  const broker = await startEmbeddedBrokerProcess();
  const cluster = `proxy${Math.random().toString(36).slice(2, 8)}`;
  const common = ['--broker', broker.url, '--cluster.name', cluster, '--cluster.keepalive', '2', '--session.keys', 'proxy-signing-key', '--cluster.username', broker.username!, '--cluster.password', broker.password!, '--trust-proxy', 'true', '--websockets.pingInterval', String(PING_INTERVAL_MS)];
  const ids: Record<Route, string> = { OX1: 'n1', OX2: 'n2' };
  const [n1, n2] = await Promise.all(ROUTES.map((route) => startNodeProcess(['--node-id', ids[route], '--route', route, ...common])));
  const nodes: Record<Route, NodeProcess> = { OX1: n1, OX2: n2 };
  await eventually(async () => (await Promise.all([n1, n2].map(async (n) => (await admin(n.url, 'GET', '/api/admin/stats')).body.nodes))).every((count) => count === 2), 'both nodes to see each other', 10_000);
  const proxy = await kind.start(ROUTES.map((route) => ({ host: '127.0.0.1', port: nodes[route].port, route })), PROXY_TIMEOUT_S);
  return { broker, nodes, ids, proxy };
}

/** `POST /api/login` through the proxy from `from`. */
async function loginThrough(proxy: ProxyProcess, user: User, from = CLIENT): Promise<ProxyLogin> {
  const res = await http(`${proxy.url}/api/login`, { method: 'POST', body: { login: user.login, password: user.password }, localAddress: from });
  if (res.status !== 200) throw new Error(`login through ${proxy.kind}: ${res.status} ${res.text}\n${proxy.diagnostics()}`);
  const pairs = res.setCookies.map((c) => c.split(';')[0]!);
  const jsession = pairs.find((p) => p.startsWith('JSESSIONID='));
  expect(jsession, 'a JSESSIONID cookie').to.be.a('string');
  return { session: res.body.session, route: res.body.route, stickyRoute: routeOf(jsession!.slice('JSESSIONID='.length)), cookie: pairs.join('; ') };
}

/** Logs in through the proxy until the proxy's balancing picks the node with `route` (round robin: within a few tries). */
async function loginWithRoute(proxy: ProxyProcess, user: User, route: Route, from = CLIENT): Promise<ProxyLogin> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const auth = await loginThrough(proxy, user, from);
    if (auth.stickyRoute === route) return auth;
  }
  throw new Error(`10 logins through ${proxy.kind} never reached the node with route ${route}`);
}

function socketUrl(proxy: ProxyProcess, auth: ProxyLogin, connection: string, path = '/ws/demo'): string {
  return `${proxy.wsUrl}${path}?${new URLSearchParams({ session: auth.session, connection })}`;
}

interface OpenOptions {
  /** The client's address (default CLIENT). */
  from?: string;
  headers?: Record<string, string>;
  path?: string;
}

/** A raw socket through the proxy, with the login's cookies. */
async function openThrough(proxy: ProxyProcess, auth: ProxyLogin, connection: string, { from = CLIENT, headers = {}, path }: OpenOptions = {}): Promise<TestSocket> {
  const socket = new TestSocket(socketUrl(proxy, auth, connection, path), { headers: { cookie: auth.cookie, ...headers }, localAddress: from });
  opened.push(socket);
  await withTimeout(socket.opened(), 5000, `socket ${connection} to open through ${proxy.kind}`);
  return socket;
}

/** Opens a raw socket through the proxy, retrying every 200 ms until `timeoutMs`; the failure names every refusal. */
async function reconnectThrough(proxy: ProxyProcess, auth: ProxyLogin, connection: string, timeoutMs: number): Promise<TestSocket> {
  const deadline = Date.now() + timeoutMs;
  const errors: string[] = [];
  while (Date.now() < deadline) {
    try {
      return await openThrough(proxy, auth, connection);
    } catch (err) {
      errors.push((err as Error).message);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(`${connection} did not reconnect through ${proxy.kind} within ${timeoutMs} ms; attempts: ${[...new Set(errors)].join(' | ')}`);
}

/** The refusal of a socket through the proxy: `{status, body}`. */
async function refusedThrough(proxy: ProxyProcess, auth: ProxyLogin, connection: string, { from = CLIENT, headers = {}, path }: OpenOptions = {}): Promise<{ status: number; body: { error: string } }> {
  const socket = new TestSocket(socketUrl(proxy, auth, connection, path), { headers: { cookie: auth.cookie, ...headers }, localAddress: from });
  opened.push(socket);
  try {
    await withTimeout(socket.opened(), 5000, `socket ${connection} to be answered through ${proxy.kind}`);
  } catch (err) {
    const refusal = err as { status?: number; body?: { error: string } };
    if (refusal.status) return { status: refusal.status, body: refusal.body! };
    throw err;
  }
  throw new Error(`socket ${connection} opened; a refusal was expected`);
}

/** The user's sockets the node holds itself (its local listing, asked directly). */
async function localSockets(node: NodeProcess, user: User): Promise<SocketRow[]> {
  const res = await admin(node.url, 'GET', `/api/admin/sockets?scope=local&contextId=${user.contextId}&userId=${user.userId}`);
  expect(res.status).to.equal(200);
  return res.body;
}

/** The route of the node holding connection `connection`, checking that exactly one node holds it. */
async function holder(stack: Stack, user: User, connection: string): Promise<Route> {
  const holders: Route[] = [];
  for (const route of ROUTES) {
    if (stack.nodes[route].child.exitCode !== null || stack.nodes[route].child.signalCode !== null) continue;
    if ((await localSockets(stack.nodes[route], user)).some((row) => row.connectionId === connection)) holders.push(route);
  }
  expect(holders, `the nodes holding ${connection}`).to.have.lengthOf(1);
  return holders[0]!;
}

function other(route: Route): Route {
  return route === 'OX1' ? 'OX2' : 'OX1';
}

const opened: TestSocket[] = [];
const ioClients: Socket[] = [];

function closeClients(): void {
  for (const socket of opened.splice(0)) socket.close();
  for (const client of ioClients.splice(0)) client.disconnect();
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}

/** A Socket.IO client the way the reference web client connects, through the proxy. */
function socketIoClient(proxy: ProxyProcess, auth: ProxyLogin, connection: string, reconnection: boolean): Socket {
  const client = io(`${proxy.url}/?${new URLSearchParams({ session: auth.session, connection })}`, {
    path: '/socket.io/appsuite',
    transports: ['websocket'],
    forceNew: true,
    reconnection,
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
    timeout: 5000,
    extraHeaders: { cookie: auth.cookie },
    localAddress: CLIENT,
  } as Parameters<typeof io>[1]);
  ioClients.push(client);
  return client;
}

function nextEvent<T = unknown>(client: Socket, event: string, what: string, timeoutMs = 8000): Promise<T[]> {
  return withTimeout(new Promise<T[]>((resolve) => client.once(event, (...args: T[]) => resolve(args))), timeoutMs, what);
}

/** Every suite: the scenarios against one proxy. */
export function describeProxy(kind: ProxyKind): void {
  describe(`wsmesh behind ${kind.name}`, function () {
    this.timeout(60_000);
    let stack: Stack;

    before(async function () {
      requireBinariesOrSkip(this, kind.binary);
      stack = await startStack(kind);
    });

    afterEach(async function () {
      closeClients();
      if (!stack) return;
      // The next test starts without this one's sockets (the per-user limit is cluster-wide).
      for (const user of [ALICE, BOB]) {
        for (const route of ROUTES) {
          const node = stack.nodes[route];
          if (node.child.exitCode === null && node.child.signalCode === null) await eventually(async () => (await localSockets(node, user)).length === 0, `${route} to drop the closed sockets`, 5000);
        }
      }
      if (this.currentTest?.state === 'failed') process.stderr.write(`${stack.proxy.diagnostics()}\n`);
    });

    after(async () => {
      closeClients();
      await stopAllProxies();
      await killAll();
      await killAllBrokers();
    });

    describe('logging in through the proxy', () => {
      it('issues JSESSIONID=<random>.<route> naming the node that served the login, and balances logins without a cookie over both nodes', async () => {
        const seen = new Set<string>();
        for (let attempt = 0; attempt < 10 && seen.size < 2; attempt++) {
          const auth = await loginThrough(stack.proxy, ALICE);
          // The body's route is the serving node's server.route: the cookie names that node.
          expect(auth.stickyRoute).to.equal(auth.route);
          expect(ROUTES).to.include(auth.stickyRoute);
          seen.add(auth.stickyRoute);
        }
        expect([...seen].sort()).to.deep.equal([...ROUTES]);
      });

      it('sends every API request carrying the JSESSIONID cookie to the node its route names', async () => {
        for (const route of ROUTES) {
          const auth = await loginWithRoute(stack.proxy, ALICE, route);
          for (let i = 0; i < 4; i++) {
            const res = await http(`${stack.proxy.url}/healthz`, { headers: { cookie: auth.cookie }, localAddress: CLIENT });
            expect(res.status).to.equal(200);
            expect(res.body.node, `request ${i} with route ${route}`).to.equal(stack.ids[route]);
          }
          const session = await http(`${stack.proxy.url}/api/session?session=${auth.session}`, { headers: { cookie: auth.cookie }, localAddress: CLIENT });
          expect(session.status, session.text).to.equal(200);
        }
      });
    });

    describe('WebSockets through the proxy', () => {
      it('keeps a raw socket on the node named by the route in JSESSIONID', async () => {
        for (const route of ROUTES) {
          const auth = await loginWithRoute(stack.proxy, ALICE, route);
          for (const n of [1, 2]) {
            await openThrough(stack.proxy, auth, `sticky-${route}-${n}`);
            expect(await holder(stack, ALICE, `sticky-${route}-${n}`)).to.equal(route);
          }
        }
      });

      it('delivers a message pushed on the other node to the socket behind the proxy', async () => {
        for (const route of ROUTES) {
          const auth = await loginWithRoute(stack.proxy, ALICE, route);
          // A path of its own: the push below matches this socket only.
          const socket = await openThrough(stack.proxy, auth, `remote-${route}`, { path: `/ws/remote/${route}` });
          expect(await holder(stack, ALICE, `remote-${route}`)).to.equal(route);
          // The registry update reaches the other node within milliseconds.
          await eventually(async () => (await admin(stack.nodes[other(route)].url, 'GET', `/api/admin/sockets?scope=cluster&contextId=1&userId=3`)).body.some((r: SocketRow) => r.connectionId === `remote-${route}`), 'the other node to see the socket', 3000);
          const res = await push(stack.nodes[other(route)].url, { contextId: ALICE.contextId, userId: ALICE.userId, message: `from the other node to ${route}`, pathFilter: `/ws/remote/${route}` });
          expect(res.status).to.equal(202);
          expect(res.body).to.deep.include({ local: 0, remote: 1 });
          expect(await socket.nextFrames(1, 8000)).to.deep.equal([`from the other node to ${route}`]);
        }
      });

      it(`keeps an idle socket open past the proxy's ${PROXY_TIMEOUT_S} s timeout: the nodes' pings (every ${PING_INTERVAL_MS} ms) cross it`, async () => {
        const auth = await loginThrough(stack.proxy, ALICE);
        const socket = await openThrough(stack.proxy, auth, 'idle', { path: '/ws/idle' });
        await new Promise((resolve) => setTimeout(resolve, PROXY_TIMEOUT_S * 1000 + 2500));
        expect(socket.closeCode, 'the close code').to.equal(undefined);
        const res = await push(stack.nodes[auth.stickyRoute as Route].url, { contextId: 1, userId: 3, message: 'still open', pathFilter: '/ws/idle' });
        expect(res.body).to.deep.include({ local: 1, remote: 0 });
        expect(await socket.nextFrames(1, 3000)).to.deep.equal(['still open']);
      });

      it('accepts a same-origin Origin: the proxy forwards the Host the browser used', async () => {
        const auth = await loginThrough(stack.proxy, ALICE);
        await openThrough(stack.proxy, auth, 'same-origin', { headers: { origin: stack.proxy.url } });
        const refusal = await refusedThrough(stack.proxy, auth, 'cross-origin', { headers: { origin: 'http://evil.example' } });
        expect(refusal.status).to.equal(403);
        expect(refusal.body.error).to.equal('ERR_ORIGIN_DENIED');
      });
    });

    describe('the session IP check behind the proxy', () => {
      it('sees the client address from X-Forwarded-For: a socket from the login\'s address opens and is listed with it', async () => {
        const auth = await loginThrough(stack.proxy, ALICE, CLIENT);
        await openThrough(stack.proxy, auth, 'ip-ok', { from: CLIENT });
        const rows = await localSockets(stack.nodes[auth.stickyRoute as Route], ALICE);
        expect(rows.map((r) => [r.connectionId, r.remoteAddress])).to.deep.equal([['ip-ok', CLIENT]]);
      });

      it('refuses the session from another client address with 403 ERR_IP_MISMATCH', async () => {
        const auth = await loginThrough(stack.proxy, ALICE, CLIENT);
        const refusal = await refusedThrough(stack.proxy, auth, 'ip-other', { from: OTHER_CLIENT });
        expect(refusal).to.deep.include({ status: 403 });
        expect(refusal.body.error).to.equal('ERR_IP_MISMATCH');
      });

      it('ignores an X-Forwarded-For the client wrote itself (the proxy appends the real address)', async () => {
        const auth = await loginThrough(stack.proxy, ALICE, CLIENT);
        // From another address, claiming to be the session's: the node takes the proxy's entry.
        const refusal = await refusedThrough(stack.proxy, auth, 'ip-forged', { from: OTHER_CLIENT, headers: { 'x-forwarded-for': CLIENT } });
        expect(refusal.status).to.equal(403);
        expect(refusal.body.error).to.equal('ERR_IP_MISMATCH');
      });
    });

    describe('Socket.IO through the proxy', () => {
      it('connects socket.io-client 4 on /socket.io/appsuite (websocket transport) on the sticky node and delivers an event pushed on the other node', async () => {
        for (const route of ROUTES) {
          const auth = await loginWithRoute(stack.proxy, ALICE, route);
          const client = socketIoClient(stack.proxy, auth, `sio-${route}`, false);
          const failed = nextEvent<Error>(client, 'connect_error', 'connect_error').then(([err]) => {
            throw new Error(`Socket.IO through ${kind.name}: ${err?.message}`);
          });
          failed.catch(() => {});
          await Promise.race([nextEvent(client, 'connect', `Socket.IO to connect through ${kind.name}`), failed]);
          expect(await holder(stack, ALICE, `sio-${route}`)).to.equal(route);
          const event = nextEvent(client, 'demo:event', 'the pushed event');
          await eventually(async () => (await admin(stack.nodes[other(route)].url, 'GET', `/api/admin/sockets?scope=cluster&contextId=1&userId=3`)).body.some((r: SocketRow) => r.connectionId === `sio-${route}`), 'the other node to see the socket', 3000);
          const res = await push(stack.nodes[other(route)].url, { contextId: 1, userId: 3, message: { name: 'demo:event', args: [{ route }, 2] }, pathFilter: '/socket.io/*' });
          expect(res.body).to.deep.include({ local: 0, remote: 1 });
          // With history on (the default), Socket.IO appends the event's offset, as its own server does with recovery.
          const args = await event;
          expect(args.slice(0, -1)).to.deep.equal([{ route }, 2]);
          expect(args.at(-1)).to.be.a('string').and.match(/^1\./);
          client.disconnect();
        }
      });
    });

    describe('when the sticky node dies', () => {
      it('the clients reconnect through the proxy to the survivor with the same session, and a push reaches them', async function () {
        const dead: Route = 'OX1';
        const survivor = other(dead);
        const auth = await loginWithRoute(stack.proxy, BOB, dead);
        const raw = await openThrough(stack.proxy, auth, 'failover-raw');
        const client = socketIoClient(stack.proxy, auth, 'failover-sio', true);
        await nextEvent(client, 'connect', 'Socket.IO to connect');
        expect(await holder(stack, BOB, 'failover-raw')).to.equal(dead);
        expect(await holder(stack, BOB, 'failover-sio')).to.equal(dead);
        const reconnected = nextEvent(client, 'connect', 'Socket.IO to reconnect by itself', 20_000);
        reconnected.catch(() => {});

        stack.nodes[dead].child.kill('SIGKILL');
        await stack.nodes[dead].exited;
        // The proxy closes the client side of the tunnel.
        expect(await raw.closedWith(5000)).to.be.a('number');

        // The raw client reconnects like a browser app would: same session, same cookies, through the proxy.
        // Until the survivor has seen the dead node's Last Will, the connection id may
        // still count as in use (400): retry, as a client with backoff would.
        const again = await reconnectThrough(stack.proxy, auth, 'failover-raw', 20_000);
        await reconnected;
        expect(await holder(stack, BOB, 'failover-raw')).to.equal(survivor);
        expect(await holder(stack, BOB, 'failover-sio')).to.equal(survivor);

        // The same session still answers through the proxy (on the survivor).
        const session = await http(`${stack.proxy.url}/api/session?session=${auth.session}`, { headers: { cookie: auth.cookie }, localAddress: CLIENT });
        expect(session.status, session.text).to.equal(200);

        // A push through the proxy (no cookie: balanced, the dead node is skipped) reaches both.
        const event = nextEvent(client, 'demo:after', 'the event after the failover');
        const res = await http(`${stack.proxy.url}/api/push`, {
          method: 'POST',
          headers: { authorization: 'Bearer test-admin-token' },
          body: { contextId: BOB.contextId, userId: BOB.userId, message: { name: 'demo:after', args: ['still here'] } },
          localAddress: CLIENT,
        });
        expect(res.status, res.text).to.equal(202);
        expect(res.body).to.deep.include({ local: 2, remote: 0 });
        expect(await again!.nextFrames(1, 5000)).to.deep.equal([JSON.stringify({ name: 'demo:after', args: ['still here'] })]);
        const args = await event;
        expect(args.slice(0, -1)).to.deep.equal(['still here']);
        expect(args.at(-1)).to.be.a('string').and.match(/^1\./);
      });
    });
  });
}
