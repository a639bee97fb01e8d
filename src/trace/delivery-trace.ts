/**
 * What one node records of each message's way, and what it answers about one
 * (the `trace` question, trace/assemble.ts merges the nodes' answers). The names of
 * the steps and reasons live here; the memory is trace/recorder.ts.
 *
 * Call sites pass a handle (a number) from `open` or `accepted` and then record each
 * step with one call: a few array writes, no allocation (docs/architecture.md, "The
 * delivery trace").
 */
import { NO_MESSAGE, TraceRecorder, type TraceEvent } from './recorder.ts';

/**
 * Why a socket of the user did not get a message (docs/api.md, "Delivery trace"):
 * - `path-filter`: the push's path filter does not match the socket's path;
 * - `source-token`: the socket is the push's `sourceToken` (the sender's own);
 * - `disabled`: the user or context is disabled, or `websockets.enabled` is off for
 *   the user through the cascade, in the directory in force when the message came
 *   (a reload disabled them while their sockets stayed open);
 * - `slow-consumer`: the socket took the frame past `websockets.maxBufferedBytes` and
 *   was closed with 1013, or had been closed so already;
 * - `closing`: the socket was not open (not yet, or closing for another reason);
 * - `invalid`: the socket's protocol could not encode the message (it was closed with 1011);
 * - `no-socket`: no socket of the user anywhere matched, as the accepting node knew;
 * - `duplicate`: a push repeating an id accepted within `websockets.dedupWindow`: it
 *   went to no socket;
 * - `outbox-limit`: the broker was away and `cluster.outboxLimit` publishes were held
 *   already: the publish to the other nodes was dropped;
 * - `stale`: the delivery reached this node more than `websockets.dedupWindow` after
 *   it was published (held by the broker, or replayed); past the window the
 *   duplicate check no longer covers it, so it is dropped rather than risk writing
 *   it twice.
 */
export type SkipReason = 'path-filter' | 'source-token' | 'disabled' | 'slow-consumer' | 'closing' | 'invalid' | 'no-socket' | 'duplicate' | 'outbox-limit' | 'stale';

/** What became of a publish: handed to the broker, held in the outbox (broker away), or dropped (outbox full). */
export type PublishOutcome = 'sent' | 'held' | 'outbox-limit';

/**
 * What a node did with a delivery from another node: passed it to its sockets, dropped
 * it as stale, or dropped it as a copy of one it had written already (a QoS 1
 * redelivery, the fastPath's second copy, the same id accepted by two nodes).
 */
export type ReceiveOutcome = 'delivered' | 'stale' | 'duplicate';

/** Event kinds in the recorder (small integers: a Uint8Array holds them). */
const ACCEPTED = 1;
const REFUSED = 2;
const QUEUED = 3;
const MERGED_AWAY = 4;
const PUBLISHED = 5;
const RECEIVED = 6;
const WRITTEN = 7;
const SKIPPED = 8;
const DROPPED_COPY = 9;

/** One node's record of a message: the answer to the `trace` question. */
export interface NodeTrace {
  kept: boolean;
  accepted: Array<{ at: number; contextId: number; userId: number; pathFilter: string | null; sourceToken: string | null }>;
  refused: Array<{ at: number; reason: 'duplicate' }>;
  queued: Array<{ at: number }>;
  /** Merged away in the buffer: an identical message (`twin`) for the same user and filter was queued; it carried this one. */
  mergedAway: Array<{ at: number; twin: string; publish: string | null; messages: number }>;
  published: Array<{ at: number; publish: string; topic: string; messages: number; outcome: PublishOutcome }>;
  received: Array<{ at: number; from: string; publish: string | null; outcome: ReceiveOutcome }>;
  written: Array<{ at: number; connectionId: string }>;
  /** `node`: the node holding the socket, when it is another (known from the registry); `connectionId` null: no socket in particular. */
  skipped: Array<{ at: number; connectionId: string | null; node: string | null; reason: SkipReason }>;
}

/** A socket another node holds, as this node's registry view lists it. */
export interface RemoteSocket {
  node: string;
  connectionId: string;
}

export class DeliveryTrace {
  constructor(
    private readonly nodeId: string,
    private readonly recorder: TraceRecorder,
    private readonly now: () => number = Date.now,
  ) {}

  /** The handle of a message (opened when new); `keep`: pushed with `"trace": true`. */
  open(id: string, keep = false): number {
    return this.recorder.open(id, keep);
  }

  /** A push accepted here. */
  accepted(id: string, keep: boolean, contextId: number, userId: number, pathFilter: string | null, sourceToken: string | undefined): number {
    const handle = this.recorder.open(id, keep);
    this.recorder.record(handle, ACCEPTED, this.now(), pathFilter ?? undefined, sourceToken, undefined, contextId, userId);
    return handle;
  }

  /** A push repeating an accepted id: answered `duplicate`, sent nowhere. */
  refused(handle: number): void {
    this.recorder.record(handle, REFUSED, this.now(), undefined, 'duplicate');
  }

  queued(handle: number): void {
    this.recorder.record(handle, QUEUED, this.now());
  }

  mergedAway(handle: number, twin: string): void {
    this.recorder.record(handle, MERGED_AWAY, this.now(), twin);
  }

  /** The message rode in publish number `publish` of this node, to `topic`, with `messages` messages in all. */
  published(handle: number, publish: number, messages: number, topic: string, outcome: PublishOutcome): void {
    this.recorder.record(handle, PUBLISHED, this.now(), topic, outcome, undefined, publish, messages);
  }

  /** A delivery from `from` (its publish number; 0 when the sender did not say). */
  received(handle: number, from: string, publish: number, outcome: ReceiveOutcome): void {
    this.recorder.record(handle, RECEIVED, this.now(), from, outcome, undefined, publish);
  }

  /** A copy of a message already written here (within the dedup window) was dropped. */
  droppedCopy(handle: number): void {
    this.recorder.record(handle, DROPPED_COPY, this.now());
  }

  written(handle: number, connectionId: string): void {
    this.recorder.record(handle, WRITTEN, this.now(), connectionId);
  }

  /** A socket of the user (this node's, or `node`'s) did not get it; `connectionId` undefined: none in particular. */
  skipped(handle: number, connectionId: string | undefined, reason: SkipReason, node?: string): void {
    this.recorder.record(handle, SKIPPED, this.now(), connectionId, reason, node);
  }

  /** Other nodes' sockets a message will not reach (the publish was dropped, or the push refused): one event each. */
  skippedRemote(handle: number, sockets: Iterable<RemoteSocket>, reason: SkipReason): void {
    if (handle === NO_MESSAGE) return;
    for (const socket of sockets) this.skipped(handle, socket.connectionId, reason, socket.node);
  }

  /** This node's record of `id`, undefined when it holds none. */
  answer(id: string): NodeTrace | undefined {
    const read = this.recorder.read(id);
    if (!read) return undefined;
    const trace: NodeTrace = { kept: read.kept, accepted: [], refused: [], queued: [], mergedAway: [], published: [], received: [], written: [], skipped: [] };
    for (const e of read.events) this.add(trace, e);
    return trace;
  }

  private add(trace: NodeTrace, e: TraceEvent): void {
    const { at } = e;
    switch (e.kind) {
      case ACCEPTED:
        return void trace.accepted.push({ at, contextId: e.n, userId: e.m, pathFilter: e.a ?? null, sourceToken: e.b ?? null });
      case REFUSED:
        return void trace.refused.push({ at, reason: 'duplicate' });
      case QUEUED:
        return void trace.queued.push({ at });
      case MERGED_AWAY: {
        // The twin's publish is this node's too: it flushed the entry both were in.
        const twin = e.a!;
        const ride = this.recorder.read(twin)?.events.find((t) => t.kind === PUBLISHED);
        return void trace.mergedAway.push({ at, twin, publish: ride ? this.publishId(this.nodeId, ride.n) : null, messages: ride?.m ?? 0 });
      }
      case PUBLISHED:
        return void trace.published.push({ at, publish: this.publishId(this.nodeId, e.n), topic: e.a!, messages: e.m, outcome: e.b as PublishOutcome });
      case RECEIVED:
        return void trace.received.push({ at, from: e.a!, publish: e.n ? this.publishId(e.a!, e.n) : null, outcome: e.b as ReceiveOutcome });
      case WRITTEN:
        return void trace.written.push({ at, connectionId: e.a! });
      case SKIPPED:
        return void trace.skipped.push({ at, connectionId: e.a ?? null, node: e.c ?? null, reason: e.b as SkipReason });
      case DROPPED_COPY: {
        // The copy dropped is the delivery received last (the handler records it first).
        const last = trace.received[trace.received.length - 1];
        if (last && last.outcome === 'delivered') last.outcome = 'duplicate';
        return;
      }
    }
  }

  /** A publish is named by its node and its number there: `a:17`. */
  private publishId(node: string, n: number): string {
    return `${node}:${n}`;
  }
}

/** A trace that records nothing (a node built without one: unit tests of the service). */
export const NO_TRACE = new DeliveryTrace('-', new TraceRecorder(0, 0));
