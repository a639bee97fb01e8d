/**
 * What a reconnecting socket is owed (pure): from its user's history and the cursor
 * it brought, the messages it missed, in order, and whether the history covers the
 * whole gap. docs/protocol.md, "Recovery", gives the rules to clients.
 *
 * Covered means no message the socket missed can be absent from `entries`:
 * - the cursor is no older than the window (`ttl`): the newest thing it knows, its
 *   last message or its stream's start, is at most `ttl` old. Beyond that entries
 *   may have been cleared with no trace left.
 * - for each origin the cursor names (seen up to seq s): the oldest entry past s
 *   links back (prevSeq) to s or before. Otherwise entries in between were evicted
 *   by the ring's size.
 * - for each origin it does not name: the oldest entry younger than `since` links
 *   back to one older than `since`, or to none.
 *
 * Missed messages are filtered as live ones are: the socket's path against the
 * message's path filter, and the sender's own connection skipped.
 */
import type { PathMatcher } from '../delivery/path-filter.ts';
import { seen, type Cursor } from './cursor.ts';
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

export function planRecovery(entries: readonly HistoryEntry[], cursor: Cursor, recipient: Recipient, now: number, ttl: number): RecoveryPlan {
  let newest = cursor.since;
  for (const origin in cursor.origins) newest = Math.max(newest, cursor.origins[origin][1]);
  if (now - newest > ttl) return { recovered: false, reason: 'expired', missed: [] };

  const unseen = new Map<string, HistoryEntry[]>();
  for (const entry of entries) {
    if (seen(cursor, entry)) continue;
    let list = unseen.get(entry.origin);
    if (!list) unseen.set(entry.origin, (list = []));
    list.push(entry);
  }
  const missed: HistoryEntry[] = [];
  for (const [origin, list] of unseen) {
    list.sort((a, b) => a.seq - b.seq);
    const oldest = list[0];
    const known = cursor.origins[origin];
    const intact = known ? oldest.prevSeq <= known[0] : oldest.prevSeq === 0 || oldest.prevAt < cursor.since;
    if (!intact) return { recovered: false, reason: 'evicted', missed: [] };
    for (let i = 1; i < list.length; i++) {
      // A hole inside the kept part: a slot overwritten out of turn.
      if (list[i].prevSeq !== list[i - 1].seq) return { recovered: false, reason: 'evicted', missed: [] };
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
