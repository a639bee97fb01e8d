/**
 * One WebSocket connection as an XState actor:
 *
 *   upgrade --handshake.accepted--> authenticated --ws.opened--> open --conn.close--> closing --ws.closed--> closed
 *      \--handshake.rejected------------------------------------------------------------------------------^
 *
 * `open` probes liveness: `idle` waits `pingInterval`, then `probing` pings and waits
 * `pingTimeout` for any sign of life before dropping the peer (no close frame: it is
 * gone). The actor is created when the upgrade request arrives, so a rejected
 * handshake is an actor too (visible to the inspector), ending in `closed`.
 *
 * Per-frame work (deliver, receive) mutates `stats` in place instead of `assign`ing:
 * a copy of the context per frame is what this file must not do on the hot path.
 */
import { assign, createActor, enqueueActions, setup, type ActorOptions, type AnyActorLogic } from 'xstate';
import type { WebSocket } from 'ws';
import { CloseCode, type ErrorCode } from '../errors.ts';
import type { Farewell, WireProtocol } from '../protocol/wire-protocol.ts';

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

/** Callbacks to the node: they count and route, the actor decides. */
export interface ConnectionHooks {
  inbound(connection: ConnectionContext, text: string): void;
  slowConsumer(connection: ConnectionContext): void;
  /** A message that reached a socket no longer open (closing, or closed in between). */
  dropped(connection: ConnectionContext, reason: 'closing'): void;
}

export interface ConnectionInput {
  connectionId: string;
  path: string;
  remoteAddress: string;
  protocol: WireProtocol;
  settings: ConnectionSettings;
  hooks: ConnectionHooks;
  now?: () => number;
  /** Source of the ping jitter (tests pass a constant). */
  random?: () => number;
}

export interface ConnectionContext extends ConnectionInput {
  now: () => number;
  random: () => number;
  identity?: ConnectionIdentity;
  socket?: WebSocket;
  connectedAt: number;
  stats: { sent: number; received: number };
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
  | { type: 'peer.alive' }
  | { type: 'msg.deliver'; message: string }
  | { type: 'conn.close'; code: number; reason: string; farewell?: Farewell };

function write(context: ConnectionContext, frames: string[]): void {
  for (const frame of frames) context.socket!.send(frame);
}

export const connectionMachine = setup({
  types: {
    input: {} as ConnectionInput,
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    output: {} as ConnectionOutput,
  },
  delays: {
    // +-10% per interval: sockets opened together (a reconnect storm) would otherwise
    // ping together forever, in waves of CPU every pingInterval.
    pingInterval: ({ context }) => Math.round(context.settings.pingInterval * (0.9 + 0.2 * context.random())),
    pingTimeout: ({ context }) => context.settings.pingTimeout,
  },
  actions: {
    greet: ({ context }) => write(context, context.protocol.greeting(context.connectionId)),
    ping: ({ context }) => {
      const { ping } = context.protocol;
      if (ping === 'ws-ping') context.socket!.ping();
      else if (ping !== 'client-pings') context.socket!.send(ping.frame);
    },
    // A plain action, not enqueueActions: this runs once per delivered frame, and the
    // rare close goes through the mailbox (taken right after this event, before any
    // later one) instead of making every delivery resolve an action queue.
    deliver: ({ context, event, self }) => {
      if (event.type !== 'msg.deliver') return;
      const socket = context.socket!;
      socket.send(context.protocol.encode(event.message));
      context.stats.sent++;
      // Backpressure: what the kernel did not take waits in user space; past the
      // limit the consumer is too slow and is closed rather than buffered forever.
      if (socket.bufferedAmount > context.settings.maxBufferedBytes) {
        context.hooks.slowConsumer(context);
        self.send({ type: 'conn.close', code: CloseCode.TRY_AGAIN_LATER, reason: 'slow consumer' });
      }
    },
    receive: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'ws.message') return;
      const inbound = context.protocol.decode(event.data, event.isBinary);
      switch (inbound.kind) {
        case 'message':
          context.stats.received++;
          if (inbound.reply) write(context, inbound.reply);
          context.hooks.inbound(context, inbound.text);
          return;
        case 'alive':
          if (inbound.reply) write(context, inbound.reply);
          enqueue.raise({ type: 'peer.alive' });
          return;
        case 'reply':
          write(context, inbound.frames);
          return;
        case 'violation':
          enqueue.raise({ type: 'conn.close', code: inbound.closeCode, reason: inbound.reason });
      }
    }),
    dropWhileClosing: ({ context }) => context.hooks.dropped(context, 'closing'),
    startClose: ({ context, event }) => {
      if (event.type !== 'conn.close') return;
      if (event.farewell) write(context, context.protocol.farewell(event.farewell));
      context.socket!.close(event.code, event.reason);
    },
    terminate: ({ context }) => context.socket?.terminate(),
  },
}).createMachine({
  id: 'connection',
  context: ({ input }) => ({
    ...input,
    now: input.now ?? Date.now,
    random: input.random ?? Math.random,
    connectedAt: (input.now ?? Date.now)(),
    stats: { sent: 0, received: 0 },
  }),
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
        'ws.opened': { target: 'open', actions: assign({ socket: ({ event }) => event.socket }) },
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
    open: {
      entry: 'greet',
      initial: 'idle',
      states: {
        idle: {
          after: { pingInterval: 'probing' },
          // Restart the wait: for protocols where the client pings, each ping counts.
          on: { 'peer.alive': { target: 'idle', reenter: true } },
        },
        probing: {
          entry: 'ping',
          after: {
            pingTimeout: {
              target: '#connection.closed',
              actions: [
                'terminate',
                assign({ close: () => ({ code: CloseCode.ABNORMAL, reason: 'keepalive timeout', by: 'keepalive' as const }) }),
              ],
            },
          },
          on: { 'peer.alive': 'idle' },
        },
      },
      on: {
        'msg.deliver': { actions: 'deliver' },
        'ws.message': { actions: 'receive' },
        'conn.close': {
          target: 'closing',
          actions: ['startClose', assign({ close: ({ event }) => ({ code: event.code, reason: event.reason, by: 'server' as const }) })],
        },
        'ws.error': {
          // ws closes by itself after a protocol error (e.g. 1009 for an oversized
          // frame); remember the code it sent, the 'close' event follows.
          target: 'closing',
          actions: assign({ close: ({ event }) => ({ code: closeCodeOf(event.error), reason: event.error.message, by: 'server' as const }) }),
        },
        'ws.closed': {
          target: 'closed',
          actions: assign({ close: ({ event }) => ({ code: event.code, reason: event.reason, by: 'client' as const }) }),
        },
      },
    },
    closing: {
      // A peer that does not finish the closing handshake in time is dropped.
      after: { pingTimeout: { target: 'closed', actions: 'terminate' } },
      on: {
        'msg.deliver': { actions: 'dropWhileClosing' },
        'ws.closed': 'closed',
      },
    },
    closed: { type: 'final' },
  },
  output: ({ context }) => ({
    connectionId: context.connectionId,
    identity: context.identity,
    rejection: context.rejection,
    code: context.close?.code ?? CloseCode.ABNORMAL,
    reason: context.close?.reason ?? '',
    by: context.close?.by ?? 'client',
    durationMs: context.now() - context.connectedAt,
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

/** An independent actor (not an XState child: see docs/architecture.md, "Why not spawnChild"). */
export function createConnectionActor(input: ConnectionInput, options: Pick<ActorOptions<AnyActorLogic>, 'inspect' | 'clock'> = {}) {
  return createActor(connectionMachine, { input, ...options });
}
