/**
 * A history entry on the wire (pure): the JSON body of one retained message, sealed
 * like every internal payload. Short keys: a user's ring holds up to
 * `websockets.history.size` of them per origin on the broker.
 */
import { isOrigin, type HistoryEntry } from './position.ts';

interface Wire {
  v: 1;
  o: string;
  q: number;
  t: number;
  pq: number;
  pt: number;
  i: string;
  c: number;
  u: number;
  m: string;
  f: string | null;
  s?: string;
}

export function encodeEntry(entry: HistoryEntry): string {
  const wire: Wire = {
    v: 1,
    o: entry.origin,
    q: entry.seq,
    t: entry.at,
    pq: entry.prev,
    pt: entry.prevAt,
    i: entry.id,
    c: entry.contextId,
    u: entry.userId,
    m: entry.message,
    f: entry.pathFilter,
  };
  if (entry.sourceToken !== undefined) wire.s = entry.sourceToken;
  return JSON.stringify(wire);
}

export function decodeEntry(body: string): HistoryEntry | undefined {
  let w: Partial<Wire>;
  try {
    w = JSON.parse(body) as Partial<Wire>;
  } catch {
    return undefined;
  }
  if (!w || w.v !== 1 || !isOrigin(w.o)) return undefined;
  if (![w.q, w.t, w.pq, w.pt, w.c, w.u].every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) return undefined;
  if (typeof w.i !== 'string' || typeof w.m !== 'string' || (w.f !== null && typeof w.f !== 'string') || (w.s !== undefined && typeof w.s !== 'string')) return undefined;
  const entry: HistoryEntry = {
    origin: w.o,
    seq: w.q!,
    at: w.t!,
    prev: w.pq!,
    prevAt: w.pt!,
    id: w.i,
    contextId: w.c!,
    userId: w.u!,
    message: w.m,
    pathFilter: w.f ?? null,
  };
  if (w.s !== undefined) entry.sourceToken = w.s;
  return entry;
}
