/**
 * One WebSocket connection as an XState actor:
 *
 *   upgrade --handshake.accepted--> authenticated --ws.opened--> open --conn.close--> closing --ws.closed--> closed
 *      \--handshake.rejected------------------------------------------------------------------------------^
 *                                        \--ws.opened (a stream to begin)--> recovering --stream.opened--> open
 *
 * `recovering` (history on, a socket with a stream: the raw protocol's envelope, or
 * Socket.IO v4): the node reads what the client missed and writes it before any
 * live message; live messages wait in the ports meanwhile (connection-delivery.ts).
 * Socket.IO begins it only with the client's CONNECT, which carries its offset.
 *
 * `open` probes liveness: `idle` waits `pingInterval`, then `probing` pings and waits
 * `pingTimeout` for any sign of life before dropping the peer (no close frame: it is
 * gone). The actor is created when the upgrade request arrives, so a rejected
 * handshake is an actor too (visible to the inspector), ending in `closed`.
 *
 * Context is plain data (ids, settings, identity, counters, the close); the socket,
 * the wire protocol, the node's hooks and the clocks are the actor's ports
 * (connection-ports.ts), looked up from `self`.
 *
 * Per-frame work (receive here, delivery in connection-delivery.ts) mutates `stats`
 * in place instead of `assign`ing: a copy of the context per frame is what the hot
 * path must not do. Outbound messages are not events: they change no state, and
 * connection-delivery.ts writes them through the ports while the actor is `open`.
 */
import { assign, createActor, enqueueActions, setup, type ActorOptions, type AnyActorLogic } from 'xstate';
import type { WebSocket } from 'ws';
import { CloseCode, type ErrorCode } from '../errors.ts';
import type { Farewell } from '../protocol/wire-protocol.ts';
import { attachPorts, portsOf, type ConnectionPorts } from './connection-ports.ts';
import { freshCursor, type Cursor } from '../history/cursor.ts';

export type { ConnectionHooks, ConnectionPorts } from './connection-ports.ts';

export interface ConnectionIdentity {
  contextId: number;
  userId: number;
  sessionId: string;
}

export interface ConnectionSettings {
  pingInterval: number;
  pingTimeout: number;
  maxBufferedBytes: number;
}

export type CloseInitiator = 'server' | 'client' | 'keepalive' | 'rejected';

/** Plain data: what the connection is. What it does I/O with is its ports (connection-ports.ts). */
export interface ConnectionInput {
  connectionId: string;
  path: string;
  remoteAddress: string;
  /** The wire protocol's name (`raw`, `socket.io`); the protocol itself is a port. */
  protocol: string;
  settings: ConnectionSettings;
  /**
   * The socket keeps a stream position (history on, a protocol that shows offsets):
   * `since` is the raw upgrade's `&since=` (validated), Socket.IO's comes with its CONNECT.
   */
  stream?: { since?: string; awaitConnect: boolean };
}

export interface ConnectionContext extends ConnectionInput {
  connectedAt: number;
  identity?: ConnectionIdentity;
  stats: { sent: number; received: number };
  /** What this socket was given of its user's stream (history/cursor.ts); updated in place per frame. */
  cursor?: Cursor;
  rejection?: ErrorCode;
  close?: { code: number; reason: string; by: CloseInitiator };
}

export interface ConnectionOutput {
  connectionId: string;
  identity?: ConnectionIdentity;
  rejection?: ErrorCode;
  code: number;
  reason: string;
  by: CloseInitiator;
  durationMs: number;
  sent: number;
  received: number;
}

export type ConnectionEvent =
  | { type: 'handshake.accepted'; identity: ConnectionIdentity }
  | { type: 'handshake.rejected'; code: ErrorCode }
  | { type: 'ws.opened'; socket: WebSocket }
  | { type: 'ws.message'; data: Buffer; isBinary: boolean }
  | { type: 'ws.closed'; code: number; reason: string }
  | { type: 'ws.error'; error: Error & { code?: string } }
  /** The peer's pings outran its reading of the pongs (socket-events.ts, MAX_PENDING_PONGS). */
  | { type: 'ws.flooded'; pendingPongs: number }
  | { type: 'peer.alive' }
  | { type: 'conn.close'; code: number; reason: string; farewell?: Farewell }
  /** The recovery wrote the stream's first frames, what was missed and what waited: live from now on. */
  | { type: 'stream.opened' };

/** What a socket that is up (`recovering`, `open`) does with frames and closes, in either state. */
const SOCKET_UP = {
  'ws.message': { actions: 'receive' as const },
  'conn.close': { target: 'closing', actions: ['startClose' as const, 'closedByServer' as const] },
  'ws.error': { target: 'closing', actions: 'wsFailed' as const },
  'ws.closed': { target: 'closed', actions: 'closedByClient' as const },
  // Dropped at once, as ws itself would: a peer that does not read would not read a close frame either.
  'ws.flooded': { target: 'closed', actions: ['terminate' as const, 'pingFlooded' as const] },
};

/** How long a stream may take to begin: Socket.IO's server waits as long for a CONNECT (its connectTimeout). */
const STREAM_TIMEOUT_MS = 45_000;

/**
 * Liveness while the socket is up (`open`, `recovering`): `idle` waits pingInterval,
 * `probing` pings and waits pingTimeout for any sign of life.
 */
function keepalive() {
  return {
    initial: 'idle' as const,
    states: {
      idle: {
        after: { pingInterval: 'probing' },
        // Restart the wait: for protocols where the client pings, each ping counts.
        on: { 'peer.alive': { target: 'idle', reenter: true } },
      },
      probing: {
        entry: 'ping' as const,
        after: {
          pingTimeout: {
            target: '#connection.closed',
            actions: ['terminate' as const, 'keepaliveTimedOut' as const],
          },
        },
        on: { 'peer.alive': 'idle' },
      },
    },
  };
}

/** The ping interval's jitter steps above its lowest (90%): 0..JITTER_STEPS. */
const JITTER_STEPS = 20;

function jitterStep(random: number): number {
  return Math.min(JITTER_STEPS, Math.floor(random * (JITTER_STEPS + 1)));
}

function write(socket: WebSocket, frames: string[]): void {
  for (const frame of frames) socket.send(frame);
}

// Every connection actor is created by createConnectionActor, which attaches its ports.
const ports = (self: object): ConnectionPorts => portsOf(self)!;

export const connectionMachine = setup({
  types: {
    input: {} as ConnectionInput & { connectedAt: number },
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    output: {} as ConnectionOutput,
  },
  delays: {
    // +-10% per interval: sockets opened together (a reconnect storm) would otherwise
    // ping together forever, in waves of CPU every pingInterval. In 21 steps of 1%:
    // Node keeps one timer list per distinct duration, so a few durations shared by
    // every socket make arming a socket's timer an append, not a new list.
    pingInterval: ({ context, self }) => Math.round(context.settings.pingInterval * (0.9 + (0.2 * jitterStep(ports(self).random())) / JITTER_STEPS)),
    pingTimeout: ({ context }) => context.settings.pingTimeout,
    streamTimeout: STREAM_TIMEOUT_MS,
  },
  actions: {
    takeSocket: ({ event, self }) => {
      if (event.type === 'ws.opened') ports(self).socket = event.socket;
    },
    greet: ({ context, self }) => {
      const { protocol, socket } = ports(self);
      write(socket!, protocol.greeting(context.connectionId));
    },
    ping: ({ self }) => {
      const { protocol, socket } = ports(self);
      if (protocol.ping === 'ws-ping') socket!.ping();
      else if (protocol.ping !== 'client-pings') socket!.send(protocol.ping.frame);
    },
    receive: enqueueActions(({ context, event, enqueue, self }) => {
      if (event.type !== 'ws.message') return;
      const { protocol, socket, hooks } = ports(self);
      const inbound = protocol.decode(event.data, event.isBinary);
      switch (inbound.kind) {
        case 'message':
          context.stats.received++;
          if (inbound.reply) write(socket!, inbound.reply);
          hooks.inbound(context, inbound);
          return;
        case 'alive':
          if (inbound.reply) write(socket!, inbound.reply);
          enqueue.raise({ type: 'peer.alive' });
          return;
        case 'reply':
          write(socket!, inbound.frames);
          return;
        case 'violation':
          enqueue.raise({ type: 'conn.close', code: inbound.closeCode, reason: inbound.reason });
          return;
        case 'connect':
          // Only a socket waiting for its stream asks; a repeated CONNECT later changes nothing.
          if (self.getSnapshot().matches('recovering') && !context.cursor) {
            context.cursor = freshCursor(ports(self).now());
            hooks.recover(self as never, { since: inbound.offset, pid: inbound.pid });
          }
      }
    }),
    beginStream: ({ context, self }) => {
      if (context.stream!.awaitConnect) return;
      context.cursor = freshCursor(ports(self).now());
      ports(self).hooks.recover(self as never, { since: context.stream!.since });
    },
    startClose: ({ event, self }) => {
      if (event.type !== 'conn.close') return;
      const { protocol, socket } = ports(self);
      if (event.farewell) write(socket!, protocol.farewell(event.farewell));
      socket!.close(event.code, event.reason);
    },
    terminate: ({ self }) => ports(self).socket?.terminate(),
    closedByServer: assign({ close: ({ event }) => (event.type === 'conn.close' ? { code: event.code, reason: event.reason, by: 'server' as const } : undefined) }),
    // ws closes by itself after a protocol error (e.g. 1009 for an oversized frame);
    // remember the code it sent, the 'close' event follows.
    wsFailed: assign({ close: ({ event }) => (event.type === 'ws.error' ? { code: closeCodeOf(event.error), reason: event.error.message, by: 'server' as const } : undefined) }),
    closedByClient: assign({ close: ({ event }) => (event.type === 'ws.closed' ? { code: event.code, reason: event.reason, by: 'client' as const } : undefined) }),
    keepaliveTimedOut: assign({ close: () => ({ code: CloseCode.ABNORMAL, reason: 'keepalive timeout', by: 'keepalive' as const }) }),
    pingFlooded: assign({ close: () => ({ code: CloseCode.ABNORMAL, reason: 'ping flood', by: 'server' as const }) }),
  },
}).createMachine({
  id: 'connection',
  context: ({ input }) => ({ ...input, stats: { sent: 0, received: 0 } }),
  initial: 'upgrade',
  states: {
    upgrade: {
      on: {
        'handshake.accepted': {
          target: 'authenticated',
          actions: assign({ identity: ({ event }) => event.identity }),
        },
        'handshake.rejected': {
          target: 'closed',
          actions: assign({
            rejection: ({ event }) => event.code,
            close: ({ event }) => ({ code: 0, reason: event.code, by: 'rejected' as const }),
          }),
        },
      },
    },
    authenticated: {
      on: {
        'ws.opened': [
          { guard: ({ context }) => context.stream !== undefined, target: 'recovering', actions: ['takeSocket', 'greet'] },
          { target: 'open', actions: ['takeSocket', 'greet'] },
        ],
        // The WebSocket handshake itself failed after the checks passed (bad headers).
        'handshake.rejected': {
          target: 'closed',
          actions: assign({
            rejection: ({ event }) => event.code,
            close: ({ event }) => ({ code: 0, reason: event.code, by: 'rejected' as const }),
          }),
        },
      },
    },
    recovering: {
      entry: 'beginStream',
      // Alive while it waits: a Socket.IO client may take its time to CONNECT.
      ...keepalive(),
      // Bounded: the history read gives up after cluster.syncTimeout; a Socket.IO client
      // that sends no CONNECT is closed after Socket.IO's own connectTimeout.
      after: {
        streamTimeout: {
          target: 'closing',
          actions: [
            ({ self }) => ports(self).socket!.close(CloseCode.POLICY_VIOLATION, 'stream did not begin in time'),
            assign({ close: () => ({ code: CloseCode.POLICY_VIOLATION, reason: 'stream did not begin in time', by: 'server' as const }) }),
          ],
        },
      },
      on: {
        'stream.opened': 'open',
        ...SOCKET_UP,
      },
    },
    open: {
      ...keepalive(),
      on: {
        ...SOCKET_UP,
      },
    },
    closing: {
      // A peer that does not finish the closing handshake in time is dropped.
      after: { pingTimeout: { target: 'closed', actions: 'terminate' } },
      on: { 'ws.closed': 'closed' },
    },
    closed: { type: 'final' },
  },
  output: ({ context, self }) => ({
    connectionId: context.connectionId,
    identity: context.identity,
    rejection: context.rejection,
    code: context.close?.code ?? CloseCode.ABNORMAL,
    reason: context.close?.reason ?? '',
    by: context.close?.by ?? 'client',
    durationMs: ports(self).now() - context.connectedAt,
    sent: context.stats.sent,
    received: context.stats.received,
  }),
});

/** The close code ws sends after each of its protocol errors (RFC 6455 section 7.4.1). */
const WS_ERROR_CLOSE_CODES: Record<string, number> = {
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: CloseCode.MESSAGE_TOO_BIG,
  WS_ERR_TOO_MANY_BUFFERED_PARTS: CloseCode.MESSAGE_TOO_BIG,
  WS_ERR_INVALID_UTF8: CloseCode.INVALID_PAYLOAD,
  WS_ERR_INVALID_CLOSE_CODE: CloseCode.PROTOCOL_ERROR,
};

function closeCodeOf(error: Error & { code?: string }): number {
  if (!error.code) return CloseCode.ABNORMAL;
  // Every other WS_ERR_* is a framing violation: 1002 (protocol error).
  return WS_ERROR_CLOSE_CODES[error.code] ?? (error.code.startsWith('WS_ERR_') ? CloseCode.PROTOCOL_ERROR : CloseCode.ABNORMAL);
}

export type ConnectionActor = ReturnType<typeof createConnectionActor>;

/** What the node gives each connection; the clocks default to the real ones. */
export type ConnectionPortsInput = Pick<ConnectionPorts, 'protocol' | 'hooks'> & Partial<Pick<ConnectionPorts, 'now' | 'random'>>;

/** An independent actor (not an XState child: see docs/architecture.md, "Why not spawnChild"). */
export function createConnectionActor(input: ConnectionInput, given: ConnectionPortsInput, options: Pick<ActorOptions<AnyActorLogic>, 'inspect' | 'clock'> = {}) {
  const ports: ConnectionPorts = { protocol: given.protocol, hooks: given.hooks, now: given.now ?? Date.now, random: given.random ?? Math.random };
  const actor = createActor(connectionMachine, { input: { ...input, connectedAt: ports.now() }, ...options });
  attachPorts(actor, ports);
  return actor;
}
