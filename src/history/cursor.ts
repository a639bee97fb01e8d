/**
 * What one socket has seen of its user's stream (pure): for each origin the highest
 * seq it was given, with that message's time, and `since`, when the socket's stream
 * began. The client holds it as the opaque `offset` string of its last frame and
 * hands it back on reconnect (`&since=` on the raw protocol, Socket.IO's own offset).
 *
 * Why a vector and not one number: with no sequencer, one node's counter cannot
 * order another node's messages (docs/protocol.md, "Why the offset is a vector").
 * A message is seen when its origin is in the cursor with a seq at least its own; a
 * message of an origin the cursor does not name is unseen when it is younger than
 * `since` (older ones came before the stream began).
 *
 * Wire form, URL-safe: `1.<since base36>[.<origin>-<seq base36>-<at base36>]...`
 */
import { isOrigin, type Position } from './position.ts';

export interface Cursor {
  since: number;
  /** origin -> [seq, at]. */
  origins: Record<string, [number, number]>;
}

/** Origins a cursor names at most: past it the one heard of longest ago is forgotten (its messages then count by `since`). */
export const MAX_ORIGINS = 32;
const VERSION = '1';
const MAX_TEXT = 64 + MAX_ORIGINS * 40;

export function freshCursor(now: number): Cursor {
  return { since: now, origins: {} };
}

export function seen(cursor: Cursor, position: Position): boolean {
  const known = cursor.origins[position.origin];
  return known ? position.seq <= known[0] : position.at < cursor.since;
}

/** Records that the socket was given `position` (in place: a cursor is per-socket data, updated per frame). */
export function advance(cursor: Cursor, position: Position): void {
  const known = cursor.origins[position.origin];
  if (known) {
    if (position.seq > known[0]) {
      known[0] = position.seq;
      known[1] = position.at;
    }
    return;
  }
  cursor.origins[position.origin] = [position.seq, position.at];
  forgetBeyondLimit(cursor);
}

function forgetBeyondLimit(cursor: Cursor): void {
  const names = Object.keys(cursor.origins);
  if (names.length <= MAX_ORIGINS) return;
  let oldest = names[0];
  for (const name of names) if (cursor.origins[name][1] < cursor.origins[oldest][1]) oldest = name;
  // Forgetting an origin must not make its seen messages unseen: they fall under `since`.
  cursor.since = Math.max(cursor.since, cursor.origins[oldest][1] + 1);
  delete cursor.origins[oldest];
}

export function formatCursor(cursor: Cursor): string {
  let text = `${VERSION}.${cursor.since.toString(36)}`;
  for (const origin in cursor.origins) {
    const [seq, at] = cursor.origins[origin];
    text += `.${origin}-${seq.toString(36)}-${at.toString(36)}`;
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
    const [origin, seqText, atText, extra] = part.split('-');
    const seq = base36(seqText);
    const at = base36(atText);
    if (extra !== undefined || !isOrigin(origin) || seq === undefined || at === undefined || origin in origins) return undefined;
    origins[origin] = [seq, at];
  }
  return { since, origins };
}

function base36(text: string | undefined): number | undefined {
  if (!text || !/^[0-9a-z]{1,11}$/.test(text)) return undefined;
  const value = parseInt(text, 36);
  return Number.isSafeInteger(value) ? value : undefined;
}

export function cloneCursor(cursor: Cursor): Cursor {
  const origins: Cursor['origins'] = {};
  for (const origin in cursor.origins) origins[origin] = [...cursor.origins[origin]];
  return { since: cursor.since, origins };
}
