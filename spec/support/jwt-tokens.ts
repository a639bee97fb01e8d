/**
 * Tokens for the JWT verifier's tests: settings with defaults, claims at a fixed clock,
 * signing with real keys, hand-made tokens for attacks, and an assertion on refusals
 * that also checks the reason quotes no part of the token.
 */
import { expect } from 'chai';
import { SignJWT, type JWTHeaderParameters, type KeyInput } from 'jose';
import type { AuthOutcome } from '../../src/auth/identity.ts';
import type { JwtSettings, JwtVerifier } from '../../src/auth/jwt.ts';

/** The tests' clock, in seconds (2030-03-17): far from the real one, so nothing passes by accident of the real time. */
export const NOW_S = 1_900_000_000;
export const now = (): number => NOW_S * 1000;

export function jwtSettings(over: Partial<JwtSettings> = {}): JwtSettings {
  return { secret: '', publicKeyFile: '', jwksUrl: '', issuer: '', audience: '', clockTolerance: 30, contextClaim: 'ctx', cookie: '', ...over };
}

export function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub: '42', ctx: 7, sid: 'app-session-1', iat: NOW_S, exp: NOW_S + 600, ...over };
}

/** A token signed for real; a claim set to undefined in `over` is left out. */
export function sign(key: KeyInput, header: JWTHeaderParameters, over: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims(over)).setProtectedHeader(header).sign(key);
}

export function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** Three parts written by hand, for what no signing library would make. */
export function handMade(header: unknown, payload: unknown, signature = ''): string {
  return `${b64url(header)}.${b64url(payload)}.${signature}`;
}

/** Asserts a refusal with `code` (and a reason matching `reason`), and that the reason does not quote the token. */
export async function expectRefused(verifier: JwtVerifier, token: string, code: string, reason?: RegExp): Promise<string> {
  const outcome: AuthOutcome = await verifier.verify(token);
  if (outcome.ok) expect.fail(`accepted: ${JSON.stringify(outcome.identity)}`);
  expect(outcome.code).to.equal(code);
  if (reason) expect(outcome.reason).to.match(reason);
  expectNoEcho(outcome.reason, token);
  return outcome.reason;
}

/** Neither the token nor any of its parts long enough to mean something appear in `text`. */
export function expectNoEcho(text: string, token: string): void {
  for (const piece of [token, ...token.split('.')]) {
    if (piece.length >= 8) expect(text, 'quotes the token').not.to.include(piece);
  }
}

export async function expectAccepted(verifier: JwtVerifier, token: string): Promise<Extract<AuthOutcome, { ok: true }>['identity']> {
  const outcome = await verifier.verify(token);
  if (!outcome.ok) expect.fail(`refused: ${outcome.code} ${outcome.reason}`);
  return outcome.identity;
}
