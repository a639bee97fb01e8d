/**
 * Upgrades authenticated by a JWT the application issued (`auth.jwt.*`, docs/auth.md).
 * jose does the cryptography and the standard claim checks; this module picks the one
 * configured key, pins the algorithms to it, and turns jose's verdict into an
 * AuthOutcome: ERR_TOKEN_INVALID / ERR_TOKEN_EXPIRED for the token's faults (403),
 * ERR_AUTH_UNAVAILABLE when the keys could not be had (503: retry, the token may be fine).
 */
import { jwtVerify, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import type { KeyObject } from 'node:crypto';
import type { AuthConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import type { AuthOutcome } from './identity.ts';
import { createJwks, type JwksOptions, type JwksStats } from './jwks.ts';
import { identityOf } from './jwt-claims.ts';
import { ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS, publicKeyFromFile, secretKey } from './jwt-keys.ts';
import { refusalOf } from './jwt-refusal.ts';

export type JwtSettings = AuthConfig['jwt'];

export interface JwtVerifier {
  /** Never rejects: every failure is an outcome with a code and a reason that quotes no part of the token. */
  verify(token: string): Promise<AuthOutcome>;
  /** Requests made to `jwksUrl` (both zero with a secret or a key file). */
  readonly stats: JwksStats;
}

export interface JwtDeps {
  /** Epoch ms; what exp and nbf are checked against. */
  now?: () => number;
  log?: Logger;
  /** The JWKS client's timings and HTTP client (JWKS_DEFAULTS); tests shorten the cooldown. */
  jwks?: Partial<Omit<JwksOptions, 'log'>>;
}

/** RFC 7518 section 3.2: an HMAC key shorter than the hash output must not be used. */
const MIN_SECRET_BYTES = 32;

interface Keying {
  key: Uint8Array | KeyObject | JWTVerifyGetKey;
  algorithms: string[];
  stats: JwksStats;
}

/**
 * The verifier of `auth.jwt`, or undefined when no key is configured (JWTs are not a
 * way in). Throws, naming the setting and the fix, when more than one key source is
 * set or the key file is unusable: a node must not start half-configured.
 */
export function createJwtVerifier(settings: JwtSettings, deps: JwtDeps = {}): JwtVerifier | undefined {
  const keying = keyingOf(settings, deps);
  if (!keying) return undefined;
  const { now = Date.now, log } = deps;
  const { key, algorithms, stats } = keying;
  const base: JWTVerifyOptions = {
    algorithms,
    clockTolerance: settings.clockTolerance,
    // Without exp a token would be valid forever, and the socket would have no end.
    requiredClaims: ['exp'],
    ...(settings.issuer ? { issuer: settings.issuer } : {}),
    ...(settings.audience ? { audience: settings.audience } : {}),
  };
  const claimOptions = { contextClaim: settings.contextClaim, clockTolerance: settings.clockTolerance };

  async function verify(token: string): Promise<AuthOutcome> {
    try {
      const options = { ...base, currentDate: new Date(now()) };
      // Two overloads (static key, key resolver); the union needs a branch to pick one.
      const { payload } = typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options);
      return identityOf(payload, claimOptions);
    } catch (error) {
      const refusal = refusalOf(error);
      if (refusal) return { ok: false, ...refusal };
      // Not a verdict on the token: a key jose cannot use, or a bug. 503, and said loudly.
      log?.error('auth.jwt_error', { error });
      return { ok: false, code: 'ERR_AUTH_UNAVAILABLE', reason: 'the token could not be checked; the log says why' };
    }
  }

  return { verify, stats };
}

function keyingOf(settings: JwtSettings, deps: JwtDeps): Keying | undefined {
  const set = (['secret', 'publicKeyFile', 'jwksUrl'] as const).filter((name) => settings[name] !== '');
  if (set.length === 0) return undefined;
  if (set.length > 1) {
    throw new Error(`auth.jwt: ${set.map((name) => `auth.jwt.${name}`).join(' and ')} are set together; set exactly one of auth.jwt.secret, auth.jwt.publicKeyFile, auth.jwt.jwksUrl`);
  }
  const noFetches: JwksStats = { jwksFetches: 0, jwksFailures: 0 };
  if (settings.secret) {
    const key = secretKey(settings.secret);
    if (key.length < MIN_SECRET_BYTES) deps.log?.warn('auth.jwt_secret_short', { bytes: key.length, advised: MIN_SECRET_BYTES });
    return { key, algorithms: [...HMAC_ALGORITHMS], stats: noFetches };
  }
  if (settings.publicKeyFile) {
    const { key, algorithms } = publicKeyFromFile(settings.publicKeyFile);
    return { key, algorithms, stats: noFetches };
  }
  let url: URL;
  try {
    url = new URL(settings.jwksUrl);
  } catch {
    throw new Error(`auth.jwt.jwksUrl: "${settings.jwksUrl}" is not a URL; give the http:// or https:// address of the issuer's JWKS`);
  }
  const jwks = createJwks(url, { ...deps.jwks, log: deps.log });
  return { key: jwks.getKey, algorithms: [...ASYMMETRIC_ALGORITHMS], stats: jwks.stats };
}
