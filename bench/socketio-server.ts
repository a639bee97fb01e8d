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
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { Server } from 'socket.io';
import { BenchLogins, readJson, sendJson as send, serverArgs } from './lib/bench-http.ts';

const values = serverArgs('socketio-server.ts');
const logins = new BenchLogins(values.directory);

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
  allowRequest: (req, callback) => callback(null, logins.sessionOf(req) !== undefined),
});

io.on('connection', (socket) => {
  const session = logins.sessionOf(socket.request);
  if (!session) return socket.disconnect(true);
  void socket.join(room(session.userId));
});

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = req.url?.split('?')[0];
  if (path?.startsWith('/socket.io/')) return; // Socket.IO's own listener answers
  if (req.method === 'GET' && path === '/healthz') return send(res, 200, { status: 'ok' });
  if (req.method === 'POST' && path === '/api/login') return logins.login(req, res);
  if (req.method === 'POST' && path === '/push') {
    const { userId, message } = await readJson(req);
    if (typeof userId !== 'number' || typeof message !== 'string') return send(res, 400, { error: 'ERR_BAD_REQUEST' });
    const local = io.sockets.adapter.rooms.get(room(userId))?.size ?? 0;
    io.to(room(userId)).emit('push', message);
    return send(res, 202, { local });
  }
  send(res, 404, { error: 'ERR_NOT_FOUND' });
}

server.listen(values.port, values.host);

function stop(): void {
  io.disconnectSockets(true);
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
