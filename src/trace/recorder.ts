/**
 * The delivery trace's memory (pure: no I/O, no clock; time is passed in). What a node
 * saw of each message (accepted, queued, published, received, written, skipped and
 * why) as small events, so an operator can answer "why did user U not get message M?"
 * after the fact (GET /api/admin/trace/<id>).
 *
 * Bounded, and cheap on the hot path: every message and every event goes into
 * preallocated parallel arrays (struct of arrays), so recording is a Map lookup per
 * message and a few array writes per event, with no object, closure or string made.
 *
 * - A ring of `messages` slots: message serial s lives in slot s % messages. A new
 *   message takes the next slot and the oldest message's id is forgotten (one Map
 *   delete). A handle is the message's serial: an event for a message evicted
 *   meanwhile finds another serial in the slot and is ignored.
 * - A ring of `messages * eventsPerMessage` events shared by the messages. Each event
 *   names its message's serial and links to that message's previous event, so reading
 *   one message walks its own events only. A message with more events than its share
 *   (a user with very many sockets) overwrites the oldest events first; reading stops
 *   at the first overwritten one.
 *
 * Never a payload: events hold ids, node ids, connection ids, reasons, counts, times.
 */

/** One event as read back (the admin path; the hot path never makes one). */
export interface TraceEvent {
  kind: number;
  at: number;
  a?: string;
  b?: string;
  c?: string;
  n: number;
  m: number;
}

/** Events kept per message on average: accepted, queued, published, and a few sockets. */
export const EVENTS_PER_MESSAGE = 8;

/** The handle of no message (a ring of size 0, or an id given none): records nothing. */
export const NO_MESSAGE = 0;

export class TraceRing {
  private readonly ids: Array<string | undefined>;
  /** Per slot: the serial of the message in it (0: none yet). */
  private readonly serials: Float64Array;
  /** Per slot: the index of its message's latest event (-1: none). */
  private readonly heads: Int32Array;
  private readonly byId = new Map<string, number>();
  private serial = 0;

  private readonly kinds: Uint8Array;
  private readonly times: Float64Array;
  private readonly as: Array<string | undefined>;
  private readonly bs: Array<string | undefined>;
  private readonly cs: Array<string | undefined>;
  private readonly ns: Float64Array;
  private readonly ms: Float64Array;
  /** Per event: its message's serial, and the index of that message's event before it. */
  private readonly owners: Float64Array;
  private readonly prevs: Int32Array;
  /** Per event: its number over the ring's life, to tell an overwritten link from a live one. */
  private readonly numbers: Float64Array;
  private events = 0;

  constructor(
    readonly messages: number,
    eventsPerMessage = EVENTS_PER_MESSAGE,
  ) {
    const events = messages * eventsPerMessage;
    this.ids = new Array(messages).fill(undefined);
    this.serials = new Float64Array(messages);
    this.heads = new Int32Array(messages).fill(-1);
    this.kinds = new Uint8Array(events);
    this.times = new Float64Array(events);
    this.as = new Array(events).fill(undefined);
    this.bs = new Array(events).fill(undefined);
    this.cs = new Array(events).fill(undefined);
    this.ns = new Float64Array(events);
    this.ms = new Float64Array(events);
    this.owners = new Float64Array(events);
    this.prevs = new Int32Array(events);
    this.numbers = new Float64Array(events);
  }

  /** Messages it holds now (at most `messages`). */
  get size(): number {
    return this.byId.size;
  }

  /** The handle of `id` when the ring holds it, else NO_MESSAGE. */
  find(id: string): number {
    return this.byId.get(id) ?? NO_MESSAGE;
  }

  /** The handle of `id`, taking the next slot (and evicting its message) when it is new. */
  open(id: string): number {
    const known = this.byId.get(id);
    if (known !== undefined) return known;
    if (this.messages === 0) return NO_MESSAGE;
    const serial = ++this.serial;
    const slot = serial % this.messages;
    const evicted = this.ids[slot];
    if (evicted !== undefined) this.byId.delete(evicted);
    this.ids[slot] = id;
    this.serials[slot] = serial;
    this.heads[slot] = -1;
    this.byId.set(id, serial);
    return serial;
  }

  /** Appends an event to the message `handle`; ignored when it was evicted (or is NO_MESSAGE). */
  record(handle: number, kind: number, at: number, a?: string, b?: string, c?: string, n = 0, m = 0): void {
    if (handle === NO_MESSAGE) return;
    const slot = handle % this.messages;
    if (this.serials[slot] !== handle) return;
    const number = ++this.events;
    const i = number % this.kinds.length;
    this.kinds[i] = kind;
    this.times[i] = at;
    this.as[i] = a;
    this.bs[i] = b;
    this.cs[i] = c;
    this.ns[i] = n;
    this.ms[i] = m;
    this.owners[i] = handle;
    this.prevs[i] = this.heads[slot];
    this.numbers[i] = number;
    this.heads[slot] = i;
  }

  /** The events of `id` in the order they were recorded; undefined when the ring does not hold it. */
  read(id: string): TraceEvent[] | undefined {
    const handle = this.byId.get(id);
    if (handle === undefined) return undefined;
    const out: TraceEvent[] = [];
    let i = this.heads[handle % this.messages];
    let after = Infinity;
    while (i >= 0 && this.owners[i] === handle && this.numbers[i] < after) {
      out.push({ kind: this.kinds[i], at: this.times[i], a: this.as[i], b: this.bs[i], c: this.cs[i], n: this.ns[i], m: this.ms[i] });
      after = this.numbers[i];
      i = this.prevs[i];
    }
    return out.reverse();
  }
}

/**
 * The two rings of a node: the last `size` messages, and apart from them the last
 * `keep` messages pushed with `"trace": true`, which the stream of other messages
 * cannot evict. A handle is positive in the first ring, negative in the kept one.
 */
export class TraceRecorder {
  private readonly recent: TraceRing;
  private readonly kept: TraceRing;

  constructor(size: number, keep: number, eventsPerMessage = EVENTS_PER_MESSAGE) {
    this.recent = new TraceRing(size, eventsPerMessage);
    this.kept = new TraceRing(keep, eventsPerMessage);
  }

  /** The handle of `id`, opened in the kept ring when `keep` (unless a ring holds it already). */
  open(id: string, keep = false): number {
    const kept = this.kept.find(id);
    if (kept !== NO_MESSAGE) return -kept;
    if (!keep || this.kept.messages === 0) return this.recent.open(id);
    const recent = this.recent.find(id);
    return recent !== NO_MESSAGE ? recent : -this.kept.open(id);
  }

  record(handle: number, kind: number, at: number, a?: string, b?: string, c?: string, n = 0, m = 0): void {
    if (handle > 0) this.recent.record(handle, kind, at, a, b, c, n, m);
    else if (handle < 0) this.kept.record(-handle, kind, at, a, b, c, n, m);
  }

  read(id: string): { events: TraceEvent[]; kept: boolean } | undefined {
    const kept = this.kept.read(id);
    if (kept) return { events: kept, kept: true };
    const recent = this.recent.read(id);
    return recent && { events: recent, kept: false };
  }

  get size(): { recent: number; kept: number } {
    return { recent: this.recent.size, kept: this.kept.size };
  }
}
