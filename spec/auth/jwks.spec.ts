/**
 * The JWT verifier with `auth.jwt.jwksUrl`, against a real JWKS server on loopback:
 * caching, key rotation, the refetch limit, and an endpoint that fails.
 *
 * jose times its cooldown and cache age with Date.now() and takes no clock for them,
 * so the tests that need 30 s or 10 min to pass move Date.now() forward (see
 * `later`) instead of waiting; claims are checked against the injected `now`.
 */
import { expect } from 'chai';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { exportJWK, type JWK } from 'jose';
import { createJwtVerifier, type JwtDeps, type JwtVerifier } from '../../src/auth/jwt.ts';
import { createLogger } from '../../src/log/logger.ts';
import { startJwksServer, type JwksServer } from '../support/jwks-server.ts';
import { b64url, claims, expectAccepted, expectNoEcho, expectRefused, handMade, jwtSettings, now, sign } from '../support/jwt-tokens.ts';

interface SigningKey {
  kid: string;
  alg: string;
  privateKey: KeyObject;
  jwk: JWK;
}

async function signingKey(kid: string, alg: 'RS256' | 'ES256' | 'EdDSA'): Promise<SigningKey> {
  const { privateKey, publicKey } =
    alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

const tokenOf = (key: SigningKey, kid = key.kid): Promise<string> => sign(key.privateKey, { alg: key.alg, kid });

const NO_KEY = /^no key of the JWKS matches/;
const COOLDOWN_MS = 30_000;

describe('auth/jwks (the JWT verifier with a JWKS)', () => {
  let server: JwksServer;
  let a: SigningKey;
  let b: SigningKey;
  let c: SigningKey;
  let logs: string[];
  let offset: number;
  const realDateNow = Date.now;

  /** Moves jose's clock `ms` forward; `restoreClock` (run before each test ends) puts it back. */
  function later(ms: number): void {
    offset += ms;
    Date.now = () => realDateNow() + offset;
  }
  function restoreClock(): void {
    Date.now = realDateNow;
  }

  function verifier(deps: JwtDeps = {}): JwtVerifier {
    return createJwtVerifier(jwtSettings({ jwksUrl: server.url }), { now, log: createLogger('debug', (line) => logs.push(line)), ...deps })!;
  }

  before(async () => {
    [a, b, c] = await Promise.all([signingKey('key-a', 'RS256'), signingKey('key-b', 'ES256'), signingKey('key-c', 'EdDSA')]);
  });

  beforeEach(async () => {
    server = await startJwksServer([a.jwk]);
    logs = [];
    offset = 0;
  });

  afterEach(async () => {
    restoreClock();
    await server.close();
  });

  it('accepts a token signed by a listed key, fetching the set once for many tokens', async () => {
    const jwt = verifier();
    for (let i = 0; i < 5; i++) await expectAccepted(jwt, await tokenOf(a));
    expect(jwt.stats).to.deep.equal({ jwksFetches: 1, jwksFailures: 0 });
    expect(server.requests).to.equal(1);
  });

  it('accepts RS256, ES256 and EdDSA keys from the set, and PS256 with an RSA key listed without alg', async () => {
    const { alg: _alg, ...anyRsaAlg } = a.jwk;
    server.keys = [anyRsaAlg, b.jwk, c.jwk];
    const jwt = verifier();
    await expectAccepted(jwt, await tokenOf(b));
    await expectAccepted(jwt, await tokenOf(c));
    await expectAccepted(jwt, await sign(a.privateKey, { alg: 'PS256', kid: a.kid }));
    await expectAccepted(jwt, await tokenOf(a));
    expect(jwt.stats.jwksFetches).to.equal(1);
  });

  it('shares one fetch between verifications that start together', async () => {
    const jwt = verifier();
    const token = await tokenOf(a);
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => jwt.verify(token)));
    expect(outcomes.every((outcome) => outcome.ok)).to.equal(true);
    expect(server.requests).to.equal(1);
  });

  describe('key rotation', () => {
    it('fetches again for a token with a new kid and accepts it, once the 30 s cooldown is over', async () => {
      try {
        const jwt = verifier();
        await expectAccepted(jwt, await tokenOf(a));
        server.keys = [a.jwk, b.jwk];
        later(COOLDOWN_MS - 1_000);
        await expectRefused(jwt, await tokenOf(b), 'ERR_TOKEN_INVALID', NO_KEY);
        expect(server.requests, 'within the cooldown').to.equal(1);
        later(2_000);
        await expectAccepted(jwt, await tokenOf(b));
        expect(jwt.stats).to.deep.equal({ jwksFetches: 2, jwksFailures: 0 });
      } finally {
        restoreClock();
      }
    });

    it('keeps accepting an old kid while it is still listed', async () => {
      try {
        const jwt = verifier();
        await expectAccepted(jwt, await tokenOf(a));
        server.keys = [a.jwk, b.jwk];
        later(COOLDOWN_MS + 1);
        await expectAccepted(jwt, await tokenOf(b));
        await expectAccepted(jwt, await tokenOf(a));
        expect(server.requests).to.equal(2);
      } finally {
        restoreClock();
      }
    });

    it('refuses a removed kid once the set was fetched again for an unknown kid', async () => {
      try {
        const jwt = verifier();
        await expectAccepted(jwt, await tokenOf(a));
        server.keys = [b.jwk];
        // Until the set is fetched again, the cached copy still trusts key-a.
        await expectAccepted(jwt, await tokenOf(a));
        later(COOLDOWN_MS + 1);
        await expectAccepted(jwt, await tokenOf(b));
        await expectRefused(jwt, await tokenOf(a), 'ERR_TOKEN_INVALID', NO_KEY);
        expect(server.requests).to.equal(2);
      } finally {
        restoreClock();
      }
    });

    it('refuses a removed kid once the cached set is older than 10 minutes, with no unknown kid seen', async () => {
      try {
        const jwt = verifier();
        await expectAccepted(jwt, await tokenOf(a));
        server.keys = [b.jwk];
        later(600_000 + 1);
        await expectRefused(jwt, await tokenOf(a), 'ERR_TOKEN_INVALID', NO_KEY);
        expect(server.requests).to.equal(2);
      } finally {
        restoreClock();
      }
    });

    it('fetches at most once per 30 s for a burst of unknown kids', async () => {
      try {
        const jwt = verifier();
        await expectAccepted(jwt, await tokenOf(a));
        const unknown = await Promise.all(Array.from({ length: 20 }, (_, i) => tokenOf(c, `made-up-${i}`)));

        await Promise.all(unknown.map((token) => expectRefused(jwt, token, 'ERR_TOKEN_INVALID', NO_KEY)));
        expect(server.requests, 'burst within the cooldown of the first fetch').to.equal(1);

        later(COOLDOWN_MS + 1);
        await Promise.all(unknown.map((token) => expectRefused(jwt, token, 'ERR_TOKEN_INVALID', NO_KEY)));
        for (const token of unknown) await expectRefused(jwt, token, 'ERR_TOKEN_INVALID', NO_KEY);
        expect(server.requests, 'concurrent and sequential burst after the cooldown').to.equal(2);

        later(COOLDOWN_MS - 1_000);
        await expectRefused(jwt, unknown[0]!, 'ERR_TOKEN_INVALID', NO_KEY);
        expect(server.requests, '29 s after the refetch').to.equal(2);
        later(1_001);
        await expectRefused(jwt, unknown[0]!, 'ERR_TOKEN_INVALID', NO_KEY);
        expect(jwt.stats).to.deep.equal({ jwksFetches: 3, jwksFailures: 0 });
      } finally {
        restoreClock();
      }
    });
  });

  describe('an endpoint that fails', () => {
    it('answers ERR_AUTH_UNAVAILABLE when the JWKS server is down', async () => {
      await server.close();
      const jwt = verifier();
      const token = await tokenOf(a);
      const reason = await expectRefused(jwt, token, 'ERR_AUTH_UNAVAILABLE', /^the JWKS endpoint could not be fetched \(ECONNREFUSED\)$/);
      expect(reason).not.to.include(server.url);
      expect(jwt.stats).to.deep.equal({ jwksFetches: 1, jwksFailures: 1 });
      const warning = logs.map((line) => JSON.parse(line)).find((line) => line.event === 'auth.jwks_failed');
      expect(warning).to.include({ level: 'warn' });
      for (const line of logs) expectNoEcho(line, token);
    });

    it('answers ERR_AUTH_UNAVAILABLE when the endpoint answers HTTP 500', async () => {
      server.mode = 'http-500';
      const jwt = verifier();
      await expectRefused(jwt, await tokenOf(a), 'ERR_AUTH_UNAVAILABLE', /HTTP 500/);
      expect(jwt.stats).to.deep.equal({ jwksFetches: 1, jwksFailures: 1 });
    });

    it('answers ERR_AUTH_UNAVAILABLE when the endpoint answers something other than JSON', async () => {
      server.mode = 'not-json';
      const jwt = verifier();
      await expectRefused(jwt, await tokenOf(a), 'ERR_AUTH_UNAVAILABLE', /other than JSON/);
      expect(jwt.stats.jwksFailures).to.equal(1);
    });

    it('answers ERR_AUTH_UNAVAILABLE when the JSON has no "keys" array', async () => {
      server.mode = 'no-keys';
      const jwt = verifier();
      await expectRefused(jwt, await tokenOf(a), 'ERR_AUTH_UNAVAILABLE', /without a "keys" array/);
      expect(jwt.stats.jwksFailures).to.equal(1);
    });

    it('answers ERR_AUTH_UNAVAILABLE when the endpoint does not answer in time', async () => {
      server.mode = 'hang';
      const jwt = verifier({ jwks: { timeout: 200 } });
      const started = realDateNow();
      await expectRefused(jwt, await tokenOf(a), 'ERR_AUTH_UNAVAILABLE', /did not answer within 200 ms/);
      expect(realDateNow() - started).to.be.below(2_000);
      expect(jwt.stats).to.deep.equal({ jwksFetches: 1, jwksFailures: 1 });
    });

    it('fetches again on the next token once the endpoint is back (a failure starts no cooldown)', async () => {
      server.mode = 'http-500';
      const jwt = verifier();
      await expectRefused(jwt, await tokenOf(a), 'ERR_AUTH_UNAVAILABLE');
      server.mode = 'ok';
      await expectAccepted(jwt, await tokenOf(a));
      expect(jwt.stats).to.deep.equal({ jwksFetches: 2, jwksFailures: 1 });
    });

    it('answers ERR_AUTH_UNAVAILABLE when the cached set is stale and the endpoint is down', async () => {
      try {
        const jwt = verifier();
        await expectAccepted(jwt, await tokenOf(a));
        server.mode = 'http-500';
        later(600_000 + 1);
        // jose drops a cache older than cacheMaxAge before fetching, so it does not serve a stale key.
        await expectRefused(jwt, await tokenOf(a), 'ERR_AUTH_UNAVAILABLE');
      } finally {
        restoreClock();
      }
    });

    it('answers ERR_AUTH_UNAVAILABLE, and logs an error, for a listed key jose refuses to use (RSA under 2048 bits)', async () => {
      const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
      server.keys = [{ ...(await exportJWK(weak.publicKey)), kid: 'weak', alg: 'RS256' }];
      const jwt = verifier();
      // The check happens before the signature is looked at, so any signature will do.
      await expectRefused(jwt, handMade({ alg: 'RS256', kid: 'weak' }, claims(), b64url('sig')), 'ERR_AUTH_UNAVAILABLE', /the log says why/);
      const error = logs.map((line) => JSON.parse(line)).find((line) => line.event === 'auth.jwt_error');
      expect(error?.error?.message).to.match(/2048 bits/);
    });
  });

  describe('attacks', () => {
    it('refuses alg "none" without fetching the set', async () => {
      const jwt = verifier();
      await expectRefused(jwt, handMade({ alg: 'none', kid: a.kid }, claims()), 'ERR_TOKEN_INVALID', /"alg" is not one/);
      expect(server.requests).to.equal(0);
    });

    it('refuses an HS256 token signed with a listed public key as secret, without fetching the set', async () => {
      const jwt = verifier();
      const forged = await sign(new TextEncoder().encode(JSON.stringify(a.jwk)), { alg: 'HS256', kid: a.kid });
      await expectRefused(jwt, forged, 'ERR_TOKEN_INVALID', /"alg" is not one/);
      expect(server.requests).to.equal(0);
    });

    it('refuses a token naming a listed kid but signed by another key', async () => {
      const impostor = await signingKey(a.kid, 'RS256');
      await expectRefused(verifier(), await tokenOf(impostor), 'ERR_TOKEN_INVALID', /signature does not match/);
    });

    it('refuses a token whose alg does not fit the listed key of its kid', async () => {
      await expectRefused(verifier(), await sign(b.privateKey, { alg: 'ES256', kid: a.kid }), 'ERR_TOKEN_INVALID', NO_KEY);
    });
  });
});
