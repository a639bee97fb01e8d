/**
 * The node supervisor: owns this node's connection actors and its lifecycle.
 *
 *   running --node.drain--> draining --(no sockets left | shutdownTimeout)--> stopped
 *
 * Connection actors are independent actors kept in a `SocketIndex`, not XState
 * children: xstate copies a parent's whole children map on every spawn and stop, so
 * 50k children would make each connect and disconnect O(sockets) (measured in
 * ../shared/brief.md). The inspector follows them on demand (src/inspect/hub.ts).
 * The index grows by `admitConnection` and shrinks by the `conn.ended` event: the
 * supervisor (node.actor.ts) spawns and admits by calling this file's functions
 * while the machine is `running`, not through events, since a handshake is on the hot
 * path and those steps change no state of the node's; a connection's end is an event,
 * since draining waits for the last one. Its one real child is the coalescing buffer
 * (buffer.machine.ts), flushed when the node drains.
 */
import { assign, sendTo, setup, type ActorOptions, type AnyActorLogic, type AnyActorRef } from 'xstate';
import { CloseCode, type ErrorCode } from '../errors.ts';
import { createConnectionActor, type ConnectionActor, type ConnectionContext, type ConnectionIdentity, type ConnectionInput, type ConnectionOutput, type ConnectionPortsInput } from './connection.machine.ts';
import { portsOf } from './connection-ports.ts';
import type { ConnectionHandle, SocketIndex } from '../delivery/socket-index.ts';
import type { Remote } from '../delivery/remote.ts';
import { bufferMachine, type BufferInput } from './buffer.machine.ts';
import type { RemoteBufferConfig } from '../config/types.ts';
import type { Timers } from '../time/timers.ts';
import { drainer } from './drainer.actor.ts';

export interface Admission {
  identity: ConnectionIdentity;
  connectionId: string;
  path: string;
  /** The served prefix the path is under (`/ws`, `/socket.io`): metrics count sockets by it. */
  prefix: string;
  remoteAddress: string;
}

export interface NodeInput {
  index: SocketIndex;
  remote: Remote;
  maxSocketsPerUser: number;
  shutdownTimeout: number;
  drainDuration: number;
  timers: Timers;
  /** The coalescing buffer for messages bound for other nodes: this machine's one real child. */
  buffer: BufferInput;
  inspect?: ActorOptions<AnyActorLogic>['inspect'];
  /**
   * The observer of connection actors, if any: by default none (the inspector follows
   * them on demand, src/inspect/hub.ts), since an observed actor costs three
   * inspection events per event it takes.
   */
  connectionInspect?: ActorOptions<AnyActorLogic>['inspect'];
  /** Told when a connection actor started (the inspector's on-demand source). */
  onConnectionSpawned?: (actor: ConnectionActor) => void;
  /** Told when a connection is admitted (counters). */
  onConnectionAdmitted?: (handle: ConnectionHandle) => void;
  /** Told when a connection actor reaches `closed` (logging, counters). */
  onConnectionEnded?: (output: ConnectionOutput, handle: ConnectionHandle | undefined, actor: ConnectionActor) => void;
}

export interface NodeContext extends NodeInput {}

export type NodeEvent =
  | { type: 'conn.ended'; actor: ConnectionActor; handle: ConnectionHandle | undefined; output: ConnectionOutput }
  | { type: 'config.updated'; maxSocketsPerUser: number; remote: RemoteBufferConfig; drainDuration?: number; shutdownTimeout?: number }
  | { type: 'node.drain' }
  | { type: 'drain.done' };

/** What an errored connection reports: closed with 1011, the error as the reason. */
function failedOutput(connection: ConnectionContext, now: number, error: unknown): ConnectionOutput {
  return {
    connectionId: connection.connectionId,
    identity: connection.identity,
    code: CloseCode.INTERNAL_ERROR,
    reason: `internal error: ${(error as Error)?.message ?? String(error)}`,
    by: 'server',
    durationMs: now - connection.connectedAt,
    sent: connection.stats.sent,
    received: connection.stats.received,
  };
}

/** Handles by actor, so a finished actor finds its index entry in O(1). */
const HANDLE = new WeakMap<ConnectionActor, ConnectionHandle>();

/**
 * A connection actor for a new upgrade, in `upgrade`: an independent actor whose end
 * the supervisor hears of as `conn.ended`. Called by the supervisor (node.actor.ts)
 * only while the machine is `running`.
 */
export function spawnConnection(context: NodeContext, supervisor: AnyActorRef, input: ConnectionInput, ports: ConnectionPortsInput): ConnectionActor {
  const actor = createConnectionActor(input, ports, { inspect: context.connectionInspect });
  actor.subscribe({
    complete: () => supervisor.send({ type: 'conn.ended', actor, handle: HANDLE.get(actor), output: actor.getSnapshot().output! }),
    // A bug in one connection (an action that throws) must cost that socket, not
    // the node: without an error listener xstate rethrows from a timer.
    error: (error) => {
      const ports = portsOf(actor)!;
      ports.socket?.terminate();
      supervisor.send({ type: 'conn.ended', actor, handle: HANDLE.get(actor), output: failedOutput(actor.getSnapshot().context, ports.now(), error) });
    },
  });
  actor.start();
  context.onConnectionSpawned?.(actor);
  return actor;
}

/**
 * Indexes an authenticated connection, or says why not. The id and the per-user limit
 * are checked in one synchronous step with the insertion, so concurrent handshakes of
 * one user cannot all pass the limit. Called only while the machine is `running`.
 */
export function admitConnection(context: NodeContext, actor: ConnectionActor, admission: Admission): ErrorCode | undefined {
  const { identity, connectionId } = admission;
  const { index, remote } = context;
  if (index.get(identity.contextId, identity.userId, connectionId) || remote.hasConnection(identity.contextId, identity.userId, connectionId)) {
    return 'ERR_CONNECTION_ID_IN_USE';
  }
  const open = index.countOfUser(identity.contextId, identity.userId) + remote.countOfUser(identity.contextId, identity.userId);
  if (open >= context.maxSocketsPerUser) return 'ERR_TOO_MANY_SOCKETS';
  const handle: ConnectionHandle = { ...admission, ...identity, connectedAt: Date.now(), actor };
  index.add(handle);
  HANDLE.set(actor, handle);
  remote.localChanged(identity.contextId, identity.userId);
  context.onConnectionAdmitted?.(handle);
  actor.send({ type: 'handshake.accepted', identity });
  return undefined;
}

export const nodeMachine = setup({
  types: { input: {} as NodeInput, context: {} as NodeContext, events: {} as NodeEvent },
  actors: { buffer: bufferMachine, drainer },
  delays: { shutdownTimeout: ({ context }) => context.shutdownTimeout },
  guards: { noSockets: ({ context }) => context.index.size === 0 },
  actions: {
    forgetConnection: ({ context, event }) => {
      if (event.type !== 'conn.ended') return;
      if (event.handle && context.index.remove(event.handle)) context.remote.localChanged(event.handle.contextId, event.handle.userId);
      context.onConnectionEnded?.(event.output, event.handle, event.actor);
    },
    drainBuffer: sendTo('buffer', { type: 'buffer.drain' }),
    terminateAll: ({ context }) => {
      for (const handle of [...context.index.all()]) portsOf(handle.actor)?.socket?.terminate();
    },
  },
}).createMachine({
  id: 'node',
  context: ({ input }) => ({ ...input }),
  invoke: { id: 'buffer', systemId: 'buffer', src: 'buffer', input: ({ context }) => context.buffer },
  initial: 'running',
  on: {
    'conn.ended': { actions: 'forgetConnection' },
    'config.updated': {
      actions: [
        assign({
          maxSocketsPerUser: ({ event }) => event.maxSocketsPerUser,
          drainDuration: ({ event, context }) => event.drainDuration ?? context.drainDuration,
          shutdownTimeout: ({ event, context }) => event.shutdownTimeout ?? context.shutdownTimeout,
        }),
        sendTo('buffer', ({ event }) => ({ type: 'settings.updated' as const, settings: event.remote })),
      ],
    },
  },
  states: {
    running: {
      on: { 'node.drain': 'draining' },
    },
    draining: {
      // The buffer is flushed at once; sockets close spread over drainDuration, then
      // the stragglers get shutdownTimeout to finish their close handshake.
      entry: 'drainBuffer',
      always: { guard: 'noSockets', target: 'stopped' },
      initial: 'closing',
      states: {
        closing: {
          invoke: {
            src: 'drainer',
            input: ({ context }) => ({ handles: [...context.index.all()], duration: context.drainDuration, timers: context.timers }),
          },
          on: { 'drain.done': 'waiting' },
        },
        waiting: {
          after: { shutdownTimeout: { target: '#node.stopped', actions: 'terminateAll' } },
        },
      },
    },
    stopped: { type: 'final' },
  },
});
