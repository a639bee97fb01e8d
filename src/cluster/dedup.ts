/**
 * Recently seen message ids, to drop repeats: a push retried with the same id, a
 * QoS 1 redelivery (at-least-once), the same id accepted by two nodes at once.
 *
 * Bounded twice: an id is forgotten `windowMs` after it was first seen, and at most
 * `capacity` ids are held; past that the oldest is forgotten early and counted in
 * `evictions` (a repeat of it would then get through). A Map iterates in insertion
 * order, which is also the order of first sight, so both bounds cost O(1) amortised
 * per id: expired ids are pruned from the front.
 */
export const DEDUP_CAPACITY = 100_000;

export class RecentIds {
  evictions = 0;
  private readonly seen = new Map<string, number>();

  constructor(
    public windowMs: number,
    private readonly now: () => number = Date.now,
    private readonly capacity = DEDUP_CAPACITY,
  ) {}

  get size(): number {
    return this.seen.size;
  }

  has(id: string): boolean {
    const at = this.seen.get(id);
    return at !== undefined && this.now() - at < this.windowMs;
  }

  /** True the first time an id is seen within the window (and remembers it), false for a repeat. */
  firstSeen(id: string): boolean {
    if (this.has(id)) return false;
    this.add(id);
    return true;
  }

  add(id: string): void {
    const now = this.now();
    this.prune(now);
    this.seen.delete(id); // re-insert: keep first-sight order equal to time order
    this.seen.set(id, now);
    if (this.seen.size > this.capacity) {
      this.seen.delete(this.seen.keys().next().value!);
      this.evictions++;
    }
  }

  private prune(now: number): void {
    for (const [id, at] of this.seen) {
      if (now - at < this.windowMs) return;
      this.seen.delete(id);
    }
  }
}
