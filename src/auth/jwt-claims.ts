/**
 * From the claims of a verified JWT to the identity an upgrade is for. Pure: jose has
 * already checked the signature, exp, nbf, iss and aud; this reads what wsmesh needs
 * and refuses a token whose ids it could not address a socket by.
 */
import type { JWTPayload } from 'jose';
import type { AuthOutcome } from './identity.ts';

export interface ClaimOptions {
  /** The claim holding the context id (`auth.jwt.contextClaim`). */
  contextClaim: string;
  /** Seconds (`auth.jwt.clockTolerance`): a socket stays open this long past exp, as the token was accepted this long past it. */
  clockTolerance: number;
}

/** The identity of a verified token's claims, or ERR_TOKEN_INVALID naming the claim at fault. */
export function identityOf(claims: JWTPayload, options: ClaimOptions): AuthOutcome {
  const userId = positiveInteger(claims.sub);
  if (userId === undefined) return invalid('"sub" is not a positive integer');
  const contextId = positiveInteger(claims[options.contextClaim]);
  if (contextId === undefined) return invalid(`"${options.contextClaim}" is not a positive integer`);
  // jose was told exp is required; checked again so the arithmetic below cannot give NaN.
  if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) return invalid('"exp" is missing');
  // A sid that is there but unusable is refused rather than dropped: dropped, the
  // application's logout could not close this socket.
  const sid = claims.sid;
  if (sid !== undefined && (typeof sid !== 'string' || sid === '')) return invalid('"sid" is not a non-empty string');
  return {
    ok: true,
    identity: {
      source: 'token',
      contextId,
      userId,
      ...(sid === undefined ? {} : { sessionId: sid }),
      expiresAt: (claims.exp + options.clockTolerance) * 1000,
    },
  };
}

/**
 * A positive safe integer given as a JSON number or as its decimal string (JWT `sub` is
 * a string by RFC 7519 section 4.1.2, yet many issuers put a number there). No sign,
 * no leading zeros, no exponent, no whitespace: one id has one spelling.
 */
export function positiveInteger(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  if (typeof value !== 'string' || !/^[1-9][0-9]{0,15}$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

function invalid(reason: string): AuthOutcome {
  return { ok: false, code: 'ERR_TOKEN_INVALID', reason };
}
