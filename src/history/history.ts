/**
 * A node's history: numbers what it accepts (stream-writer.ts), keeps it in the store
 * (on the broker, or in memory for a node alone), and clears the rings of users idle
 * past twice the window. Off with websockets.history.size 0.
 */
import type { OutboundMessage } from '../delivery/message.ts';
import type { Timers } from '../time/timers.ts';
import type { HistoryStore } from './store.ts';
import type { HistoryEntry } from './position.ts';
import { StreamWriter } from './stream-writer.ts';

export interface HistorySettings {
  size: number;
  ttl: number;
}

/**
 * What this node wrote lately, per user, for a read of its own: the broker may not
 * show a retained write yet to a subscription made right after it (aedes stores it
 * asynchronously; NATS replicates it). Kept `RECENT_MS`, so bounded by the push rate.
 */
const RECENT_MS = 5000;

export class History {
  readonly writer = new StreamWriter();
  private sweeper: unknown;
  private readonly recent = new Map<string, HistoryEntry[]>();
  private readonly recentOrder: Array<{ key: string; at: number; entry: HistoryEntry }> = [];
  private recentHead = 0;

  constructor(
    readonly store: HistoryStore,
    private readonly settings: () => HistorySettings,
    private readonly timers: Timers,
  ) {}

  get enabled(): boolean {
    return this.settings().size > 0;
  }

  /** Gives `outbound` its stream position and keeps it; a no-op with history off. O(1). */
  append(outbound: OutboundMessage): void {
    const { size } = this.settings();
    if (size === 0) return;
    const now = this.timers.now();
    const { entry, slot } = this.writer.append(outbound, now, size);
    outbound.position = { origin: entry.origin, seq: entry.seq, at: entry.at, prev: entry.prev, prevAt: entry.prevAt };
    this.store.write(entry, slot);
    this.remember(entry, now, size);
  }

  /** The user's history as the store shows it, with what this node wrote lately and the store may not show yet. */
  async read(contextId: number, userId: number): Promise<HistoryEntry[] | undefined> {
    const stored = await this.store.read(contextId, userId);
    if (!stored) return undefined;
    this.forget(this.timers.now());
    const mine = this.recent.get(`${contextId}:${userId}`);
    if (!mine) return stored;
    const have = new Set(stored.map((entry) => `${entry.origin}:${entry.seq}`));
    return stored.concat(mine.filter((entry) => !have.has(`${entry.origin}:${entry.seq}`)));
  }

  private remember(entry: HistoryEntry, now: number, size: number): void {
    const key = `${entry.contextId}:${entry.userId}`;
    let list = this.recent.get(key);
    if (!list) this.recent.set(key, (list = []));
    list.push(entry);
    // No more than the ring holds: what it evicted stays evicted.
    if (list.length > size) list.shift();
    this.recentOrder.push({ key, at: now, entry });
    this.forget(now);
  }

  /** Drops what is older than RECENT_MS: O(1) amortised, oldest first. */
  private forget(now: number): void {
    const order = this.recentOrder;
    while (this.recentHead < order.length && now - order[this.recentHead].at > RECENT_MS) {
      const { key, entry } = order[this.recentHead++];
      const list = this.recent.get(key);
      // The oldest of the user's list, unless the size cap dropped it already.
      if (list && list[0] === entry) list.shift();
      if (list?.length === 0) this.recent.delete(key);
    }
    if (this.recentHead > 1024 && this.recentHead * 2 > order.length) {
      order.splice(0, this.recentHead);
      this.recentHead = 0;
    }
  }

  /** Clears, every half window, the rings of users nobody wrote to for twice the window. */
  start(): void {
    const tick = () => {
      const { size, ttl } = this.settings();
      for (const idle of this.writer.sweep(this.timers.now() - 2 * ttl, size)) this.store.clear(idle.contextId, idle.userId, this.writer.origin, idle.slots);
      this.sweeper = this.timers.setTimeout(tick, Math.max(1000, Math.floor(ttl / 2)));
    };
    this.sweeper = this.timers.setTimeout(tick, Math.max(1000, Math.floor(this.settings().ttl / 2)));
  }

  stop(): void {
    if (this.sweeper !== undefined) this.timers.clearTimeout(this.sweeper);
    this.sweeper = undefined;
  }
}
