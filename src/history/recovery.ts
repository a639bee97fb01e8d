/**
 * Begins a socket's stream (the I/O around plan.ts): reads the user's history, writes
 * the stream's first frames, what the client missed, then what arrived meanwhile,
 * and lets the connection go live, all in one turn of the event loop once the read
 * is done, so no live message can slip in between.
 *
 * Socket.IO's private session id (`pid`) carries the stream's start, so a client that
 * reconnects before it got any event (no offset yet) still recovers what it missed.
 */
import { randomBytes } from 'node:crypto';
import { compilePathFilter, type PathMatcher } from '../delivery/path-filter.ts';
import { writeFrame, writeWaiting } from '../actors/connection-delivery.ts';
import { portsOf } from '../actors/connection-ports.ts';
import type { ConnectionActor } from '../actors/connection.machine.ts';
import type { Logger } from '../log/logger.ts';
import { cloneCursor, formatCursor, freshCursor, parseCursor, type Cursor } from './cursor.ts';
import { planRecovery, type RecoveryPlan } from './plan.ts';
import type { HistoryEntry } from './position.ts';

export interface RecoveryCounts {
  /** Streams begun, by outcome: fresh, recovered, not recovered. */
  fresh: number;
  recovered: number;
  notRecovered: number;
  /** Messages written again to recovering sockets. */
  replayed: number;
}

export interface RecoveryOptions {
  /** undefined: history is off (websockets.history.size 0). */
  store: () => { read(contextId: number, userId: number): Promise<HistoryEntry[] | undefined> } | undefined;
  ttl: () => number;
  now: () => number;
  log: Logger;
  counts: RecoveryCounts;
}

export class Recovery {
  constructor(private readonly options: RecoveryOptions) {}

  /** The connection hook (ConnectionHooks.recover): never throws, always ends in `stream.opened` or a closed socket. */
  begin(actor: ConnectionActor, request: { since?: string; pid?: string }): void {
    this.run(actor, request).catch((error: unknown) => {
      this.options.log.error('history.recovery_failed', { connectionId: actor.getSnapshot().context.connectionId, error });
      actor.send({ type: 'conn.close', code: 1011, reason: 'recovery failed' });
    });
  }

  private async run(actor: ConnectionActor, request: { since?: string; pid?: string }): Promise<void> {
    // Called from the state's entry action: the actor is in `recovering` once that action returns.
    await Promise.resolve();
    const { context } = actor.getSnapshot();
    const { contextId, userId } = context.identity!;
    const start = request.since ?? startOfPid(request.pid);
    const cursor = start === undefined ? undefined : parseCursor(start);
    let plan: RecoveryPlan | undefined;
    if (start !== undefined) {
      const store = this.options.store();
      const entries = cursor && store ? await store.read(contextId, userId) : undefined;
      const matchers = new Map<string | null, PathMatcher>();
      const matcherOf = (filter: string | null) => matchers.get(filter) ?? matchers.set(filter, compilePathFilter(filter)).get(filter)!;
      plan =
        cursor && entries
          ? planRecovery(entries, cursor, { path: context.path, connectionId: context.connectionId, matcherOf }, this.options.now(), this.options.ttl())
          : { recovered: false, reason: cursor ? 'unavailable' : 'invalid', missed: [] };
    }
    // Closed while the history was read: nothing to write to.
    if (!actor.getSnapshot().matches('recovering')) return;
    const recovered = plan?.recovered;
    // The stream continues from the client's cursor, or begins now.
    const stream: Cursor = recovered ? cloneCursor(cursor!) : context.cursor ?? freshCursor(this.options.now());
    context.cursor = stream;
    const counts = this.options.counts;
    if (recovered === undefined) counts.fresh++;
    else if (recovered) counts.recovered++;
    else counts.notRecovered++;
    const { protocol, socket } = portsOf(actor)!;
    const pid = recovered && request.pid ? request.pid : newPid(stream);
    this.options.log.info('stream.opened', {
      connectionId: context.connectionId,
      contextId,
      userId,
      recovered,
      missed: plan?.missed.length ?? 0,
      reason: plan?.reason,
      waited: portsOf(actor)!.waiting?.messages.length ?? 0,
    });
    const opened = { recovered, missed: plan?.missed.length ?? 0, offset: formatCursor(stream), pid };
    for (const frame of protocol.streamOpened?.(opened) ?? []) socket!.send(frame);
    for (const entry of plan?.missed ?? []) {
      const outcome = writeFrame(actor, { id: entry.id, message: entry.message, contextId, userId, pathFilter: entry.pathFilter, position: entry });
      if (outcome === 'written') counts.replayed++;
    }
    writeWaiting(actor);
    if (actor.getSnapshot().matches('recovering')) actor.send({ type: 'stream.opened' });
  }
}

/** A pid for a stream: random, then the stream's start, so a reconnect with no offset yet can begin there. */
function newPid(stream: Cursor): string {
  return `${randomBytes(9).toString('base64url')}~${formatCursor({ since: stream.since, origins: {} })}`;
}

function startOfPid(pid: string | undefined): string | undefined {
  const tilde = pid?.indexOf('~') ?? -1;
  return tilde > 0 ? pid!.slice(tilde + 1) : undefined;
}
