/**
 * Wires a ws socket to its connection actor. The listeners are module-level
 * functions (one set for all sockets, as in ws itself), not closures per socket:
 * the actor is found through a symbol on the socket.
 *
 * Pings are answered here, not by ws (the server runs with `autoPong: false`):
 * ws's own answer terminates a socket with `maxPendingAutoPongs` (60) pongs
 * unwritten and says nothing of it, so the close was logged as the client's 1006.
 * Here the same bound tells the actor (`ws.flooded`), which logs it as a ping flood.
 *
 * A close reaches the actor through the node's admission queue (time/sliced-queue.ts),
 * not at once: when thousands of sockets die together (a network cut, a proxy
 * restarting) their ends are handled a few milliseconds per turn of the event loop,
 * in order with the upgrades of the clients coming back. Until then the actor is
 * still `open`; what it writes meanwhile goes nowhere, as it would have in the time
 * the close took to arrive.
 */
import type { RawData, WebSocket } from 'ws';
import type { ConnectionActor } from './connection.machine.ts';
import type { SlicedQueue } from '../time/sliced-queue.ts';

/**
 * Pongs queued but not yet handed to the kernel, past which a socket is dropped as
 * a ping flood: a peer sending pings faster than it reads the pongs (or one burst
 * of more pings than this in a single read). ws's default, kept.
 */
export const MAX_PENDING_PONGS = 60;

const ACTOR = Symbol('wsmesh.actor');
const PENDING_PONGS = Symbol('wsmesh.pendingPongs');
const PONG_WRITTEN = Symbol('wsmesh.pongWritten');
const ADMISSION = Symbol('wsmesh.admission');

type BoundSocket = WebSocket & { [ACTOR]?: ConnectionActor; [PENDING_PONGS]: number; [PONG_WRITTEN]: () => void; [ADMISSION]: SlicedQueue };

export function bindSocket(socket: WebSocket, actor: ConnectionActor, admission: SlicedQueue): void {
  const bound = socket as BoundSocket;
  bound[ACTOR] = actor;
  bound[ADMISSION] = admission;
  bound[PENDING_PONGS] = 0;
  // One callback per socket, as ws's own `_autoPongComplete`: the write callback gets no `this`.
  bound[PONG_WRITTEN] = () => bound[PENDING_PONGS]--;
  socket.on('message', onMessage);
  socket.on('ping', onPing);
  socket.on('pong', onPong);
  socket.on('close', onClose);
  socket.on('error', onError);
}

/** RFC 6455 section 5.5.2: answer a ping with a pong of the same data, while open. */
function onPing(this: WebSocket, data: Buffer): void {
  const socket = this as BoundSocket;
  if (socket.readyState !== socket.OPEN) return;
  if (socket[PENDING_PONGS] >= MAX_PENDING_PONGS) {
    actorOf(socket).send({ type: 'ws.flooded', pendingPongs: socket[PENDING_PONGS] });
    return;
  }
  socket[PENDING_PONGS]++;
  socket.pong(data, false, socket[PONG_WRITTEN]);
}

function actorOf(socket: WebSocket): ConnectionActor {
  return (socket as BoundSocket)[ACTOR]!;
}

function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  const buffer = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  actorOf(this).send({ type: 'ws.message', data: buffer, isBinary });
}

function onPong(this: WebSocket): void {
  actorOf(this).send({ type: 'peer.alive' });
}

function onClose(this: WebSocket, code: number, reason: Buffer): void {
  const actor = actorOf(this);
  const event = { type: 'ws.closed' as const, code, reason: reason.toString('utf8') };
  (this as BoundSocket)[ADMISSION].push(() => actor.send(event));
}

function onError(this: WebSocket, error: Error): void {
  actorOf(this).send({ type: 'ws.error', error });
}
