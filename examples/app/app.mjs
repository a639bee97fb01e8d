// A web application with its own users and login whose users open wsmesh sockets
// (docs/auth.md). Mode proxy (the default): wsmesh asks POST /wsmesh/connect who an
// upgrade is for. Mode jwt: the login issues a JWT that wsmesh verifies itself.
// Plain JavaScript, so it runs with `node` and no build, like examples/iot.
//
//   WSMESH_ADMIN_TOKEN=... node examples/app/app.mjs [--port 3000] [--wsmesh http://127.0.0.1:8009]
//   WSMESH_ADMIN_TOKEN=... WSMESH_JWT_SECRET=... node examples/app/app.mjs --mode jwt
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Koa from 'koa';
import { SignJWT } from 'jose';

// The app's own users. The ids are what wsmesh pushes by: alice (3) and bob (4) are in
// wsmesh's demo directory too, erin (50) is not. A real app stores password hashes.
const USERS = {
  alice: { password: 'alice-pw', contextId: 1, userId: 3 },
  bob: { password: 'bob-pw', contextId: 1, userId: 4 },
  erin: { password: 'erin-pw', contextId: 1, userId: 50 },
};
const SESSION_COOKIE = 'app_session';
/** Read by wsmesh with --auth.jwt.cookie wsmesh_token (mode jwt). */
const TOKEN_COOKIE = 'wsmesh_token';

const { values: args } = parseArgs({
  options: {
    mode: { type: 'string', default: 'proxy' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '3000' },
    wsmesh: { type: 'string', default: 'http://127.0.0.1:8009' },
    ttl: { type: 'string', default: '3600' },
  },
});
const mode = args.mode;
const ttlMs = Number(args.ttl) * 1000;
const adminToken = process.env.WSMESH_ADMIN_TOKEN;
const jwtKey = new TextEncoder().encode(process.env.WSMESH_JWT_SECRET ?? '');
if (mode !== 'proxy' && mode !== 'jwt') fail('--mode is proxy or jwt');
if (!adminToken) fail("set WSMESH_ADMIN_TOKEN to wsmesh's admin token: the logout calls wsmesh with it");
if (mode === 'jwt' && jwtKey.length < 32) fail('mode jwt: set WSMESH_JWT_SECRET (32 bytes or more) to the secret wsmesh verifies with');

/** Cookie secret -> {id, userId, contextId, expiresAt}. `id` is the session id wsmesh is told: never the secret. */
const sessions = new Map();
const page = readFileSync(new URL('page.html', import.meta.url), 'utf8').replace('{{WSMESH_PORT}}', new URL(args.wsmesh).port || '80');

const app = new Koa();
app.use(async (ctx) => {
  const route = `${ctx.method} ${ctx.path}`;
  if (route === 'GET /') {
    ctx.type = 'html';
    ctx.body = page;
  } else if (route === 'POST /login') await login(ctx);
  else if (route === 'POST /logout') await logout(ctx);
  else if (route === 'POST /wsmesh/connect' && mode === 'proxy') await connect(ctx);
  else ctx.throw(404);
});

async function login(ctx) {
  const { login, password } = await readJson(ctx);
  const user = Object.hasOwn(USERS, login) ? USERS[login] : undefined;
  if (!user || password !== user.password) ctx.throw(401, 'wrong login or password');
  const secret = randomBytes(24).toString('base64url');
  const session = { id: randomUUID(), userId: user.userId, contextId: user.contextId, expiresAt: Date.now() + ttlMs };
  sessions.set(secret, session);
  // No Domain: a host-only cookie for this host name, which the browser also sends to wsmesh's port on it.
  const options = { httpOnly: true, sameSite: 'lax', path: '/', maxAge: ttlMs };
  ctx.cookies.set(SESSION_COOKIE, secret, options);
  ctx.body = { userId: user.userId, contextId: user.contextId, sessionId: session.id, expiresAt: session.expiresAt };
  if (mode === 'jwt') {
    const token = await new SignJWT({ ctx: user.contextId, sid: session.id })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(user.userId))
      .setExpirationTime(Math.floor(session.expiresAt / 1000))
      .sign(jwtKey);
    ctx.cookies.set(TOKEN_COOKIE, token, options);
    ctx.body.token = token; // for clients without cookies: ?token=
  }
}

async function logout(ctx) {
  const secret = ctx.cookies.get(SESSION_COOKIE);
  const session = secret && sessions.get(secret);
  for (const name of [SESSION_COOKIE, TOKEN_COOKIE]) ctx.cookies.set(name, null, { path: '/' });
  if (!session) ctx.throw(401, 'not logged in');
  // Ended here first, so the connect proxy refuses the cookie before wsmesh closes the sockets.
  sessions.delete(secret);
  // wsmesh's logout hook: the session's sockets close with 4401 on every node.
  try {
    const res = await fetch(`${args.wsmesh}/api/admin/sessions/end`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sessionId: session.id }),
    });
    ctx.body = { loggedOut: true, wsmesh: { status: res.status, ...(await res.json()) } };
  } catch (error) {
    ctx.body = { loggedOut: true, wsmesh: { error: String(error.cause?.code ?? error.message) } };
  }
}

/** The connect proxy: wsmesh POSTs {path, query, clientAddress, origin, headers}; the upgrade's cookies are in headers.cookie. */
async function connect(ctx) {
  const upgrade = await readJson(ctx);
  const secret = cookieValue(String(upgrade.headers?.cookie ?? ''), SESSION_COOKIE);
  const session = secret && sessions.get(secret);
  if (!session || session.expiresAt <= Date.now()) {
    ctx.status = 401; // wsmesh refuses the upgrade: 403 ERR_SESSION_UNKNOWN
    return;
  }
  ctx.body = { userId: session.userId, contextId: session.contextId, sessionId: session.id, expiresAt: session.expiresAt };
}

async function readJson(ctx) {
  let text = '';
  for await (const chunk of ctx.req) {
    text += chunk;
    if (text.length > 65536) ctx.throw(413);
  }
  try {
    const value = JSON.parse(text);
    if (value && typeof value === 'object') return value;
  } catch {
    // answered below
  }
  ctx.throw(400, 'a JSON object is expected');
}

function cookieValue(header, name) {
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

function fail(message) {
  console.error(`app: ${message}`);
  process.exit(2);
}

const server = app.listen(Number(args.port), args.host, () => {
  const { port } = server.address();
  const flags = mode === 'proxy' ? `--auth.proxy.url http://${args.host}:${port}/wsmesh/connect` : `--auth.jwt.cookie ${TOKEN_COOKIE} (with the same WSMESH_JWT_SECRET)`;
  console.log(`app: listening on http://${args.host}:${port} (mode ${mode}, wsmesh ${args.wsmesh})`);
  console.log(`app: start wsmesh with ${flags} --websockets.allowedOrigins http://localhost:${port}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.closeAllConnections(); // a browser's idle keep-alive connection must not hold the exit
    server.close(() => process.exit(0));
  });
}
