/**
 * Payloads of the cluster topics (pure). JSON, versioned (`v`), validated on the way
 * in: a malformed payload decodes to undefined (the caller counts and logs it), it
 * never throws into the broker client. Field names are short on the per-message
 * paths (inbox), readable on the rare ones (presence, sessions).
 */
import { randomBytes } from 'node:crypto';
import type { SessionRecord } from '../session/session.ts';

export interface PresencePayload {
  v: 1;
  node: string;
  epoch: string;
  route: string;
  state: 'online' | 'offline';
  since: number;
}

/** One socket in the registry: connection id, path, remote address, connected at. */
export interface RegistrySocket {
  c: string;
  p: string;
  a: string;
  t: number;
}

export interface RegistryPayload {
  v: 1;
  sockets: RegistrySocket[];
}

/** A message for one user's sockets: payloads in arrival order, each with its source token. */
export interface InboxItem {
  ctx: number;
  user: number;
  filter: string | null;
  payloads: Array<{ m: string; s?: string }>;
}

export interface InboxPayload {
  v: 1;
  /** Unique per publish: receivers drop redeliveries (QoS 1 is at-least-once). */
  id: string;
  from: string;
  /** The epoch of the receiving node it was meant for: a restarted node drops older mail. */
  to: string;
  items: InboxItem[];
}

export interface CloseCommand {
  v: 1;
  id: string;
  from: string;
  type: 'close';
  ctx: number;
  user: number;
  filter: string | null;
  code: number;
}

export type SessionPayload = SessionRecord & { v: 1 };

/** Unique per process start (random prefix) and per message (counter): no entropy spent per message. */
const ID_PREFIX = randomBytes(9).toString('base64url');
let idCounter = 0;

export function messageId(): string {
  return `${ID_PREFIX}${(++idCounter).toString(36)}`;
}

export function encode(payload: object): Buffer {
  return Buffer.from(JSON.stringify(payload));
}

function parse(buffer: Buffer): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(buffer.toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) && value.v === 1 ? value : undefined;
  } catch {
    return undefined;
  }
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;
const isTime = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isFilter = (v: unknown): v is string | null => v === null || typeof v === 'string';

export function decodePresence(buffer: Buffer): PresencePayload | undefined {
  const p = parse(buffer);
  if (!p || !isString(p.node) || !isString(p.epoch) || !isString(p.route) || !isTime(p.since)) return undefined;
  return p.state === 'online' || p.state === 'offline' ? (p as unknown as PresencePayload) : undefined;
}

export function decodeRegistry(buffer: Buffer): RegistryPayload | undefined {
  const p = parse(buffer);
  if (!p || !Array.isArray(p.sockets)) return undefined;
  const valid = p.sockets.every((s) => s && isString(s.c) && isString(s.p) && isString(s.a) && isTime(s.t));
  return valid ? (p as unknown as RegistryPayload) : undefined;
}

export function decodeInbox(buffer: Buffer): InboxPayload | undefined {
  const p = parse(buffer);
  if (!p || !isString(p.id) || !isString(p.from) || !isString(p.to) || !Array.isArray(p.items)) return undefined;
  const valid = p.items.every(
    (i) =>
      i &&
      isId(i.ctx) &&
      isId(i.user) &&
      isFilter(i.filter) &&
      Array.isArray(i.payloads) &&
      i.payloads.every((x: { m?: unknown; s?: unknown }) => x && isString(x.m) && (x.s === undefined || isString(x.s))),
  );
  return valid ? (p as unknown as InboxPayload) : undefined;
}

export function decodeCommand(buffer: Buffer): CloseCommand | undefined {
  const p = parse(buffer);
  if (!p || p.type !== 'close' || !isString(p.id) || !isString(p.from) || !isId(p.ctx) || !isId(p.user)) return undefined;
  return isFilter(p.filter) && Number.isInteger(p.code) ? (p as unknown as CloseCommand) : undefined;
}

export function decodeSession(buffer: Buffer): SessionPayload | undefined {
  const p = parse(buffer);
  if (!p || !isString(p.id) || !isString(p.secretHash) || !/^[0-9a-f]{64}$/.test(p.secretHash)) return undefined;
  if (!isId(p.contextId) || !isId(p.userId) || !isString(p.ip) || !isString(p.route) || !isString(p.node)) return undefined;
  if (!isTime(p.createdAt) || !isTime(p.expiresAt)) return undefined;
  return p as unknown as SessionPayload;
}
