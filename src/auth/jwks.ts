/**
 * The signing keys of `auth.jwt.jwksUrl`: jose's remote key set, which caches the set,
 * fetches it again when a token names a `kid` it does not hold (at most once per
 * cooldown, so a flood of made-up kids cannot make wsmesh flood the issuer), and
 * refreshes it once it is older than `cacheMaxAge`. Wrapped only to count the fetches
 * and to tell "the endpoint did not answer usably" (503, retry) from "this token names
 * no key we trust" (403).
 */
import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from 'jose';
import type { Logger } from '../log/logger.ts';

export interface JwksOptions {
  /** Milliseconds after a fetch before an unknown kid may cause another. */
  cooldown: number;
  /** Milliseconds to wait for the endpoint. */
  timeout: number;
  /** Milliseconds the set is trusted before it is fetched again, unknown kid or not. */
  cacheMaxAge: number;
  log?: Logger;
  /** The HTTP client; globalThis.fetch unless a test swaps it. */
  fetch?: typeof fetch;
}

export const JWKS_DEFAULTS = { cooldown: 30_000, timeout: 5_000, cacheMaxAge: 600_000 } as const;

export interface JwksStats {
  /** HTTP requests made to the endpoint, whatever their outcome. */
  jwksFetches: number;
  /** Of those, the ones that gave no key set: refused, timed out, not 200, not a JSON {keys: [...]}. */
  jwksFailures: number;
}

export interface Jwks {
  getKey: JWTVerifyGetKey;
  readonly stats: JwksStats;
}

/** The endpoint gave no usable key set; the verifier answers ERR_AUTH_UNAVAILABLE. */
export class JwksUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JwksUnavailableError';
  }
}

export function createJwks(url: URL, options: Partial<JwksOptions> = {}): Jwks {
  const { cooldown, timeout, cacheMaxAge, log, fetch: httpFetch = globalThis.fetch } = { ...JWKS_DEFAULTS, ...options };
  const stats: JwksStats = { jwksFetches: 0, jwksFailures: 0 };
  const where = url.origin + url.pathname; // no query: it may carry an API key

  // jose calls this once per real fetch (concurrent verifications share one), so the
  // counts are of HTTP requests, not of tokens. The body is read and checked here so
  // that every way of failing is counted once and surfaces as one error class.
  const countedFetch = async (resource: string, init: RequestInit): Promise<Response> => {
    stats.jwksFetches++;
    try {
      const response = await httpFetch(resource, init);
      if (response.status !== 200) throw new JwksUnavailableError(`the JWKS endpoint answered HTTP ${response.status}`);
      const body = await readKeySet(response);
      log?.debug('auth.jwks_fetched', { url: where, kids: body.keys.length });
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    } catch (error) {
      stats.jwksFailures++;
      const failure = error instanceof JwksUnavailableError ? error : new JwksUnavailableError(fetchFailure(error, timeout), { cause: error });
      log?.warn('auth.jwks_failed', { url: where, reason: failure.message });
      throw failure;
    }
  };

  const getKey = createRemoteJWKSet(url, {
    cooldownDuration: cooldown,
    timeoutDuration: timeout,
    cacheMaxAge,
    [customFetch]: countedFetch,
  });
  return { getKey, stats };
}

async function readKeySet(response: Response): Promise<{ keys: unknown[] }> {
  let body: unknown;
  try {
    body = await response.json();
  } catch (error) {
    // An abort while the body streams lands here too: report it as the timeout it is.
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) throw error;
    throw new JwksUnavailableError('the JWKS endpoint answered something other than JSON');
  }
  if (!body || typeof body !== 'object' || !Array.isArray((body as { keys?: unknown }).keys)) {
    throw new JwksUnavailableError('the JWKS endpoint answered JSON without a "keys" array');
  }
  return body as { keys: unknown[] };
}

/** Node's fetch rejects with a bare "fetch failed"; the cause says why (ECONNREFUSED...). */
function fetchFailure(error: unknown, timeout: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `the JWKS endpoint did not answer within ${timeout} ms`;
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : error instanceof Error ? error.message : String(error);
  return `the JWKS endpoint could not be fetched (${detail})`;
}
