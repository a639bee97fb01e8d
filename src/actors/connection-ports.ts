/**
 * What a connection actor does its I/O with: its socket, its wire protocol, the
 * node's hooks and clocks. They live beside the actor, keyed by it, not in its
 * context: the context stays plain data (a snapshot can be recorded, compared and
 * shown by the inspector as it is), and every action finds its ports from `self` in
 * O(1). A WeakMap, so an ended actor's ports go with it.
 *
 * Why not `.provide()` per connection: it builds a new machine (its whole state-node
 * tree) per socket. The node-level effects (hooks) could be provided once per node,
 * but the socket is per connection, so one lookup serves all of them alike.
 */
import type { WebSocket } from 'ws';
import type { ClientEvent, WireProtocol } from '../protocol/wire-protocol.ts';
import type { ConnectionActor, ConnectionContext } from './connection.machine.ts';
import type { OutboundMessage } from '../delivery/message.ts';

/** Callbacks to the node: they count and route, the actor decides. */
export interface ConnectionHooks {
  /** A client's message: its text, and for Socket.IO the event it was. */
  inbound(connection: ConnectionContext, message: { text: string; event?: ClientEvent }): void;
  slowConsumer(connection: ConnectionContext, bufferedBytes: number): void;
  /**
   * The socket's stream begins (state `recovering`): the node writes what it missed
   * since `since` (none: a fresh stream) and then sends `stream.opened`.
   */
  recover(actor: ConnectionActor, request: { since?: string; pid?: string }): void;
}

export interface ConnectionPorts {
  protocol: WireProtocol;
  hooks: ConnectionHooks;
  now: () => number;
  /** Source of the ping jitter (tests pass a constant). */
  random: () => number;
  /** Set when the WebSocket opened (`ws.opened`). */
  socket?: WebSocket;
  /**
   * Live messages that arrived while the stream was `recovering`, written after what
   * was missed (messages are not context: the inspector must never show them).
   */
  waiting?: { messages: OutboundMessage[]; bytes: number };
}

const PORTS = new WeakMap<object, ConnectionPorts>();

export function attachPorts(actor: object, ports: ConnectionPorts): void {
  PORTS.set(actor, ports);
}

/** The ports of a connection actor (`self` in its actions); undefined for any other actor. */
export function portsOf(actor: object): ConnectionPorts | undefined {
  return PORTS.get(actor);
}
