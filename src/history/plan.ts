/**
 * What a reconnecting socket is owed (pure): from its user's history and the cursor
 * it brought, the messages it missed, in order, and whether the history covers the
 * whole gap. docs/protocol.md, "Recovery", gives the rules to clients.
 *
 * Covered means no message the socket missed can be absent from `entries`:
 * - the cursor is no older than the window (`ttl`): the newest thing it knows, its
 *   last message or its stream's start, is at most `ttl` old. Beyond that entries
 *   may have been cleared with no trace left.
 * - every missed entry links back (prev) to a message the socket has, to another
 *   missed entry that is kept, or to none. Otherwise entries in between were
 *   evicted by the ring's size (or expired and were cleared).
 * - every gap the cursor knows of (a message lost on the way) still has its newest
 *   missing message kept.
 *
 * Missed messages are filtered as live ones are: the socket's path against the
 * message's path filter, and the sender's own connection skipped.
 */
import type { PathMatcher } from '../delivery/path-filter.ts';
import { seen, seenSeq, type Cursor } from './cursor.ts';
import type { HistoryEntry } from './position.ts';

export interface RecoveryPlan {
  recovered: boolean;
  /** Why not: the cursor is older than the window, or entries it needs were evicted (or could not be read, or the offset was not one). */
  reason?: 'expired' | 'evicted' | 'unavailable' | 'invalid';
  /** What to write, oldest first (empty when not recovered). */
  missed: HistoryEntry[];
}

export interface Recipient {
  path: string;
  connectionId: string;
  /** The path filter matcher of an entry (compiled once per distinct filter by the caller). */
  matcherOf(pathFilter: string | null): PathMatcher;
}

function notCovered(reason: NonNullable<RecoveryPlan['reason']>): RecoveryPlan {
  return { recovered: false, reason, missed: [] };
}

export function planRecovery(entries: readonly HistoryEntry[], cursor: Cursor, recipient: Recipient, now: number, ttl: number): RecoveryPlan {
  let newest = cursor.since;
  for (const origin in cursor.origins) newest = Math.max(newest, cursor.origins[origin].at);
  if (now - newest > ttl) return notCovered('expired');

  const unseen = new Map<string, HistoryEntry[]>();
  const present = new Set<string>();
  for (const entry of entries) {
    present.add(`${entry.origin}:${entry.seq}`);
    if (seen(cursor, entry)) continue;
    let list = unseen.get(entry.origin);
    if (!list) unseen.set(entry.origin, (list = []));
    list.push(entry);
  }
  // A gap the socket knows of: its newest missing message must still be kept.
  for (const origin in cursor.origins) {
    for (const [, hi] of cursor.origins[origin].gaps ?? []) if (!present.has(`${origin}:${hi}`)) return notCovered('evicted');
  }
  const missed: HistoryEntry[] = [];
  for (const [origin, list] of unseen) {
    const unseenSeqs = new Set(list.map((entry) => entry.seq));
    for (const entry of list) {
      // Each missed message's predecessor is one the socket has, one also missed and kept, or none.
      const linked = entry.prev === 0 || seenSeq(cursor, origin, entry.prev, entry.prevAt) || unseenSeqs.has(entry.prev);
      if (!linked) return notCovered('evicted');
    }
    missed.push(...list);
  }
  // Origins interleave by acceptance time; one origin's times rise with its seq, so its order stays.
  missed.sort((a, b) => a.at - b.at || (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : a.seq - b.seq));
  return {
    recovered: true,
    missed: missed.filter((entry) => entry.sourceToken !== recipient.connectionId && recipient.matcherOf(entry.pathFilter)(recipient.path)),
  };
}
