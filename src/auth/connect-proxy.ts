/**
 * The connect proxy: the application, which owns users and sessions, is asked who an upgrade
 * is for (docs/auth.md). The node POSTs what it knows of the upgrade (proxy-request.ts) and reads
 * the answer (proxy-answer.ts); 200 answers may be cached (proxy-cache.ts).
 *
 * Whatever goes wrong on the way (no answer within `auth.proxy.timeout`, a refused connection,
 * a redirect, a body over 64 KiB) refuses the upgrade with ERR_AUTH_UNAVAILABLE and a
 * `retryAfter`: the user may well be valid, so the client is told to come back, not to log in.
 *
 * Nothing the app answers, nor any cookie or token passed on, is logged.
 */
import type { AuthConfig } from '../config/types.ts';
import { silentLogger, type Logger } from '../log/logger.ts';
import { MAX_ANSWER_BYTES, readProxyAnswer, unavailable, type ProxyAnswerOutcome } from './proxy-answer.ts';
import { credentialsKey, ProxyCache } from './proxy-cache.ts';
import { proxyRequestBody, type ProxyRequestBody, type UpgradeRequest } from './proxy-request.ts';

export type { UpgradeRequest } from './proxy-request.ts';

export type ProxySettings = AuthConfig['proxy'];

/** The outcome of an ask; `cached` when the application was not asked this time. */
export type ProxyOutcome = ProxyAnswerOutcome & { cached?: boolean };

/**
 * How an ask that reached for the application ended, for a latency histogram's label:
 * `bad_status` is a 3xx, a 5xx or another unexpected status; `bad_answer` a 200 whose body
 * is not a valid answer (not JSON, over 64 KiB, ids that are not positive integers).
 */
export type ProxyAskResult = 'ok' | 'unknown' | 'disabled' | 'timeout' | 'unreachable' | 'bad_status' | 'bad_answer';

export interface ConnectProxyDeps {
  /** Epoch ms: the cache's clock and the reference for `expiresAt`. */
  now?: () => number;
  log?: Logger;
  /** Called after every ask that reached for the application (not on cache hits), with its latency. */
  observe?: (seconds: number, outcome: ProxyAskResult) => void;
}

export interface ConnectProxy {
  /** Who `request` is for, according to the application (or its cached answer). Never rejects. */
  ask(request: UpgradeRequest): Promise<ProxyOutcome>;
  /** Forgets cached answers of an application session (its logout): the next upgrade with its cookie asks again. */
  forgetSession(sessionId: string): void;
}

/**
 * The connect proxy of `settings`, or undefined when `auth.proxy.url` is empty (off).
 * Pass a getter to follow reloads: each ask reads the current settings. A url emptied by a
 * reload refuses every ask with ERR_AUTH_UNAVAILABLE; the caller should stop asking.
 */
export function createConnectProxy(settings: ProxySettings | (() => ProxySettings), deps: ConnectProxyDeps = {}): ConnectProxy | undefined {
  const current = typeof settings === 'function' ? settings : () => settings;
  if (current().url === '') return undefined;
  return new HttpConnectProxy(current, deps);
}

class HttpConnectProxy implements ConnectProxy {
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly observe: (seconds: number, outcome: ProxyAskResult) => void;
  private readonly cache: ProxyCache;

  constructor(
    private readonly settings: () => ProxySettings,
    deps: ConnectProxyDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.log = deps.log ?? silentLogger;
    this.observe = deps.observe ?? (() => {});
    this.cache = new ProxyCache({ ttl: () => this.settings().cacheTtl, now: this.now });
  }

  async ask(request: UpgradeRequest): Promise<ProxyOutcome> {
    const settings = this.settings();
    if (settings.url === '') return unavailable('the connect proxy is off (auth.proxy.url is empty)');
    const body = proxyRequestBody(request, settings.headers);
    // The url is in the key, so a reload pointing elsewhere never serves the old app's answers.
    const key = settings.cacheTtl > 0 ? credentialsKey(settings.url, body) : undefined;
    const hit = key === undefined ? undefined : this.cache.get(key);
    if (hit) return { ok: true, identity: hit, cached: true };

    // Monotonic: a wall-clock step must not put a negative latency in the histogram.
    const started = performance.now();
    const { outcome, result, status } = await post(settings, body, this.now);
    this.observe((performance.now() - started) / 1000, result);

    if (outcome.ok) {
      if (key !== undefined) this.cache.set(key, outcome.identity);
      // Not the sessionId: an application's session id is often its cookie's value.
      this.log.debug('auth.proxy_admitted', { userId: outcome.identity.userId, contextId: outcome.identity.contextId });
    } else if (outcome.code === 'ERR_AUTH_UNAVAILABLE') {
      this.log.warn('auth.proxy_unavailable', { result, status, reason: outcome.reason, retryAfter: outcome.retryAfter });
    } else {
      this.log.debug('auth.proxy_refused', { code: outcome.code, status });
    }
    return outcome;
  }

  forgetSession(sessionId: string): void {
    this.cache.forgetSession(sessionId);
  }
}

interface Posted {
  outcome: ProxyAnswerOutcome;
  result: ProxyAskResult;
  /** The application's status, when it answered. */
  status?: number;
}

async function post(settings: ProxySettings, body: ProxyRequestBody, now: () => number): Promise<Posted> {
  // One signal for the whole exchange: the timeout bounds reading the body too.
  const signal = AbortSignal.timeout(settings.timeout);
  let response: Response;
  try {
    response = await fetch(settings.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      // A redirect would send the user's cookies to wherever the app's answer points.
      redirect: 'manual',
      signal,
    });
  } catch (error) {
    return failed(error, settings.timeout);
  }
  const { status } = response;
  if (status !== 200) {
    // Only a 200 has a body worth reading; discarding it frees the connection for reuse.
    response.body?.cancel().catch(() => {});
    const outcome = readProxyAnswer(status, response.headers, '', now());
    return { outcome, result: resultOf(outcome, status), status };
  }
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readCapped(response, MAX_ANSWER_BYTES);
  } catch (error) {
    return { ...failed(error, settings.timeout), status };
  }
  if (bytes === undefined) return { outcome: unavailable(`the connect proxy answered a body over ${MAX_ANSWER_BYTES} bytes`), result: 'bad_answer', status };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { outcome: unavailable('the connect proxy answered a body that is not UTF-8'), result: 'bad_answer', status };
  }
  const outcome = readProxyAnswer(status, response.headers, text, now());
  return { outcome, result: resultOf(outcome, status), status };
}

/**
 * The body, or undefined past `limit` bytes: reading stops there (the rest is never
 * downloaded), whether or not a content-length announced it.
 */
async function readCapped(response: Response, limit: number): Promise<Uint8Array | undefined> {
  if (!response.body) return new Uint8Array(0);
  const announced = Number(response.headers.get('content-length'));
  if (announced > limit) {
    response.body.cancel().catch(() => {});
    return undefined;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.byteLength;
    if (length > limit) {
      reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, length);
}

/**
 * A request that got no usable answer. On Node 20, fetch rejects with a DOMException named
 * TimeoutError when `AbortSignal.timeout` fires (also mid-body), and with a TypeError
 * "fetch failed" whose `cause` carries the socket error code (ECONNREFUSED, ENOTFOUND, ...)
 * otherwise. The error's message is not used: for a url with credentials it quotes the url.
 */
function failed(error: unknown, timeout: number): Posted {
  const name = error instanceof Error ? error.name : typeof error;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return { outcome: unavailable(`the connect proxy did not answer within ${timeout} ms`), result: 'timeout' };
  }
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : name;
  return { outcome: unavailable(`the connect proxy could not be reached (${code})`), result: 'unreachable' };
}

function resultOf(outcome: ProxyAnswerOutcome, status: number): ProxyAskResult {
  if (outcome.ok) return 'ok';
  if (outcome.code === 'ERR_SESSION_UNKNOWN') return 'unknown';
  if (outcome.code === 'ERR_DISABLED') return 'disabled';
  return status === 200 ? 'bad_answer' : 'bad_status';
}
