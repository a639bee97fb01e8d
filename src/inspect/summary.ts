/**
 * What the inspector shows of one actor: its state, and for the details view a
 * summary of its context. Summaries are allowlists per machine, so a socket, a
 * session secret or its hash can never reach the page; a machine without one gets
 * only the primitive fields of its context, minus anything named like a secret.
 */
import type { Tracked } from './hub.ts';
import { portsOf } from '../actors/connection-ports.ts';

export interface ActorSummary {
  /** The XState session id (`x:12`): unique in the process. */
  id: string;
  machine: string;
  systemId?: string;
  state: string;
  /** When it entered `state` (ms since the epoch). */
  since: number;
  /** Events received so far, and the type of the last one. */
  events: number;
  lastEvent?: string;
  /** A few words naming it (`user 1/3 /ws/demo`), may be empty. */
  label: string;
}

export interface ActorDetail extends ActorSummary {
  status: string;
  context: Record<string, unknown>;
  /** Ids of its XState children (invoked or spawned actors). */
  children: string[];
}

type Summarizer = (context: Record<string, any>, ref: object) => { label: string; context: Record<string, unknown> };

const SECRET_NAME = /secret|password|passwd|token|hash|cookie|key|socket|credential/i;

const SUMMARIZERS: Record<string, Summarizer> = {
  connection: (c, ref) => ({
    label: c.identity ? `user ${c.identity.contextId}/${c.identity.userId} ${c.path}` : `${c.path} from ${c.remoteAddress}`,
    context: {
      connectionId: c.connectionId,
      path: c.path,
      remoteAddress: c.remoteAddress,
      protocol: c.protocol,
      // The session id stays out, as in the admin socket listing: it is half a credential.
      user: c.identity ? { contextId: c.identity.contextId, userId: c.identity.userId } : undefined,
      connectedAt: iso(c.connectedAt),
      sent: c.stats?.sent,
      received: c.stats?.received,
      // The socket is a port, not context (connection-ports.ts): read, never shown itself.
      bufferedBytes: portsOf(ref)?.socket?.bufferedAmount,
      settings: pick(c.settings, ['pingInterval', 'pingTimeout', 'maxBufferedBytes']),
      close: pick(c.close, ['code', 'reason', 'by']),
      rejection: c.rejection,
    },
  }),
  node: (c) => ({
    label: `${c.index?.size ?? 0} sockets`,
    context: { sockets: c.index?.size, ...pick(c, ['maxSocketsPerUser', 'shutdownTimeout', 'drainDuration']) },
  }),
  buffer: (c) => ({
    label: `${c.queue?.size ?? 0} queued`,
    context: { queued: c.queue?.size, settings: pick(c.settings, ['delayDuration', 'maxDelayDuration', 'timerFrequency']) },
  }),
  broker: (c) => ({
    label: `attempt ${c.attempt}, ${c.reconnects} reconnects`,
    context: pick(c, ['attempt', 'reconnects', 'minBackoff', 'maxBackoff']) ?? {},
  }),
  // Callback actors have no context: their input is what there is to show.
  ticker: (input) => ({ label: `every ${input.every} ms`, context: pick(input, ['every']) ?? {} }),
  drainer: (input) => ({
    label: `${input.handles?.length ?? 0} sockets over ${input.duration} ms`,
    context: { sockets: input.handles?.length, duration: input.duration },
  }),
};

export function describeActor(tracked: Tracked, detailed: boolean): ActorSummary | ActorDetail {
  const snapshot = tracked.ref.getSnapshot() as { status: string; context?: unknown; input?: unknown; children?: Record<string, unknown> };
  const source = (snapshot.context ?? snapshot.input ?? {}) as Record<string, unknown>;
  let summary: ReturnType<Summarizer>;
  try {
    summary = (SUMMARIZERS[tracked.machine] ?? primitives)(source, tracked.ref);
  } catch {
    // A machine whose context changed shape: show what is surely harmless.
    summary = primitives(source);
  }
  const result: ActorSummary = { id: tracked.id, machine: tracked.machine, state: tracked.state, since: tracked.since, events: tracked.events, label: summary.label };
  if (tracked.systemId !== undefined) result.systemId = tracked.systemId;
  if (tracked.lastEvent !== undefined) result.lastEvent = tracked.lastEvent;
  if (!detailed) return result;
  return { ...result, status: snapshot.status, context: clean(summary.context), children: Object.keys(snapshot.children ?? {}).sort() };
}

function primitives(context: Record<string, unknown>): { label: string; context: Record<string, unknown> } {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(context)) {
    if (SECRET_NAME.test(key)) continue;
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) out[key] = value;
  }
  return { label: '', context: out };
}

function pick(from: Record<string, unknown> | undefined, keys: string[]): Record<string, unknown> | undefined {
  if (!from || typeof from !== 'object') return undefined;
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const value = from[key];
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) out[key] = value;
  }
  return out;
}

/** Drops undefined fields (JSON would anyway) so the details read cleanly. */
function clean(context: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(context).filter(([, value]) => value !== undefined));
}

function iso(time: unknown): string | undefined {
  return typeof time === 'number' && Number.isFinite(time) ? new Date(time).toISOString() : undefined;
}
