/**
 * The coalescing rule for messages bound for other nodes (pure; time is passed in).
 *
 * - Entries are "equal" when they have the same (context, user, pathFilter).
 * - A new equal message merges into the queued entry: its payload is appended unless
 *   the exact same string from the same source is already there, and the entry's due
 *   time becomes `min(now + delayDuration, firstArrival + maxDelayDuration)`.
 * - Payloads keep their arrival order (the reference reverses them; we do not).
 * - Settings are read at each arrival: a reload applies to the next arrivals, never
 *   rewrites the due time of entries already queued.
 *
 * Adding is O(1); taking the due entries is O(queued entries) once per tick.
 */

export interface CoalesceSettings {
  delayDuration: number;
  maxDelayDuration: number;
}

export interface Payload {
  /** The message's id (it travels with the payload; the delivering node drops repeats). */
  i: string;
  m: string;
  /** Source token: the connection id not to deliver to. */
  s?: string;
  /** 1: pushed with `"trace": true` (its trace is kept apart on every node). */
  t?: 1;
}

export interface QueuedEntry {
  contextId: number;
  userId: number;
  pathFilter: string | null;
  payloads: Payload[];
  firstArrival: number;
  due: number;
}

export interface Arrival {
  id: string;
  contextId: number;
  userId: number;
  pathFilter: string | null;
  message: string;
  sourceToken?: string;
  keep?: boolean;
}

export type AddResult = 'queued' | 'merged' | 'duplicate';

interface Slot {
  entry: QueuedEntry;
  /** Payload identities already in the entry (message and source token), to the id of the payload that has it. */
  seen: Map<string, string>;
}

export class CoalescingQueue {
  private readonly slots = new Map<string, Slot>();
  private payloadCount = 0;

  /** Queued entries (one per distinct user and filter). */
  get size(): number {
    return this.slots.size;
  }

  /** Payloads waiting, over all entries. */
  get messages(): number {
    return this.payloadCount;
  }

  add(arrival: Arrival, now: number, settings: CoalesceSettings): AddResult {
    const key = slotKey(arrival);
    const identity = identityOf(arrival);
    const payload = payloadOf(arrival);
    const slot = this.slots.get(key);
    if (!slot) {
      this.slots.set(key, {
        entry: {
          contextId: arrival.contextId,
          userId: arrival.userId,
          pathFilter: arrival.pathFilter,
          payloads: [payload],
          firstArrival: now,
          due: now + settings.delayDuration,
        },
        seen: new Map([[identity, arrival.id]]),
      });
      this.payloadCount++;
      return 'queued';
    }
    const { entry, seen } = slot;
    entry.due = Math.min(now + settings.delayDuration, entry.firstArrival + settings.maxDelayDuration);
    if (seen.has(identity)) return 'duplicate';
    seen.set(identity, arrival.id);
    entry.payloads.push(payload);
    this.payloadCount++;
    return 'merged';
  }

  /** The id of the queued payload an arrival is an exact copy of ('duplicate' from add): it carries the copy. */
  twinOf(arrival: Arrival): string | undefined {
    return this.slots.get(slotKey(arrival))?.seen.get(identityOf(arrival));
  }

  /** Removes and returns every entry due at `now`, in order of first arrival. */
  takeDue(now: number): QueuedEntry[] {
    const due: QueuedEntry[] = [];
    for (const [key, { entry }] of this.slots) {
      if (entry.due > now) continue;
      this.slots.delete(key);
      this.payloadCount -= entry.payloads.length;
      due.push(entry);
    }
    return due;
  }

  /** Removes and returns everything (shutdown: flush what is left). */
  takeAll(): QueuedEntry[] {
    const all = [...this.slots.values()].map((slot) => slot.entry);
    this.slots.clear();
    this.payloadCount = 0;
    return all;
  }
}

/** The payload an arrival becomes (the source token and the trace flag only when set: they are on the wire). */
export function payloadOf(arrival: Arrival): Payload {
  const payload: Payload = arrival.sourceToken === undefined ? { i: arrival.id, m: arrival.message } : { i: arrival.id, m: arrival.message, s: arrival.sourceToken };
  if (arrival.keep) payload.t = 1;
  return payload;
}

function slotKey(arrival: Arrival): string {
  return `${arrival.contextId}:${arrival.userId}:${arrival.pathFilter ?? ''}`;
}

function identityOf(arrival: Arrival): string {
  return `${arrival.sourceToken ?? ''}\u0000${arrival.message}`;
}
