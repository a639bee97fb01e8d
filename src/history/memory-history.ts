/** A node alone keeps history in its own memory: nothing outlives the process, and nothing needs to. */
import type { HistoryEntry } from './position.ts';
import type { HistoryStore } from './store.ts';

export class MemoryHistory implements HistoryStore {
  private readonly users = new Map<string, Map<string, HistoryEntry>>();

  write(entry: HistoryEntry, slot: number): void {
    const key = `${entry.contextId}:${entry.userId}`;
    let slots = this.users.get(key);
    if (!slots) this.users.set(key, (slots = new Map()));
    slots.set(`${entry.origin}/${slot}`, entry);
  }

  clear(contextId: number, userId: number, origin: string, slots: number): void {
    const kept = this.users.get(`${contextId}:${userId}`);
    if (!kept) return;
    for (let slot = 0; slot < slots; slot++) kept.delete(`${origin}/${slot}`);
    if (kept.size === 0) this.users.delete(`${contextId}:${userId}`);
  }

  read(contextId: number, userId: number): Promise<HistoryEntry[]> {
    return Promise.resolve([...(this.users.get(`${contextId}:${userId}`)?.values() ?? [])]);
  }
}
