/**
 * The origin side of history (pure state, no I/O): gives each message this process
 * accepts its stream position and the ring slot it is kept in, and remembers per
 * user what the next entry links back to.
 *
 * Memory: one small record per user written to in the last `2 * ttl`; `sweep` hands
 * back the users idle longer, whose slots the caller clears on the broker. Why
 * twice the window: plan.ts trusts an absent entry only while entries younger than
 * the window plus a message's time in flight cannot have been cleared.
 */
import { randomBytes } from 'node:crypto';
import type { HistoryEntry } from './position.ts';
import type { OutboundMessage } from '../delivery/message.ts';

interface UserRing {
  /** Entries written so far: the next slot is written % size. */
  written: number;
  lastSeq: number;
  lastAt: number;
}

export interface Appended {
  entry: HistoryEntry;
  slot: number;
}

export interface Idle {
  contextId: number;
  userId: number;
  /** The slots holding entries (0 .. min(written, size) - 1). */
  slots: number;
}

export class StreamWriter {
  readonly origin: string;
  private seq = 0;
  private readonly rings = new Map<string, UserRing & { contextId: number; userId: number }>();

  constructor(origin = randomBytes(4).toString('hex')) {
    this.origin = origin;
  }

  /** Users with a ring record (the memory bound's count). */
  get users(): number {
    return this.rings.size;
  }

  append(outbound: OutboundMessage, now: number, size: number): Appended {
    const key = `${outbound.contextId}:${outbound.userId}`;
    let ring = this.rings.get(key);
    if (!ring) this.rings.set(key, (ring = { contextId: outbound.contextId, userId: outbound.userId, written: 0, lastSeq: 0, lastAt: 0 }));
    // Never behind the last entry: the clock may step back, the order must not.
    const at = Math.max(now, ring.lastAt);
    const entry: HistoryEntry = {
      origin: this.origin,
      seq: ++this.seq,
      at,
      prev: ring.lastSeq,
      prevAt: ring.lastAt,
      id: outbound.id,
      contextId: outbound.contextId,
      userId: outbound.userId,
      message: outbound.message,
      pathFilter: outbound.pathFilter,
    };
    if (outbound.sourceToken !== undefined) entry.sourceToken = outbound.sourceToken;
    const slot = ring.written % size;
    ring.written++;
    ring.lastSeq = entry.seq;
    ring.lastAt = at;
    // Re-inserted at the end: the map stays in order of last write, so sweep stops at the first recent one.
    this.rings.delete(key);
    this.rings.set(key, ring);
    return { entry, slot };
  }

  /** Forgets users written to before `before`; returns them with the slots to clear. */
  sweep(before: number, size: number): Idle[] {
    const idle: Idle[] = [];
    for (const [key, ring] of this.rings) {
      if (ring.lastAt >= before) break;
      this.rings.delete(key);
      idle.push({ contextId: ring.contextId, userId: ring.userId, slots: Math.min(ring.written, size) });
    }
    return idle;
  }
}
