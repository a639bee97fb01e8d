/**
 * The connect proxy's answer, read into an outcome (pure: no I/O, the clock passed in).
 *
 * The application answers the node's POST with:
 * - 200 and `{"userId", "contextId", "sessionId"?, "expiresAt"?, "config"?}`: the user. Ids are
 *   positive integers (JSON numbers, not strings); `sessionId` a string; `expiresAt` epoch
 *   milliseconds (a number) or an ISO 8601 string with a time zone; `config` an object of
 *   user-scope cascade values. null stands for an absent optional; unknown fields are ignored;
 *   an `expiresAt` already past refuses with ERR_SESSION_UNKNOWN;
 * - 401: no such session (ERR_SESSION_UNKNOWN); 403: the user may not connect (ERR_DISABLED);
 * - anything else (a 3xx, which is never followed, a 5xx, another status, a body that is not
 *   a valid answer): ERR_AUTH_UNAVAILABLE with a `retryAfter` in seconds.
 *
 * Refusal reasons never quote the body: it is the application's, and may echo credentials.
 */
import type { AppIdentity, AuthOutcome } from './identity.ts';

/** An outcome, with the seconds a client should wait before retrying when the app was unavailable. */
export type ProxyAnswerOutcome = AuthOutcome & { retryAfter?: number };

/** The largest answer body read; past it the node stops reading and refuses (a user is a few hundred bytes). */
export const MAX_ANSWER_BYTES = 64 * 1024;

/** Seconds a client is told to wait when the app gave no (valid) Retry-After. */
export const DEFAULT_RETRY_AFTER = 1;

/**
 * Bounds of the app's own Retry-After: under 1 s a failing app would invite a reconnect storm;
 * over an hour is a misconfiguration, and a client told to wait a day would not come back.
 */
const RETRY_AFTER_MIN = 1;
const RETRY_AFTER_MAX = 3600;

/**
 * Before this, an `expiresAt` number is taken for epoch seconds sent by mistake (1e11 ms is
 * March 1973; 1e11 s is the year 5138), and the answer is refused rather than every socket
 * being closed at once as expired.
 */
const EPOCH_MS_FLOOR = 1e11;

/**
 * ISO 8601 with a time zone (Z or an offset). Without one, `Date.parse` reads the time as the
 * node's local time, so two nodes in different zones would disagree on the expiry.
 */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** `Sun, 06 Nov 1994 08:49:37 GMT` */
const IMF_FIXDATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** The part of `Headers` the reader needs. */
export interface AnswerHeaders {
  get(name: string): string | null;
}

/**
 * Reads the app's answer.
 * @param status the HTTP status the app answered with
 * @param headers its response headers (only Retry-After is read)
 * @param body the body text (the caller stops reading past MAX_ANSWER_BYTES and never calls this then)
 * @param now epoch ms, to refuse an `expiresAt` already past and to read an HTTP-date Retry-After
 */
export function readProxyAnswer(status: number, headers: AnswerHeaders, body: string, now: number): ProxyAnswerOutcome {
  if (status === 200) return readIdentity(body, now);
  if (status === 401) return { ok: false, code: 'ERR_SESSION_UNKNOWN', reason: 'the application does not know this session (401)' };
  if (status === 403) return { ok: false, code: 'ERR_DISABLED', reason: 'the application does not let this user connect (403)' };
  // RFC 9110 section 10.2.3 gives Retry-After its "come back later" meaning on 503; RFC 6585 on 429.
  // On a 3xx it means something else, and the redirect itself is never followed.
  const retryAfter = status === 503 || status === 429 ? parseRetryAfter(headers.get('retry-after'), now) : undefined;
  const what = status >= 300 && status < 400 ? 'redirected (not followed)' : 'answered';
  return unavailable(`the connect proxy ${what} with status ${status}`, retryAfter);
}

/** ERR_AUTH_UNAVAILABLE, with the seconds a client should wait. */
export function unavailable(reason: string, retryAfter = DEFAULT_RETRY_AFTER): ProxyAnswerOutcome {
  return { ok: false, code: 'ERR_AUTH_UNAVAILABLE', reason, retryAfter };
}

/**
 * A Retry-After header in seconds: delta-seconds or an HTTP-date in IMF-fixdate form, the one
 * senders must generate (RFC 9110 sections 10.2.3 and 5.6.7), clamped to 1..3600; undefined
 * when absent or malformed.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  let seconds: number;
  if (/^\d+$/.test(text)) seconds = Number(text);
  else {
    const at = IMF_FIXDATE.test(text) ? Date.parse(text) : NaN;
    if (Number.isNaN(at)) return undefined;
    seconds = Math.ceil((at - now) / 1000);
  }
  return Math.min(RETRY_AFTER_MAX, Math.max(RETRY_AFTER_MIN, seconds));
}

function readIdentity(body: string, now: number): ProxyAnswerOutcome {
  let answer: unknown;
  try {
    answer = JSON.parse(body);
  } catch {
    return unavailable('the connect proxy answered 200 with a body that is not JSON');
  }
  if (!isPlainObject(answer)) return unavailable('the connect proxy answered 200 with JSON that is not an object');
  const { userId, contextId, sessionId, expiresAt, config } = answer;
  if (!isPositiveId(userId)) return unavailable('the connect proxy answered a userId that is not a positive integer');
  if (!isPositiveId(contextId)) return unavailable('the connect proxy answered a contextId that is not a positive integer');

  const identity: AppIdentity = { source: 'proxy', contextId, userId };
  // null is taken for absent: serialisers of typed languages write absent optionals as null.
  if (sessionId !== undefined && sessionId !== null) {
    if (typeof sessionId !== 'string' || sessionId === '') return unavailable('the connect proxy answered a sessionId that is not a non-empty string');
    identity.sessionId = sessionId;
  }
  if (expiresAt !== undefined && expiresAt !== null) {
    const at = readExpiresAt(expiresAt);
    if (typeof at === 'string') return unavailable(at);
    if (at <= now) return { ok: false, code: 'ERR_SESSION_UNKNOWN', reason: 'the application answered a session that has already expired' };
    identity.expiresAt = at;
  }
  if (config !== undefined && config !== null) {
    if (!isPlainObject(config)) return unavailable('the connect proxy answered a config that is not an object');
    identity.config = copyConfig(config);
  }
  return { ok: true, identity };
}

/**
 * `expiresAt` as epoch ms: a number of epoch milliseconds, or an ISO 8601 string with a zone
 * (`2030-01-01T00:00:00Z`, `2030-01-01T01:00:00.000+01:00`). Returns the refusal reason otherwise.
 */
function readExpiresAt(value: unknown): number | string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return 'the connect proxy answered an expiresAt that is not a finite number';
    if (value < EPOCH_MS_FLOOR) return 'the connect proxy answered an expiresAt before 1973: epoch seconds instead of milliseconds?';
    return value;
  }
  if (typeof value === 'string' && ISO_WITH_ZONE.test(value)) {
    const at = Date.parse(value);
    if (!Number.isNaN(at)) return at;
  }
  return 'the connect proxy answered an expiresAt that is neither epoch ms nor an ISO 8601 string with a time zone';
}

/** Ids are positive safe integers: 2^60 would lose digits as a number, and strings are not ids. */
function isPositiveId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A fresh copy without `__proto__`: JSON.parse makes it an own key, and a later
 * `Object.assign` of these values into a cascade would set the target's prototype.
 */
function copyConfig(config: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) if (key !== '__proto__') copy[key] = value;
  return copy;
}
