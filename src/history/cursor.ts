/**
 * What one socket has seen of its user's stream (pure): for each origin the highest
 * seq it was given, with that message's time, and the gaps below it; and `since`,
 * when the socket's stream began. The client holds it as the opaque `offset` string
 * of its last frame and hands it back on reconnect (`&since=` on the raw protocol,
 * Socket.IO's own offset).
 *
 * Why a vector and not one number: with no sequencer, one node's counter cannot
 * order another node's messages (docs/protocol.md, "What an offset is"). A message
 * is seen when its origin is in the cursor with a seq at least its own, outside the
 * origin's gaps; a message of an origin the cursor does not name is unseen when it
 * is younger than `since` (older ones came before the stream began).
 *
 * Gaps: every message names the previous one of its user from its origin (`prev`).
 * One that arrives past a `prev` the socket never got (lost on the way, or overtaken:
 * a resend after a late PUBACK, a copy of the fast path) opens a gap (max, prev]; the
 * late one is still written when it comes, and a recovery replays what is still
 * missing.
 *
 * Wire form, URL-safe: `1.<since b36>[.<origin>-<seq b36>-<at b36>[-<lo b36>~<hi b36>]...]...`
 */
import { isOrigin, type Position } from './position.ts';

export interface OriginSeen {
  seq: number;
  at: number;
  /** (lo, hi] ranges of seqs not given to the socket, lowest first. */
  gaps?: Array<[number, number]>;
}

export interface Cursor {
  since: number;
  origins: Record<string, OriginSeen>;
}

/** Origins a cursor names at most: past it the one heard of longest ago is forgotten (its messages then count by `since`). */
export const MAX_ORIGINS = 32;
/** Gaps kept per origin: past it the oldest is given up (a recovery then cannot know of it). */
export const MAX_GAPS = 8;
const VERSION = '1';
const MAX_TEXT = 64 + MAX_ORIGINS * (40 + MAX_GAPS * 24);

export function freshCursor(now: number): Cursor {
  return { since: now, origins: {} };
}

/**
 * A gap from 0 was opened by an origin's first message to the socket, whose prev came
 * after the stream began: what of it is older than `since` is not the socket's.
 */
function inGap(known: OriginSeen, seq: number, at: number, since: number): boolean {
  return known.gaps?.some(([lo, hi]) => seq > lo && seq <= hi && (lo > 0 || at >= since)) ?? false;
}

/** Whether the socket has the message of `origin` numbered `seq` (time `at` decides for an origin it never heard of). */
export function seenSeq(cursor: Cursor, origin: string, seq: number, at: number): boolean {
  const known = cursor.origins[origin];
  return known ? seq <= known.seq && !inGap(known, seq, at, cursor.since) : at < cursor.since;
}

export function seen(cursor: Cursor, position: Position): boolean {
  return seenSeq(cursor, position.origin, position.seq, position.at);
}

/** Records that the socket was given `position` (in place: a cursor is per-socket data, updated per frame). */
export function advance(cursor: Cursor, position: Position): void {
  const known = cursor.origins[position.origin];
  if (!known) {
    const first: OriginSeen = { seq: position.seq, at: position.at };
    // Its prev belongs to the stream but never came (yet): overtaken on the way.
    if (position.prev > 0 && position.prevAt >= cursor.since) first.gaps = [[0, position.prev]];
    cursor.origins[position.origin] = first;
    forgetBeyondLimit(cursor);
    return;
  }
  if (position.seq > known.seq) {
    if (position.prev > known.seq) addGap(known, known.seq, position.prev);
    known.seq = position.seq;
    known.at = position.at;
    return;
  }
  // A late one, inside a gap: what is below its prev, and above it, is still missing.
  const index = known.gaps?.findIndex(([lo, hi]) => position.seq > lo && position.seq <= hi && (lo > 0 || position.at >= cursor.since)) ?? -1;
  if (index < 0) return;
  const [lo, hi] = known.gaps![index];
  const rest: Array<[number, number]> = [];
  // Below a gap from 0, only what came after the stream began is missing.
  if (position.prev > lo && (lo > 0 || position.prevAt >= cursor.since)) rest.push([lo, Math.min(position.prev, hi)]);
  if (hi > position.seq) rest.push([position.seq, hi]);
  known.gaps!.splice(index, 1, ...rest);
  if (known.gaps!.length === 0) delete known.gaps;
}

function addGap(known: OriginSeen, lo: number, hi: number): void {
  const gaps = (known.gaps ??= []);
  gaps.push([lo, hi]);
  if (gaps.length > MAX_GAPS) gaps.shift();
}

function forgetBeyondLimit(cursor: Cursor): void {
  const names = Object.keys(cursor.origins);
  if (names.length <= MAX_ORIGINS) return;
  let oldest = names[0];
  for (const name of names) if (cursor.origins[name].at < cursor.origins[oldest].at) oldest = name;
  // Forgetting an origin must not make its seen messages unseen: they fall under `since`.
  cursor.since = Math.max(cursor.since, cursor.origins[oldest].at + 1);
  delete cursor.origins[oldest];
}

export function formatCursor(cursor: Cursor): string {
  let text = `${VERSION}.${cursor.since.toString(36)}`;
  for (const origin in cursor.origins) {
    const { seq, at, gaps } = cursor.origins[origin];
    text += `.${origin}-${seq.toString(36)}-${at.toString(36)}`;
    if (gaps) for (const [lo, hi] of gaps) text += `-${lo.toString(36)}~${hi.toString(36)}`;
  }
  return text;
}

/** The cursor an offset string holds; undefined for anything that is not one. */
export function parseCursor(text: string): Cursor | undefined {
  if (text.length > MAX_TEXT) return undefined;
  const parts = text.split('.');
  if (parts[0] !== VERSION || parts.length < 2 || parts.length - 2 > MAX_ORIGINS) return undefined;
  const since = base36(parts[1]);
  if (since === undefined) return undefined;
  const origins: Cursor['origins'] = {};
  for (const part of parts.slice(2)) {
    const [origin, seqText, atText, ...gapTexts] = part.split('-');
    const seq = base36(seqText);
    const at = base36(atText);
    if (!isOrigin(origin) || seq === undefined || at === undefined || origin in origins || gapTexts.length > MAX_GAPS) return undefined;
    const seen: OriginSeen = { seq, at };
    for (const gapText of gapTexts) {
      const [lo, hi, extra] = gapText.split('~').map(base36);
      if (lo === undefined || hi === undefined || extra !== undefined || gapText.split('~').length !== 2 || lo >= hi || hi > seq) return undefined;
      (seen.gaps ??= []).push([lo, hi]);
    }
    origins[origin] = seen;
  }
  return { since, origins };
}

function base36(text: string | undefined): number | undefined {
  if (!text || !/^[0-9a-z]{1,11}$/.test(text)) return undefined;
  const value = parseInt(text, 36);
  return Number.isSafeInteger(value) ? value : undefined;
}

export function cloneCursor(cursor: Cursor): Cursor {
  return structuredClone(cursor);
}
