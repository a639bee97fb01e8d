/**
 * The baseline of bench/local-fanout.ts: the least a WebSocket push server must do,
 * on plain `ws` and `node:http`, speaking the same client protocol as wsmesh so the
 * bench drives both with the same load:
 *
 * - `POST /api/login {login}` -> `{session}` and a `bench-secret` cookie (no password
 *   check: the bench does not time logins);
 * - upgrade on `/ws/...?session=<id>` with the cookie -> the socket joins its user's set;
 * - `POST /push {userId, message}` -> the message is written to every socket of that
 *   user (a Map userId -> Set of sockets), answer 202 `{local}`;
 * - `GET /healthz` -> 200.
 *
 * With `--actors` it is the floor of the design card instead: the same server with
 * one XState actor per socket (an empty machine: `open` takes `msg.deliver` and
 * writes the frame, `closed` is final), and each push sending one event to each
 * actor of the user. What wsmesh does beyond that floor is what it can still shed.
 *
 * Usage: node --import tsx bench/baseline-server.ts --host H --port P --directory FILE [--actors]
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { createActor, setup, type Actor } from 'xstate';
import { BenchLogins, readJson, sendJson as send, serverArgs } from './lib/bench-http.ts';

const values = serverArgs('baseline-server.ts');
const logins = new BenchLogins(values.directory);
const socketsByUser = new Map<number, Set<WebSocket>>();

/** The floor's machine: as little as one actor per socket can be. */
const floorMachine = setup({
  types: { context: {} as { socket: WebSocket }, input: {} as { socket: WebSocket }, events: {} as { type: 'msg.deliver'; message: string } | { type: 'ws.closed' } },
  actions: { deliver: ({ context, event }) => event.type === 'msg.deliver' && context.socket.send(event.message) },
}).createMachine({
  id: 'floor',
  context: ({ input }) => ({ socket: input.socket }),
  initial: 'open',
  states: { open: { on: { 'msg.deliver': { actions: 'deliver' }, 'ws.closed': 'closed' } }, closed: { type: 'final' } },
});
const ACTOR = Symbol('bench.actor');
type FloorSocket = WebSocket & { [ACTOR]?: Actor<typeof floorMachine> };
const wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false });

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = req.url?.split('?')[0];
  if (req.method === 'GET' && path === '/healthz') return send(res, 200, { status: 'ok' });
  if (req.method === 'POST' && path === '/api/login') return logins.login(req, res);
  if (req.method === 'POST' && path === '/push') {
    const { userId, message } = await readJson(req);
    if (typeof userId !== 'number' || typeof message !== 'string') return send(res, 400, { error: 'ERR_BAD_REQUEST' });
    let local = 0;
    for (const socket of socketsByUser.get(userId) ?? []) {
      const actor = (socket as FloorSocket)[ACTOR];
      if (actor) actor.send({ type: 'msg.deliver', message });
      else socket.send(message);
      local++;
    }
    return send(res, 202, { local });
  }
  send(res, 404, { error: 'ERR_NOT_FOUND' });
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function forget(this: WebSocket & { userId?: number }): void {
  (this as FloorSocket)[ACTOR]?.send({ type: 'ws.closed' });
  const sockets = socketsByUser.get(this.userId!);
  sockets?.delete(this);
  if (sockets?.size === 0) socketsByUser.delete(this.userId!);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((error: Error) => {
    if (!res.headersSent) send(res, 400, { error: 'ERR_BAD_REQUEST', message: error.message });
  });
});

server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
  socket.on('error', () => {});
  if (!new URL(req.url ?? '/', 'http://localhost').pathname.startsWith('/ws/')) return refuse(socket, 404, 'Not Found');
  const session = logins.sessionOf(req);
  if (!session) return refuse(socket, 403, 'Forbidden');
  wss.handleUpgrade(req, socket, head, (ws: WebSocket & { userId?: number }) => {
    ws.userId = session.userId;
    let sockets = socketsByUser.get(session.userId);
    if (!sockets) socketsByUser.set(session.userId, (sockets = new Set()));
    sockets.add(ws);
    if (values.actors) (ws as FloorSocket)[ACTOR] = createActor(floorMachine, { input: { socket: ws } }).start();
    ws.on('close', forget);
    ws.on('error', () => {});
  });
});

server.listen(values.port, values.host);

function stop(): void {
  for (const sockets of socketsByUser.values()) for (const socket of sockets) socket.terminate();
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
