/**
 * A login session. Two halves, as in the reference: the public id travels in URLs
 * (`?session=`), the secret only in an HttpOnly cookie. The record keeps a hash of
 * the secret, never the secret itself, so records can be replicated (issue 3: over
 * the broker) without exposing anything that authenticates.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface SessionRecord {
  /** Public session id (32 hex chars). */
  id: string;
  /** SHA-256 of the secret cookie's value, hex. */
  secretHash: string;
  contextId: number;
  userId: number;
  /** Client address at login; checked on every request when `session.ipCheck` is on. */
  ip: string;
  /** The route of the node that issued it (the JSESSIONID suffix). */
  route: string;
  /** The id of the node that issued it: it announces the expiry to the cluster. */
  node: string;
  createdAt: number;
  expiresAt: number;
}

export type SessionEndReason = 'logout' | 'expired';

export function newSessionId(): string {
  return randomBytes(16).toString('hex');
}

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Constant-time comparison of a presented secret with a record's hash. */
export function secretMatches(record: SessionRecord, secret: string | undefined): boolean {
  if (!secret) return false;
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(record.secretHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/** What a client may see of a session: no secret, no hash. */
export function publicView(record: SessionRecord): { userId: number; contextId: number; route: string; expiresAt: number } {
  return { userId: record.userId, contextId: record.contextId, route: record.route, expiresAt: record.expiresAt };
}
