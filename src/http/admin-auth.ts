/** Bearer-token checks for the push, admin and metrics routes (constant-time comparison). */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { WsmeshError } from '../errors.ts';

/** The configured tokens' digests, computed once per token (they change only on reload). */
const digests = new Map<string, Buffer>();

function digestOf(token: string): Buffer {
  let digest = digests.get(token);
  if (!digest) {
    if (digests.size > 16) digests.clear(); // reloads replace tokens: keep the map small
    digests.set(token, (digest = createHash('sha256').update(token).digest()));
  }
  return digest;
}

export function requireBearer(ctx: Context, token: string, realm: string, message?: string): void {
  // RFC 7235 section 2.1: the scheme name is case-insensitive.
  const match = /^bearer +(\S+)$/i.exec(ctx.get('Authorization'));
  // Hash both sides: timingSafeEqual needs equal lengths, and lengths must not leak either.
  const presented = createHash('sha256').update(match?.[1] ?? '').digest();
  if (!match || !timingSafeEqual(presented, digestOf(token))) {
    ctx.set('WWW-Authenticate', `Bearer realm="${realm}"`);
    throw new WsmeshError('ERR_ADMIN_AUTH', message);
  }
}

export function requireAdmin(ctx: Context, token: string): void {
  requireBearer(ctx, token, 'wsmesh');
}
