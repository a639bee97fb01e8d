import { expect } from 'chai';
import type { AppIdentity } from '../../src/auth/identity.ts';
import { credentialsKey, PROXY_CACHE_DEFAULTS, ProxyCache } from '../../src/auth/proxy-cache.ts';
import type { ProxyRequestBody } from '../../src/auth/proxy-request.ts';

const URL_A = 'https://app.example/connect';

function body(more: Partial<ProxyRequestBody> = {}): ProxyRequestBody {
  return {
    path: '/ws',
    query: { session: 's', connectionId: 'c' },
    clientAddress: '203.0.113.9',
    origin: 'https://app.example',
    headers: { cookie: 'JSESSIONID=COOKIE-SECRET', 'user-agent': 'UA' },
    ...more,
  };
}

function user(userId: number, more: Partial<AppIdentity> = {}): AppIdentity {
  return { source: 'proxy', userId, contextId: 1, ...more };
}

function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let at = start;
  return { now: () => at, advance: (ms) => (at += ms) };
}

describe('credentialsKey', () => {
  it('is the same for the same request, whatever the order of its headers and query', () => {
    const reordered = body({ query: { connectionId: 'c', session: 's' }, headers: { 'user-agent': 'UA', cookie: 'JSESSIONID=COOKIE-SECRET' } });
    expect(credentialsKey(URL_A, reordered)).to.equal(credentialsKey(URL_A, body()));
  });

  const changes: Array<[string, string, ProxyRequestBody]> = [
    ['the url', 'https://other.example/connect', body()],
    ['a cookie', URL_A, body({ headers: { cookie: 'JSESSIONID=other', 'user-agent': 'UA' } })],
    ['a header more', URL_A, body({ headers: { cookie: 'JSESSIONID=COOKIE-SECRET', 'user-agent': 'UA', authorization: 'Bearer t' } })],
    ['a query parameter', URL_A, body({ query: { session: 't', connectionId: 'c' } })],
    ['the path', URL_A, body({ path: '/socket.io/' })],
    ['the client address', URL_A, body({ clientAddress: '198.51.100.1' })],
    ['the origin', URL_A, body({ origin: null })],
    // A value moved between query and headers must not collide.
    ['a name moved from the query to the headers', URL_A, body({ query: { session: 's' }, headers: { connectionId: 'c', cookie: 'JSESSIONID=COOKIE-SECRET', 'user-agent': 'UA' } })],
  ];
  for (const [what, url, changed] of changes) {
    it(`differs when ${what} differs`, () => expect(credentialsKey(url, changed)).not.to.equal(credentialsKey(URL_A, body())));
  }

  it('is a SHA-256 digest holding no credential in the clear', () => {
    const key = credentialsKey(URL_A, body());
    expect(key).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(key).not.to.include('COOKIE');
  });
});

describe('ProxyCache', () => {
  describe('#get', () => {
    it('is undefined for an unknown key', () => {
      expect(new ProxyCache({ ttl: 1000 }).get('k')).to.equal(undefined);
    });

    it('returns the identity stored, within the ttl', () => {
      const time = clock();
      const cache = new ProxyCache({ ttl: 1000, now: time.now });
      cache.set('k', user(1));
      time.advance(999);
      expect(cache.get('k')).to.deep.equal(user(1));
    });

    it('forgets it when the ttl has passed', () => {
      const time = clock();
      const cache = new ProxyCache({ ttl: 1000, now: time.now });
      cache.set('k', user(1));
      time.advance(1000);
      expect(cache.get('k')).to.equal(undefined);
      expect(cache.size).to.equal(0);
    });

    it("forgets it at the identity's expiresAt, before the ttl", () => {
      const time = clock(1_000_000);
      const cache = new ProxyCache({ ttl: 60_000, now: time.now });
      cache.set('k', user(1, { expiresAt: 1_000_500 }));
      time.advance(499);
      expect(cache.get('k')).to.include({ userId: 1 });
      time.advance(1);
      expect(cache.get('k')).to.equal(undefined);
    });

    it('keeps it for the ttl when expiresAt is later', () => {
      const time = clock(1_000_000);
      const cache = new ProxyCache({ ttl: 1000, now: time.now });
      cache.set('k', user(1, { expiresAt: 9_000_000 }));
      time.advance(1000);
      expect(cache.get('k')).to.equal(undefined);
    });

    it('applies a lowered ttl to entries already stored (a reload)', () => {
      const time = clock();
      let ttl = 60_000;
      const cache = new ProxyCache({ ttl: () => ttl, now: time.now });
      cache.set('k', user(1));
      time.advance(5000);
      expect(cache.get('k')).to.include({ userId: 1 });
      ttl = 1000;
      expect(cache.get('k')).to.equal(undefined);
    });

    it('hands out copies: changing one changes neither the cache nor the identity stored', () => {
      const cache = new ProxyCache({ ttl: 1000 });
      const stored = user(1, { config: { 'websockets.enabled': true } });
      cache.set('k', stored);
      stored.config!['websockets.enabled'] = false;
      const first = cache.get('k')!;
      first.config!['websockets.enabled'] = 'changed';
      first.userId = 99;
      expect(cache.get('k')).to.deep.equal(user(1, { config: { 'websockets.enabled': true } }));
    });
  });

  describe('#set', () => {
    it('stores nothing when the ttl is 0', () => {
      const cache = new ProxyCache({ ttl: 0 });
      cache.set('k', user(1));
      expect(cache.size).to.equal(0);
      expect(cache.get('k')).to.equal(undefined);
    });

    it('replaces the entry of the same key, restarting its ttl', () => {
      const time = clock();
      const cache = new ProxyCache({ ttl: 1000, now: time.now });
      cache.set('k', user(1));
      time.advance(800);
      cache.set('k', user(2));
      time.advance(800);
      expect(cache.get('k')).to.include({ userId: 2 });
      expect(cache.size).to.equal(1);
    });

    it('evicts the oldest entry past maxEntries', () => {
      const cache = new ProxyCache({ ttl: 1000, maxEntries: 3 });
      for (const n of [1, 2, 3, 4]) cache.set(`k${n}`, user(n));
      expect(cache.size).to.equal(3);
      expect(cache.get('k1')).to.equal(undefined);
      expect([2, 3, 4].map((n) => cache.get(`k${n}`)?.userId)).to.deep.equal([2, 3, 4]);
    });

    it('counts a replaced entry as the newest', () => {
      const cache = new ProxyCache({ ttl: 1000, maxEntries: 2 });
      cache.set('a', user(1));
      cache.set('b', user(2));
      cache.set('a', user(3));
      cache.set('c', user(4));
      expect(cache.get('b')).to.equal(undefined);
      expect(cache.get('a')).to.include({ userId: 3 });
    });

    it(`holds at most ${PROXY_CACHE_DEFAULTS.maxEntries} entries by default, evicting in constant time`, () => {
      const cache = new ProxyCache({ ttl: 1000 });
      const started = performance.now();
      for (let n = 0; n < PROXY_CACHE_DEFAULTS.maxEntries * 5; n++) cache.set(`k${n}`, user(n + 1));
      expect(cache.size).to.equal(PROXY_CACHE_DEFAULTS.maxEntries);
      expect(cache.get('k0')).to.equal(undefined);
      expect(cache.get(`k${PROXY_CACHE_DEFAULTS.maxEntries * 5 - 1}`)).to.include({ userId: PROXY_CACHE_DEFAULTS.maxEntries * 5 });
      // 50,000 sets: linear eviction would be ~10^9 steps; constant time is milliseconds.
      expect(performance.now() - started).to.be.below(2000);
    });
  });

  describe('#forgetSession', () => {
    it("drops every entry of the session (its logout) and no other's", () => {
      const cache = new ProxyCache({ ttl: 1000 });
      cache.set('a', user(1, { sessionId: 's-1' }));
      cache.set('b', user(1, { sessionId: 's-1' }));
      cache.set('c', user(1, { sessionId: 's-2' }));
      cache.set('d', user(2));
      expect(cache.forgetSession('s-1')).to.equal(2);
      expect(['a', 'b', 'c', 'd'].map((key) => cache.get(key) !== undefined)).to.deep.equal([false, false, true, true]);
    });
  });

  describe('#clear', () => {
    it('forgets every entry', () => {
      const cache = new ProxyCache({ ttl: 1000 });
      cache.set('a', user(1));
      cache.clear();
      expect(cache.size).to.equal(0);
    });
  });
});
