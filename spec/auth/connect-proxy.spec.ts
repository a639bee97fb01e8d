import { expect } from 'chai';
import { createConnectProxy, type ConnectProxy, type ProxyAskResult, type ProxySettings, type UpgradeRequest } from '../../src/auth/connect-proxy.ts';
import { createLogger } from '../../src/log/logger.ts';
import { BODY_SECRET, closedPort, GOOD_USER, startConnectApp, type ConnectApp } from '../support/connect-app.ts';

const DEFAULT_HEADERS = ['cookie', 'authorization', 'user-agent', 'accept-language'];

function settings(url: string, more: Partial<ProxySettings> = {}): ProxySettings {
  return { url, timeout: 200, headers: DEFAULT_HEADERS, cacheTtl: 0, ...more };
}

function upgrade(more: Partial<UpgradeRequest> = {}): UpgradeRequest {
  return {
    path: '/ws',
    query: { session: 'abc', connectionId: 'tab-1' },
    clientAddress: '203.0.113.9',
    origin: 'https://app.example',
    headers: {
      host: 'node-1:8009',
      cookie: 'JSESSIONID=COOKIE-SECRET; lang=de',
      authorization: 'Bearer TOKEN-SECRET',
      'user-agent': 'Mozilla/5.0',
      'accept-language': 'de-DE',
      'x-forwarded-for': '203.0.113.9',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    },
    ...more,
  };
}

/** A settable epoch-ms clock. */
function fakeClock(start: number): { now: () => number; set(at: number): void } {
  let at = start;
  return { now: () => at, set: (next) => (at = next) };
}

describe('createConnectProxy', () => {
  let app: ConnectApp;
  beforeEach(async () => (app = await startConnectApp()));
  afterEach(() => app.close());

  function proxyFor(scenario: string, more: Partial<ProxySettings> = {}, deps = {}): ConnectProxy {
    const proxy = createConnectProxy(settings(`${app.base}/${scenario}`, more), deps);
    if (!proxy) throw new Error('expected a connect proxy');
    return proxy;
  }

  it('is undefined when auth.proxy.url is empty (off)', () => {
    expect(createConnectProxy(settings(''))).to.equal(undefined);
    expect(createConnectProxy(() => settings(''))).to.equal(undefined);
  });

  describe('#ask, the request the application receives', () => {
    it('POSTs the exact JSON of the contract with content-type application/json', async () => {
      await proxyFor('good').ask(upgrade());
      expect(app.calls).to.have.length(1);
      const [call] = app.calls;
      expect(call.method).to.equal('POST');
      expect(call.url).to.equal('/good');
      expect(call.headers['content-type']).to.equal('application/json');
      expect(JSON.parse(call.body)).to.deep.equal({
        path: '/ws',
        query: { session: 'abc', connectionId: 'tab-1' },
        clientAddress: '203.0.113.9',
        origin: 'https://app.example',
        headers: {
          cookie: 'JSESSIONID=COOKIE-SECRET; lang=de',
          authorization: 'Bearer TOKEN-SECRET',
          'user-agent': 'Mozilla/5.0',
          'accept-language': 'de-DE',
        },
      });
    });

    it('passes on only the configured headers, named in lower case whatever the configured or received case', async () => {
      const request = upgrade({ headers: { Cookie: 'a=1', 'X-Tenant': 'acme', authorization: 'Bearer x', host: 'h' } });
      await proxyFor('good', { headers: ['COOKIE', 'x-tenant', 'Accept-Language'] }).ask(request);
      expect(JSON.parse(app.calls[0].body).headers).to.deep.equal({ cookie: 'a=1', 'x-tenant': 'acme' });
    });

    it('sends origin null and empty objects when the upgrade had no origin, query or passed-on headers', async () => {
      await proxyFor('good').ask({ path: '/socket.io/', query: {}, clientAddress: '::1', headers: { host: 'h' } });
      expect(JSON.parse(app.calls[0].body)).to.deep.equal({ path: '/socket.io/', query: {}, clientAddress: '::1', origin: null, headers: {} });
    });

    it('joins a repeated header as one value', async () => {
      await proxyFor('good', { headers: ['x-tag', 'cookie'] }).ask(upgrade({ headers: { 'x-tag': ['a', 'b'], cookie: ['a=1', 'b=2'] } }));
      expect(JSON.parse(app.calls[0].body).headers).to.deep.equal({ 'x-tag': 'a, b', cookie: 'a=1; b=2' });
    });
  });

  describe('#ask, the answer', () => {
    it('admits the good user with its sessionId, expiresAt and config', async () => {
      const outcome = await proxyFor('good').ask(upgrade());
      expect(outcome).to.deep.equal({ ok: true, identity: { source: 'proxy', ...GOOD_USER } });
    });

    it('reads an ISO 8601 expiresAt as epoch ms', async () => {
      const outcome = await proxyFor('iso-expiry').ask(upgrade());
      expect(outcome.ok && outcome.identity.expiresAt).to.equal(2_000_000_000_000);
    });

    it('refuses a 401 with ERR_SESSION_UNKNOWN and no retryAfter', async () => {
      const outcome = await proxyFor('unknown').ask(upgrade());
      expect(outcome).to.include({ ok: false, code: 'ERR_SESSION_UNKNOWN' });
      expect(outcome.retryAfter).to.equal(undefined);
    });

    it('refuses a 403 with ERR_DISABLED', async () => {
      expect(await proxyFor('disabled').ask(upgrade())).to.include({ ok: false, code: 'ERR_DISABLED' });
    });

    it('refuses a 200 whose expiresAt has passed with ERR_SESSION_UNKNOWN', async () => {
      expect(await proxyFor('expired').ask(upgrade())).to.include({ ok: false, code: 'ERR_SESSION_UNKNOWN' });
    });

    const unavailable: Array<[string, string, number, RegExp]> = [
      ['a 500', 'server-error', 1, /status 500/],
      ["a 503, with the app's Retry-After", 'busy-retry', 30, /status 503/],
      ['a 503 with a malformed Retry-After, with 1 s', 'busy-bad-retry', 1, /status 503/],
      ['a 204 (only 200 admits)', 'no-content', 1, /status 204/],
      ['an unknown path of the app (404)', 'nowhere', 1, /status 404/],
      ['a body that is not JSON', 'junk', 1, /not JSON/],
      ['a body that is not UTF-8', 'not-utf8', 1, /not UTF-8/],
      ['JSON that is not an object', 'array', 1, /not an object/],
      ['a body of 1 MiB announced by content-length', 'huge', 1, /over 65536 bytes/],
      ['a body one byte over 64 KiB', 'over-cap', 1, /over 65536 bytes/],
    ];
    for (const [what, scenario, retryAfter, reason] of unavailable) {
      it(`refuses ${what} with ERR_AUTH_UNAVAILABLE`, async () => {
        const outcome = await proxyFor(scenario).ask(upgrade());
        expect(outcome).to.include({ ok: false, code: 'ERR_AUTH_UNAVAILABLE', retryAfter });
        expect(!outcome.ok && outcome.reason).to.match(reason);
      });
    }

    it('admits a body of exactly 64 KiB', async () => {
      expect(await proxyFor('at-cap').ask(upgrade())).to.deep.equal({ ok: true, identity: { source: 'proxy', userId: 1, contextId: 1 } });
    });

    it('stops reading a body past 64 KiB and hangs up, without waiting for its end', async () => {
      const outcome = await proxyFor('endless', { timeout: 5000 }).ask(upgrade());
      expect(outcome).to.include({ ok: false, code: 'ERR_AUTH_UNAVAILABLE', retryAfter: 1 });
      expect(!outcome.ok && outcome.reason).to.match(/over 65536 bytes/);
      await app.endlessAbandoned; // the app sees the connection closed (else this test times out)
    });

    for (const scenario of ['redirect', 'redirect-307']) {
      it(`does not follow a ${scenario === 'redirect' ? '302' : '307'} to a url that would admit`, async () => {
        const outcome = await proxyFor(scenario).ask(upgrade());
        expect(outcome).to.include({ ok: false, code: 'ERR_AUTH_UNAVAILABLE', retryAfter: 1 });
        expect(!outcome.ok && outcome.reason).to.match(/redirected \(not followed\)/);
        expect(app.calls.map((c) => c.url)).to.deep.equal([`/${scenario}`]);
      });
    }

    const badIds = ['zero', 'negative', 'string', 'numeric_string', 'fraction', 'two_pow_60', 'null', 'missing'];
    for (const name of badIds) {
      it(`refuses a userId that is ${name.replace(/_/g, ' ')}`, async () => {
        const outcome = await proxyFor(`bad-ids/${name}`).ask(upgrade());
        expect(outcome).to.include({ ok: false, code: 'ERR_AUTH_UNAVAILABLE', retryAfter: 1 });
        expect(!outcome.ok && outcome.reason).to.match(/userId/);
      });
      it(`refuses a contextId that is ${name.replace(/_/g, ' ')}`, async () => {
        const outcome = await proxyFor(`bad-ids/ctx-${name}`).ask(upgrade());
        expect(outcome).to.include({ ok: false, code: 'ERR_AUTH_UNAVAILABLE' });
        expect(!outcome.ok && outcome.reason).to.match(/contextId/);
      });
    }
  });

  describe('#ask when the application does not answer', () => {
    it('refuses with ERR_AUTH_UNAVAILABLE after the timeout when the app holds its response', async () => {
      const started = Date.now();
      const outcome = await proxyFor('slow', { timeout: 200 }).ask(upgrade());
      const elapsed = Date.now() - started;
      expect(outcome).to.deep.equal({ ok: false, code: 'ERR_AUTH_UNAVAILABLE', reason: 'the connect proxy did not answer within 200 ms', retryAfter: 1 });
      expect(elapsed).to.be.within(150, 2000);
    });

    it('refuses after the timeout when the body stalls after the headers', async () => {
      const outcome = await proxyFor('slow-body', { timeout: 200 }).ask(upgrade());
      expect(outcome).to.include({ ok: false, code: 'ERR_AUTH_UNAVAILABLE', reason: 'the connect proxy did not answer within 200 ms', retryAfter: 1 });
    });

    it('refuses with ERR_AUTH_UNAVAILABLE when the connection is refused', async () => {
      const port = await closedPort();
      const proxy = createConnectProxy(settings(`http://127.0.0.1:${port}/connect`));
      const outcome = await proxy!.ask(upgrade());
      expect(outcome).to.deep.equal({ ok: false, code: 'ERR_AUTH_UNAVAILABLE', reason: 'the connect proxy could not be reached (ECONNREFUSED)', retryAfter: 1 });
    });

    it('does not quote a url with credentials, which fetch refuses', async () => {
      const proxy = createConnectProxy(settings(`http://user:URL-SECRET@127.0.0.1:1/connect`));
      const outcome = await proxy!.ask(upgrade());
      expect(outcome).to.include({ ok: false, code: 'ERR_AUTH_UNAVAILABLE' });
      expect(!outcome.ok && outcome.reason).not.to.include('URL-SECRET');
    });
  });

  describe('#ask with auth.proxy.cacheTtl', () => {
    const ttl = 60_000;

    it('answers a second identical ask from the cache, without reaching the app', async () => {
      const proxy = proxyFor('good', { cacheTtl: ttl }, { now: fakeClock(GOOD_USER.expiresAt - 600_000).now });
      const first = await proxy.ask(upgrade());
      const second = await proxy.ask(upgrade());
      expect(app.calls).to.have.length(1);
      expect(first.cached).to.equal(undefined);
      expect(second).to.deep.equal({ ok: true, identity: { source: 'proxy', ...GOOD_USER }, cached: true });
    });

    it('asks again for different credentials, query, client address or origin', async () => {
      const proxy = proxyFor('good', { cacheTtl: ttl }, { now: fakeClock(GOOD_USER.expiresAt - 600_000).now });
      const base = upgrade();
      await proxy.ask(base);
      await proxy.ask(upgrade({ headers: { ...base.headers, cookie: 'JSESSIONID=other' } }));
      await proxy.ask(upgrade({ query: { session: 'other' } }));
      await proxy.ask(upgrade({ clientAddress: '198.51.100.1' }));
      await proxy.ask(upgrade({ origin: 'https://evil.example' }));
      expect(app.calls).to.have.length(5);
      await proxy.ask(base);
      expect(app.calls).to.have.length(5);
    });

    it('is not fooled by a header that is not passed on', async () => {
      const proxy = proxyFor('good', { cacheTtl: ttl }, { now: fakeClock(GOOD_USER.expiresAt - 600_000).now });
      await proxy.ask(upgrade());
      const second = await proxy.ask(upgrade({ headers: { ...upgrade().headers, 'sec-websocket-key': 'b3RoZXIgbm9uY2UgaGVyZQ==' } }));
      expect(second.cached).to.equal(true);
      expect(app.calls).to.have.length(1);
    });

    for (const [what, scenario] of [['401', 'unknown'], ['403', 'disabled'], ['500', 'server-error']]) {
      it(`does not cache a ${what}`, async () => {
        const proxy = proxyFor(scenario, { cacheTtl: ttl });
        await proxy.ask(upgrade());
        const second = await proxy.ask(upgrade());
        expect(second.cached).to.equal(undefined);
        expect(app.calls).to.have.length(2);
      });
    }

    it('asks again once the ttl has passed', async () => {
      const clock = fakeClock(GOOD_USER.expiresAt - 600_000);
      const proxy = proxyFor('good', { cacheTtl: ttl }, { now: clock.now });
      await proxy.ask(upgrade());
      clock.set(GOOD_USER.expiresAt - 600_000 + ttl - 1);
      expect((await proxy.ask(upgrade())).cached).to.equal(true);
      clock.set(GOOD_USER.expiresAt - 600_000 + ttl);
      expect((await proxy.ask(upgrade())).cached).to.equal(undefined);
      expect(app.calls).to.have.length(2);
    });

    it("does not serve an answer past the identity's expiresAt, even within the ttl", async () => {
      const clock = fakeClock(GOOD_USER.expiresAt - 1000);
      const proxy = proxyFor('good', { cacheTtl: ttl }, { now: clock.now });
      await proxy.ask(upgrade());
      clock.set(GOOD_USER.expiresAt - 1);
      expect((await proxy.ask(upgrade())).cached).to.equal(true);
      clock.set(GOOD_USER.expiresAt);
      // Asked again; the app still answers the same expiresAt, which is now past.
      expect(await proxy.ask(upgrade())).to.include({ ok: false, code: 'ERR_SESSION_UNKNOWN' });
      expect(app.calls).to.have.length(2);
    });

    it('hands each caller its own copy of a cached identity', async () => {
      const proxy = proxyFor('good', { cacheTtl: ttl }, { now: fakeClock(GOOD_USER.expiresAt - 600_000).now });
      const first = await proxy.ask(upgrade());
      if (first.ok) first.identity.config!['websockets.enabled'] = false;
      const second = await proxy.ask(upgrade());
      expect(second.ok && second.identity.config).to.deep.equal(GOOD_USER.config);
    });

    it('asks again after forgetSession of the cached sessionId (a logout)', async () => {
      const proxy = proxyFor('good', { cacheTtl: ttl }, { now: fakeClock(GOOD_USER.expiresAt - 600_000).now });
      await proxy.ask(upgrade());
      proxy.forgetSession('another-session');
      expect((await proxy.ask(upgrade())).cached).to.equal(true);
      proxy.forgetSession(GOOD_USER.sessionId);
      expect((await proxy.ask(upgrade())).cached).to.equal(undefined);
      expect(app.calls).to.have.length(2);
    });

    it('asks on every upgrade when cacheTtl is 0', async () => {
      const proxy = proxyFor('good', { cacheTtl: 0 });
      await proxy.ask(upgrade());
      await proxy.ask(upgrade());
      expect(app.calls).to.have.length(2);
    });
  });

  describe('#ask with reloaded settings', () => {
    it('reads the current settings on each ask, and does not serve the old url from the cache', async () => {
      let current = settings(`${app.base}/good`, { cacheTtl: 60_000 });
      const proxy = createConnectProxy(() => current, { now: fakeClock(GOOD_USER.expiresAt - 600_000).now })!;
      expect(await proxy.ask(upgrade())).to.include({ ok: true });
      current = { ...current, url: `${app.base}/disabled` };
      expect(await proxy.ask(upgrade())).to.include({ ok: false, code: 'ERR_DISABLED' });
      current = { ...current, url: '' };
      expect(await proxy.ask(upgrade())).to.include({ ok: false, code: 'ERR_AUTH_UNAVAILABLE' });
      expect(app.calls.map((c) => c.url)).to.deep.equal(['/good', '/disabled']);
    });
  });

  describe('deps.observe', () => {
    it('gets the latency in seconds and how each ask that reached for the app ended, not cache hits', async () => {
      const seen: Array<[number, ProxyAskResult]> = [];
      const observe = (seconds: number, outcome: ProxyAskResult) => seen.push([seconds, outcome]);
      const now = fakeClock(GOOD_USER.expiresAt - 600_000).now;
      const scenarios = ['good', 'good', 'unknown', 'disabled', 'slow', 'server-error', 'redirect', 'junk'];
      for (const scenario of scenarios) await proxyFor(scenario, { cacheTtl: 60_000, timeout: 200 }, { observe, now }).ask(upgrade());
      const port = await closedPort();
      await createConnectProxy(settings(`http://127.0.0.1:${port}/`), { observe })!.ask(upgrade());
      // Each proxyFor is a new proxy with its own cache, so both 'good' asks reach the app.
      expect(seen.map(([, outcome]) => outcome)).to.deep.equal(['ok', 'ok', 'unknown', 'disabled', 'timeout', 'bad_status', 'bad_status', 'bad_answer', 'unreachable']);
      for (const [seconds] of seen) expect(seconds).to.be.within(0, 5);
      expect(seen[4][0]).to.be.at.least(0.15); // the timeout's latency is the timeout

      seen.length = 0;
      const cached = proxyFor('good', { cacheTtl: 60_000 }, { observe, now });
      await cached.ask(upgrade());
      await cached.ask(upgrade());
      expect(seen).to.have.length(1);
    });
  });

  describe('deps.log', () => {
    it('never logs the answer body, cookies, tokens or the session id', async () => {
      const lines: string[] = [];
      const log = createLogger('debug', (line) => lines.push(line));
      for (const scenario of ['good', 'unknown', 'disabled', 'server-error', 'junk', 'slow']) await proxyFor(scenario, {}, { log }).ask(upgrade());
      expect(lines.length).to.be.at.least(6);
      const all = lines.join('\n');
      for (const secret of [BODY_SECRET, 'COOKIE-SECRET', 'TOKEN-SECRET', GOOD_USER.sessionId]) expect(all).not.to.include(secret);
      expect(lines.some((line) => JSON.parse(line).event === 'auth.proxy_unavailable')).to.equal(true);
    });
  });
});
