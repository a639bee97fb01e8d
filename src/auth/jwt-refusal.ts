/**
 * Why jose refused a token, as an AuthRefusal. Reasons are written here from jose's
 * stable error codes, never copied from its messages or the token, so no part of a
 * token (a credential) can reach a log line or a client through a reason.
 */
import type { AuthRefusal } from './identity.ts';
import { JwksUnavailableError } from './jwks.ts';

/** By jose's `error.code` (stable across versions), not `instanceof`: a second copy of jose in node_modules would break the latter. */
const INVALID = new Map<string, string>([
  ['ERR_JWS_INVALID', 'malformed: not a compact JWS of three base64url parts with a JSON header'],
  ['ERR_JWT_INVALID', 'malformed: the payload is not a JSON claims set'],
  ['ERR_JOSE_ALG_NOT_ALLOWED', 'its "alg" is not one the configured key may verify (an unsigned or algorithm-swapped token)'],
  ['ERR_JOSE_NOT_SUPPORTED', 'its "alg" or a critical header parameter is not supported'],
  ['ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'the signature does not match the header and payload'],
  ['ERR_JWKS_NO_MATCHING_KEY', 'no key of the JWKS matches its "kid" and "alg"'],
  ['ERR_JWKS_MULTIPLE_MATCHING_KEYS', 'several keys of the JWKS match it; the token needs a "kid"'],
]);

const UNAVAILABLE = new Map<string, string>([
  ['ERR_JWKS_TIMEOUT', 'the JWKS endpoint did not answer in time'],
  ['ERR_JWKS_INVALID', 'the JWKS endpoint answered an unusable key set'],
  ['ERR_JWK_INVALID', 'a key of the JWKS cannot be used'],
]);

/** What a failed value check of jose's means, by claim. */
const CHECK_FAILED = new Map<string, string>([
  ['nbf', 'is in the future, beyond the clock tolerance'],
  ['iss', 'is not the configured issuer'],
  ['aud', 'is not the configured audience'],
]);

/** The claims jose checks; a claim name is put in a reason only when it is one of these. */
const CLAIMS = new Set(['exp', 'nbf', 'iat', 'iss', 'aud', 'sub', 'typ']);

/**
 * The refusal for an error jose threw while verifying, or undefined for an error it
 * does not know: a fault of the configuration or of wsmesh, for the caller to log.
 */
export function refusalOf(error: unknown): AuthRefusal | undefined {
  if (error instanceof JwksUnavailableError) return { code: 'ERR_AUTH_UNAVAILABLE', reason: error.message };
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (code === 'ERR_JWT_EXPIRED') return { code: 'ERR_TOKEN_EXPIRED', reason: '"exp" is past, beyond the clock tolerance' };
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') return { code: 'ERR_TOKEN_INVALID', reason: claimReason(error as { claim?: unknown; reason?: unknown }) };
  const invalid = INVALID.get(code);
  if (invalid) return { code: 'ERR_TOKEN_INVALID', reason: invalid };
  const unavailable = UNAVAILABLE.get(code);
  if (unavailable) return { code: 'ERR_AUTH_UNAVAILABLE', reason: unavailable };
  return undefined;
}

/** jose's JWTClaimValidationFailed names the claim and says `missing`, `invalid` (not a number) or `check_failed`. */
function claimReason({ claim, reason }: { claim?: unknown; reason?: unknown }): string {
  if (typeof claim !== 'string' || !CLAIMS.has(claim)) return 'a claim check failed';
  if (reason === 'missing') return `"${claim}" is missing`;
  if (reason === 'invalid') return `"${claim}" is not a number`;
  return `"${claim}" ${CHECK_FAILED.get(claim) ?? 'check failed'}`;
}
