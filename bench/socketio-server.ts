/**
 * The Socket.IO 4 column of bench/local-fanout.ts: what a Node team would build with
 * Socket.IO for the same job, speaking the same login and push contract as wsmesh
 * and bench/baseline-server.ts so one load drives all three:
 *
 * - `POST /api/login {login}` -> `{session}` and a `bench-secret` cookie (no password
 *   check: the bench does not time logins);
 * - Engine.IO 4 over WebSocket only on `/socket.io/?EIO=4&transport=websocket&session=<id>`
 *   with the cookie; the session and cookie are checked in `allowRequest`, before the
 *   upgrade (a refusal is an HTTP 403, as on wsmesh); the socket joins the room of
 *   its user when it connects to the main namespace;
 * - `POST /push {userId, message}` -> `io.to(room).emit('push', message)`, answer
 *   202 `{local}` with the room's size;
 * - `GET /healthz` -> 200.
 *
 * Usage: node --import tsx bench/socketio-server.ts --host H --port P --directory FILE
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { Server } from 'socket.io';

const COOKIE = 'bench-secret';
const BODY_LIMIT = 1024 * 1024;

const { values } = parseArgs({ options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string' }, directory: { type: 'string' } } });
if (!values.port || !values.directory) {
  process.stderr.write('usage: socketio-server.ts --port P --directory FILE [--host H]\n');
  process.exit(2);
}

const userIds = new Map<string, number>(
  (JSON.parse(readFileSync(values.directory, 'utf8')) as { users: Array<{ id: number; login: string }> }).users.map((u) => [u.login, u.id]),
);
const sessions = new Map<string, { userId: number; secret: string }>();

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT) throw new Error('body too large');
    chunks.push(chunk);
  }
  const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('body must be a JSON object');
  return value as Record<string, unknown>;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The session of an Engine.IO request whose query and cookie match, else undefined. */
function sessionOf(req: IncomingMessage): { userId: number } | undefined {
  const id = new URL(req.url ?? '/', 'http://localhost').searchParams.get('session') ?? '';
  const session = sessions.get(id);
  return session && cookieValue(req.headers.cookie, COOKIE) === session.secret ? session : undefined;
}

const room = (userId: number) => `u:${userId}`;

// Socket.IO answers its own paths; every other request falls through to this handler.
const server = http.createServer((req, res) => {
  handle(req, res).catch((error: Error) => {
    if (!res.headersSent) send(res, 400, { error: 'ERR_BAD_REQUEST', message: error.message });
  });
});

const io = new Server(server, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  httpCompression: false,
  allowRequest: (req, callback) => callback(null, sessionOf(req) !== undefined),
});

io.on('connection', (socket) => {
  const session = sessionOf(socket.request);
  if (!session) return socket.disconnect(true);
  void socket.join(room(session.userId));
});

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = req.url?.split('?')[0];
  if (path?.startsWith('/socket.io/')) return; // Socket.IO's own listener answers
  if (req.method === 'GET' && path === '/healthz') return send(res, 200, { status: 'ok' });
  if (req.method === 'POST' && path === '/api/login') {
    const userId = userIds.get(String((await readJson(req)).login));
    if (userId === undefined) return send(res, 401, { error: 'ERR_LOGIN_FAILED' });
    const session = randomBytes(16).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    sessions.set(session, { userId, secret });
    return send(res, 200, { session, userId }, { 'set-cookie': `${COOKIE}=${secret}; Path=/; HttpOnly` });
  }
  if (req.method === 'POST' && path === '/push') {
    const { userId, message } = await readJson(req);
    if (typeof userId !== 'number' || typeof message !== 'string') return send(res, 400, { error: 'ERR_BAD_REQUEST' });
    const local = io.sockets.adapter.rooms.get(room(userId))?.size ?? 0;
    io.to(room(userId)).emit('push', message);
    return send(res, 202, { local });
  }
  send(res, 404, { error: 'ERR_NOT_FOUND' });
}

server.listen(Number(values.port), values.host);

function stop(): void {
  io.disconnectSockets(true);
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
