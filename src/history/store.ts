/**
 * Where a user's history is kept: on the broker in a cluster (broker-history.ts),
 * in the process for a node alone (memory-history.ts). Both keep one ring of
 * `websockets.history.size` slots per user per origin.
 */
import type { HistoryEntry } from './position.ts';

export interface HistoryStore {
  /** Keeps `entry` in `slot` of its origin's ring for its user (overwriting what was there). */
  write(entry: HistoryEntry, slot: number): void;
  /** Empties slots 0..slots-1 of `origin`'s ring for the user (a user idle past twice the window). */
  clear(contextId: number, userId: number, origin: string, slots: number): void;
  /** Every entry kept for the user; undefined when the store cannot answer now (the broker is out of reach). */
  read(contextId: number, userId: number): Promise<HistoryEntry[] | undefined>;
}
