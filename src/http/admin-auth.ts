/** Bearer-token check for the push and admin routes (constant-time comparison). */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { WsmeshError } from '../errors.ts';

/** The configured token's digest, computed once per token (it changes only on reload). */
let cached: { token: string; digest: Buffer } | undefined;

function digestOf(token: string): Buffer {
  if (cached?.token !== token) cached = { token, digest: createHash('sha256').update(token).digest() };
  return cached.digest;
}

export function requireAdmin(ctx: Context, token: string): void {
  // RFC 7235 section 2.1: the scheme name is case-insensitive.
  const match = /^bearer +(\S+)$/i.exec(ctx.get('Authorization'));
  const presented = match ? match[1] : '';
  // Hash both sides: timingSafeEqual needs equal lengths, and lengths must not leak either.
  const a = createHash('sha256').update(presented).digest();
  const b = digestOf(token);
  if (!presented || !timingSafeEqual(a, b)) {
    ctx.set('WWW-Authenticate', 'Bearer realm="wsmesh"');
    throw new WsmeshError('ERR_ADMIN_AUTH');
  }
}
