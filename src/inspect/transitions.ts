/**
 * The last transitions of one actor, for the inspector's details view (pure: no
 * I/O, no clock of its own). A transition is a change of state: its time, the type
 * of the event that caused it, the state it left and the state it entered. Never an
 * event's payload: only `event.type` reaches here, so a pushed message, a token or a
 * session secret carried by an event cannot be kept.
 *
 * Costs: O(1) per transition (a write into a ring, no allocation once the ring
 * exists). Memory is bounded: a ring holds at most `capacity` entries, allocated at
 * an actor's first transition as two typed arrays (8 bytes of time and 3 x 2 bytes
 * of names per entry: 700 bytes for 50, about 1.1 KB with the arrays' own overhead,
 * measured with 100,000 rings), and the names (state keys and event types,
 * a small set drawn from the machine definitions) are kept once per hub in a
 * `Names` table of at most `maxNames` entries. Only actors the hub tracks have a
 * ring, so connection actors have one only while the inspector follows them.
 */

export interface Transition {
  /** When it happened (ms since the epoch). */
  at: number;
  /** The type of the event that caused it (`ws.opened`, `xstate.after.1000.connection.open.idle`). */
  event: string;
  /** The state it left; null for the actor's start (`xstate.init`). */
  from: string | null;
  to: string;
}

/** Entries kept per actor. */
export const TRANSITIONS_KEPT = 50;

/** Id 0: no state (an actor's start has no `from`). */
const NONE = 0;
/** Id 1: a name that came after the table was full. */
const OTHER = 1;
const OTHER_NAME = '(other)';

/**
 * Names interned as small integers, so a ring stores 2 bytes per name and keeps no
 * string alive per entry. Bounded: past `maxNames`, a new name is stored as `(other)`
 * (event types and state keys come from the machines' definitions, so a table that
 * fills up means a machine names its events from data).
 */
export class Names {
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = ['', OTHER_NAME];

  constructor(private readonly maxNames = 4096) {
    if (maxNames > 0xffff) throw new RangeError('maxNames must fit in 16 bits');
  }

  id(name: string): number {
    const known = this.ids.get(name);
    if (known !== undefined) return known;
    if (this.names.length >= this.maxNames) return OTHER;
    const id = this.names.length;
    this.names.push(name);
    this.ids.set(name, id);
    return id;
  }

  name(id: number): string {
    return this.names[id] ?? OTHER_NAME;
  }

  get size(): number {
    return this.names.length;
  }
}

/** A fixed ring of the last `capacity` transitions of one actor, oldest overwritten first. */
export class TransitionRing {
  private at: Float64Array | undefined;
  /** Per entry: event, from, to (ids in `Names`). */
  private codes: Uint16Array | undefined;
  /** Where the next entry goes. */
  private next = 0;
  private count = 0;

  constructor(private readonly capacity = TRANSITIONS_KEPT) {}

  push(names: Names, at: number, event: string, from: string | null, to: string): void {
    if (!this.at || !this.codes) {
      this.at = new Float64Array(this.capacity);
      this.codes = new Uint16Array(this.capacity * 3);
    }
    const slot = this.next;
    this.at[slot] = at;
    this.codes[slot * 3] = names.id(event);
    this.codes[slot * 3 + 1] = from === null ? NONE : names.id(from);
    this.codes[slot * 3 + 2] = names.id(to);
    this.next = (slot + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  get size(): number {
    return this.count;
  }

  /** The entries, oldest first. O(capacity). */
  list(names: Names): Transition[] {
    const out: Transition[] = [];
    if (!this.at || !this.codes) return out;
    const first = (this.next - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i++) {
      const slot = (first + i) % this.capacity;
      const from = this.codes[slot * 3 + 1];
      out.push({ at: this.at[slot], event: names.name(this.codes[slot * 3]), from: from === NONE ? null : names.name(from), to: names.name(this.codes[slot * 3 + 2]) });
    }
    return out;
  }
}
