/**
 * This node's registry entries (`.../registry/<node>/<epoch>/<context>/<user>`: the
 * user's sockets here) are republished whole when they change. A reconnect storm
 * opening 40 sockets of a user would republish a growing list 40 times, O(sockets²)
 * bytes and an HMAC each (measured: 11% of the node's CPU while 4,000 sockets of 100
 * users opened). So a user's entry goes out at most once per `windowMs`:
 *
 * - a change after a quiet window is published at the end of the turn (every
 *   handshake of one I/O phase lands in one publish), so a lone socket is seen at once;
 * - a change within the window waits for its end, then goes out with the list as it
 *   is then: however many sockets came and went meanwhile, one publish.
 *
 * The registry serves estimates (the push answer's `remote`, listings, the
 * cluster-wide socket limit); delivery does not read it (a socket's read-your-writes
 * comes from the per-user delivery subscription, confirmed before the 101), so the
 * window delays an estimate and loses nothing.
 */
import { userKey } from '../delivery/socket-index.ts';
import { systemTimers, type Timers } from '../time/timers.ts';

export interface Turn {
  schedule(run: () => void): unknown;
  cancel(handle: unknown): void;
}

/** The end of the current event-loop turn. */
export const immediateTurn: Turn = {
  schedule: (run) => setImmediate(run),
  cancel: (handle) => clearImmediate(handle as NodeJS.Immediate),
};

/** Longest a user's registry entry lags behind its sockets during a burst, ms. */
export const REGISTRY_WINDOW_MS = 500;

/** A user whose entry was published within the window, or is waiting to be. */
interface Slot {
  contextId: number;
  userId: number;
  /** When its entry last went out. */
  last: number;
  /** `turn`: in the end-of-turn batch; `timer`: waiting for the window's end. */
  wait: { kind: 'none' } | { kind: 'turn' } | { kind: 'timer'; handle: unknown };
}

export interface RegistryBatchOptions {
  /** Publishes the user's entry as it is now; answers how many sockets it listed (0: the user left this node). */
  publish: (contextId: number, userId: number) => number;
  windowMs?: number;
  timers?: Timers;
  turn?: Turn;
}

export class RegistryBatch {
  private readonly slots = new Map<string, Slot>();
  private readonly thisTurn: Slot[] = [];
  private turnHandle: unknown;
  private readonly windowMs: number;
  private readonly timers: Timers;
  private readonly turn: Turn;

  constructor(private readonly options: RegistryBatchOptions) {
    this.windowMs = options.windowMs ?? REGISTRY_WINDOW_MS;
    this.timers = options.timers ?? systemTimers;
    this.turn = options.turn ?? immediateTurn;
  }

  /** Users waiting for their entry to go out. */
  get pending(): number {
    let n = 0;
    for (const slot of this.slots.values()) if (slot.wait.kind !== 'none') n++;
    return n;
  }

  mark(contextId: number, userId: number): void {
    const key = userKey(contextId, userId);
    let slot = this.slots.get(key);
    if (!slot) this.slots.set(key, (slot = { contextId, userId, last: -Infinity, wait: { kind: 'none' } }));
    if (slot.wait.kind !== 'none') return;
    const wait = slot.last + this.windowMs - this.timers.now();
    if (wait > 0) {
      const waiting = slot;
      slot.wait = { kind: 'timer', handle: this.timers.setTimeout(() => this.publish(waiting), wait) };
      return;
    }
    slot.wait = { kind: 'turn' };
    this.thisTurn.push(slot);
    this.turnHandle ??= this.turn.schedule(() => this.endTurn());
  }

  /** Publishes every waiting user now and cancels their timers (a shutdown, a reconnection). */
  flush(): void {
    for (const slot of [...this.slots.values()]) if (slot.wait.kind !== 'none') this.publish(slot);
    this.cancelTurn();
  }

  private endTurn(): void {
    this.turnHandle = undefined;
    for (const slot of this.thisTurn.splice(0)) if (slot.wait.kind === 'turn') this.publish(slot);
  }

  private cancelTurn(): void {
    if (this.turnHandle !== undefined) this.turn.cancel(this.turnHandle);
    this.turnHandle = undefined;
    this.thisTurn.length = 0;
  }

  private publish(slot: Slot): void {
    if (slot.wait.kind === 'timer') this.timers.clearTimeout(slot.wait.handle);
    slot.wait = { kind: 'none' };
    slot.last = this.timers.now();
    // A user with no socket here needs no memory of its last publish: the next socket is news at once.
    if (this.options.publish(slot.contextId, slot.userId) === 0) this.slots.delete(userKey(slot.contextId, slot.userId));
  }
}
