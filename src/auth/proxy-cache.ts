/**
 * The connect proxy's 200 answers, remembered for `auth.proxy.cacheTtl` ms per identical
 * request (pure: the clock is injected). A page opening several sockets, or a socket
 * reconnecting, then costs the application one call instead of one per upgrade.
 *
 * Only admissions are cached: a 401 or 403 is asked again, so a user who has just logged in
 * or been re-enabled gets in at once. An entry never outlives the identity's `expiresAt`.
 */
import { createHash } from 'node:crypto';
import type { AppIdentity } from './identity.ts';
import type { ProxyRequestBody } from './proxy-request.ts';

export interface ProxyCacheOptions {
  /** Milliseconds an answer is kept; 0 or less keeps nothing. A getter follows reloads. */
  ttl: number | (() => number);
  /** Entries kept at most; past it the oldest is evicted. */
  maxEntries?: number;
  /** Epoch ms. */
  now?: () => number;
}

export const PROXY_CACHE_DEFAULTS = { maxEntries: 10_000 } as const;

interface Entry {
  identity: AppIdentity;
  storedAt: number;
}

/**
 * The cache key of a request: a SHA-256 digest of everything the application was told (and
 * its url), so a cached answer is one the application gave for exactly this request, and the
 * cache holds no cookie or token in the clear. The client address and origin are in it: an
 * application that checks them is not bypassed by a cookie replayed from elsewhere.
 */
export function credentialsKey(url: string, body: ProxyRequestBody): string {
  const canonical = JSON.stringify([url, body.path, sorted(body.query), body.clientAddress, body.origin, sorted(body.headers)]);
  return createHash('sha256').update(canonical).digest('base64url');
}

function sorted(record: Record<string, string>): Array<[string, string]> {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A bounded map of identities by credentials key; O(1) get, set and eviction (Map keeps insertion order). */
export class ProxyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly ttl: () => number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: ProxyCacheOptions) {
    const { ttl } = options;
    this.ttl = typeof ttl === 'function' ? ttl : () => ttl;
    this.maxEntries = options.maxEntries ?? PROXY_CACHE_DEFAULTS.maxEntries;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The identity stored under `key`, unless it is older than the ttl (read now, so a lowered ttl applies at once) or expired. */
  get(key: string): AppIdentity | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const now = this.now();
    const { expiresAt } = entry.identity;
    if (now >= entry.storedAt + this.ttl() || (expiresAt !== undefined && now >= expiresAt)) {
      this.entries.delete(key);
      return undefined;
    }
    return copy(entry.identity);
  }

  /** Stores a copy of `identity` as the newest entry. */
  set(key: string, identity: AppIdentity): void {
    if (this.ttl() <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { identity: copy(identity), storedAt: this.now() });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  /**
   * Drops the entries of an application session, so a logout is not undone by a reconnect
   * with the old cookie answered from the cache. A scan: logouts are rare, entries few.
   * @returns how many entries were dropped
   */
  forgetSession(sessionId: string): number {
    let dropped = 0;
    for (const [key, entry] of this.entries) {
      if (entry.identity.sessionId === sessionId && this.entries.delete(key)) dropped++;
    }
    return dropped;
  }

  clear(): void {
    this.entries.clear();
  }
}

/** Copies in and out, so a caller changing its identity (or its config) changes no other caller's. */
function copy(identity: AppIdentity): AppIdentity {
  return identity.config ? { ...identity, config: { ...identity.config } } : { ...identity };
}
