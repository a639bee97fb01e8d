/**
 * Wires a ws socket to its connection actor. The listeners are module-level
 * functions (one set for all sockets, as in ws itself), not closures per socket:
 * the actor is found through a symbol on the socket.
 */
import type { RawData, WebSocket } from 'ws';
import type { ConnectionActor } from './connection.machine.ts';

const ACTOR = Symbol('wsmesh.actor');

type BoundSocket = WebSocket & { [ACTOR]?: ConnectionActor };

export function bindSocket(socket: WebSocket, actor: ConnectionActor): void {
  (socket as BoundSocket)[ACTOR] = actor;
  socket.on('message', onMessage);
  socket.on('pong', onPong);
  socket.on('close', onClose);
  socket.on('error', onError);
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
  actorOf(this).send({ type: 'ws.closed', code, reason: reason.toString('utf8') });
}

function onError(this: WebSocket, error: Error): void {
  actorOf(this).send({ type: 'ws.error', error });
}
