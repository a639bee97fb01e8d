/**
 * Recently seen message ids, to drop redeliveries: QoS 1 is at-least-once, and a
 * reconnecting client resends what was not acknowledged. Bounded: the oldest id is
 * forgotten first (a Set iterates in insertion order), O(1) per message.
 */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity = 50_000) {}

  /** True the first time an id is seen, false for a repeat. */
  firstSeen(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value!);
    return true;
  }
}
