/**
 * Bodies of the cluster topics (pure). JSON, versioned (`v`), validated on the way
 * in: a malformed body decodes to undefined (the caller counts and logs it), it
 * never throws into the broker client. Bodies travel sealed (envelope.ts); these
 * functions see them after the seal was checked. Field names are short on the
 * per-message paths (deliver), readable on the rare ones (presence, sessions).
 */
import { isOrigin } from '../history/position.ts';
import type { Payload } from './coalesce.ts';
import { randomBytes } from 'node:crypto';
import type { SessionRecord } from '../session/session.ts';
import { REMOTE_CLOSE_CODES } from '../errors.ts';

export interface PresencePayload {
  v: 1;
  node: string;
  epoch: string;
  route: string;
  state: 'online' | 'offline';
  /** When the process started: orders the presences of different processes (epochs). */
  since: number;
  /**
   * The connection of this process it speaks for (1, 2, ...): orders the presences of
   * one process. A Will of connection n outranks its online (the connection died);
   * the online of connection n+1 outranks both. Absent (older nodes) = 0.
   */
  n: number;
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

/**
 * One message in a delivery: exactly what the coalescing buffer queued (coalesce.ts
 * `Payload`: id, text, source token, stream position, trace flag), one definition.
 */
export type DeliveryItem = Payload;

/** Messages for one user's sockets (the topic names the user), in arrival order. */
export interface DeliveryPayload {
  v: 1;
  /** The node that accepted them: it delivered to its own sockets already. */
  from: string;
  /** When it was published (sender's clock, ms): a replay older than the dedup window is dropped. */
  at: number;
  filter: string | null;
  p: DeliveryItem[];
  /** The sender's number for this publish (its n-th delivery publish): names the publish in delivery traces and receipts. */
  f?: number;
  /** The sender's process (its epoch): with `f`, what the receivers confirm (receipts.ts). */
  e?: string;
}

/** `from` got delivery publishes `f` of the receiving node's process `e` (awaiting-receipts.ts). */
export interface ReceiptPayload {
  v: 1;
  from: string;
  e: string;
  f: number[];
}

/** Ids of pushes accepted with a client-given id, for the cluster-wide duplicate check. */
export interface PushIdsPayload {
  v: 1;
  from: string;
  at: number;
  ids: string[];
}

/** A barrier's marker (barrier.ts): the node that sent it and its sequence number. */
export interface SyncMarker {
  v: 1;
  sync: string;
  n: number;
}

export interface CloseCommand {
  v: 1;
  id: string;
  from: string;
  at: number;
  type: 'close';
  ctx: number;
  user: number;
  filter: string | null;
  code: number;
}

/** The application's logout hook: every node closes the sockets of that session (indexed under `sessionKey`). */
export interface EndSessionCommand {
  v: 1;
  id: string;
  from: string;
  at: number;
  type: 'end-session';
  session: string;
}

export type Command = CloseCommand | EndSessionCommand;

export type SessionPayload = SessionRecord & { v: 1 };

/** A logout, kept retained in place of the record until the session would have expired. */
export interface SessionEndPayload {
  v: 1;
  id: string;
  ended: number;
  expiresAt: number;
}

/** A node applied the logout of session `confirms` (end-confirmations.ts). */
export interface EndConfirmation {
  v: 1;
  confirms: string;
  by: string;
}

/** A question to every live node (queries.ts): `kind` picks the responder, `body` is its JSON input. */
export interface QuestionPayload {
  v: 1;
  id: string;
  from: string;
  at: number;
  /** How long the asker waits (ms): a question older than this is not answered (nobody listens). */
  ttl: number;
  kind: string;
  body: unknown;
  /** Only these nodes answer; absent: every node that gets it. */
  to?: string[];
}

/** One node's answer to a question: the responder's JSON output, or why there is none. */
export interface AnswerPayload {
  v: 1;
  id: string;
  from: string;
  body?: unknown;
  /** `unknown-kind` (no responder for it on that node) or `failed` (the responder threw). */
  error?: string;
}

/** Unique per process start (random prefix) and per message (counter): no entropy spent per message. */
const ID_PREFIX = randomBytes(9).toString('base64url');
let idCounter = 0;

export function messageId(): string {
  return `${ID_PREFIX}${(++idCounter).toString(36)}`;
}

export function encode(payload: object): string {
  return JSON.stringify(payload);
}

function parse(body: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(body);
    return value && typeof value === 'object' && !Array.isArray(value) && value.v === 1 ? value : undefined;
  } catch {
    return undefined;
  }
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;
const isTime = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isFilter = (v: unknown): v is string | null => v === null || typeof v === 'string';
const isMessageId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 128;

export function decodePresence(body: string): PresencePayload | undefined {
  const p = parse(body);
  if (!p || !isString(p.node) || !isString(p.epoch) || !isString(p.route) || !isTime(p.since)) return undefined;
  if (p.n !== undefined && !isTime(p.n)) return undefined;
  return p.state === 'online' || p.state === 'offline' ? ({ ...p, n: p.n ?? 0 } as unknown as PresencePayload) : undefined;
}

export function decodeRegistry(body: string): RegistryPayload | undefined {
  const p = parse(body);
  if (!p || !Array.isArray(p.sockets)) return undefined;
  const valid = p.sockets.every((s) => s && isString(s.c) && isString(s.p) && isString(s.a) && isTime(s.t));
  return valid ? (p as unknown as RegistryPayload) : undefined;
}

export function decodeDelivery(body: string): DeliveryPayload | undefined {
  const p = parse(body);
  if (!p || !isString(p.from) || !isTime(p.at) || !isFilter(p.filter) || !Array.isArray(p.p) || p.p.length === 0) return undefined;
  if (p.f !== undefined && !isTime(p.f)) return undefined;
  if (p.e !== undefined && (!isString(p.e) || p.f === undefined)) return undefined;
  const valid = p.p.every(
    (x: { i?: unknown; m?: unknown; s?: unknown; o?: unknown; q?: unknown; t?: unknown; p?: unknown; r?: unknown; k?: unknown }) =>
      x && isMessageId(x.i) && isString(x.m) && (x.s === undefined || isString(x.s)) && (x.o === undefined ? x.q === undefined && x.t === undefined && x.p === undefined && x.r === undefined : isOrigin(x.o) && isTime(x.q) && isTime(x.t) && (x.p === undefined ? x.r === undefined : isTime(x.p) && isTime(x.r))) && (x.k === undefined || x.k === 1),
  );
  return valid ? (p as unknown as DeliveryPayload) : undefined;
}

export function decodeReceipt(body: string): ReceiptPayload | undefined {
  const p = parse(body);
  if (!p || !isString(p.from) || !isString(p.e) || !Array.isArray(p.f) || p.f.length === 0 || p.f.length > 100_000) return undefined;
  return p.f.every(isId) ? (p as unknown as ReceiptPayload) : undefined;
}

/** A push-ids announcement, or a barrier marker on the same topic. */
export function decodePushes(body: string): PushIdsPayload | SyncMarker | undefined {
  const p = parse(body);
  if (!p) return undefined;
  if (p.sync !== undefined) return decodeSyncFields(p);
  if (!isString(p.from) || !isTime(p.at) || !Array.isArray(p.ids) || !p.ids.every(isMessageId)) return undefined;
  return p as unknown as PushIdsPayload;
}

export function decodeSync(body: string): SyncMarker | undefined {
  const p = parse(body);
  return p ? decodeSyncFields(p) : undefined;
}

function decodeSyncFields(p: Record<string, unknown>): SyncMarker | undefined {
  return isString(p.sync) && isTime(p.n) ? (p as unknown as SyncMarker) : undefined;
}

export function isSyncMarker(value: PushIdsPayload | SyncMarker): value is SyncMarker {
  return 'sync' in value;
}

/** A close command; only the documented close codes (REMOTE_CLOSE_CODES) are accepted. */
export function decodeCommand(body: string): Command | undefined {
  const p = parse(body);
  if (!p || !isString(p.id) || !isString(p.from) || !isTime(p.at)) return undefined;
  if (p.type === 'end-session') return isString(p.session) && p.session.length <= 300 ? (p as unknown as EndSessionCommand) : undefined;
  if (p.type !== 'close' || !isId(p.ctx) || !isId(p.user)) return undefined;
  return isFilter(p.filter) && REMOTE_CLOSE_CODES.includes(p.code as number) ? (p as unknown as CloseCommand) : undefined;
}

export function decodeSession(body: string): SessionPayload | SessionEndPayload | undefined {
  const p = parse(body);
  if (!p || !isString(p.id) || !isTime(p.expiresAt)) return undefined;
  if (p.ended !== undefined) return isTime(p.ended) ? (p as unknown as SessionEndPayload) : undefined;
  if (!isString(p.secretHash) || !/^[0-9a-f]{64}$/.test(p.secretHash)) return undefined;
  if (!isId(p.contextId) || !isId(p.userId) || !isString(p.ip) || !isString(p.route) || !isString(p.node)) return undefined;
  if (!isTime(p.createdAt)) return undefined;
  return p as unknown as SessionPayload;
}

export function decodeEndConfirmation(body: string): EndConfirmation | undefined {
  const p = parse(body);
  return p && isString(p.confirms) && isString(p.by) ? (p as unknown as EndConfirmation) : undefined;
}

/** Kinds of question: a short name (`trace`, `inspector.actors`). */
const QUERY_KIND = /^[a-z][a-z0-9._-]{0,63}$/;

export function decodeQuestion(body: string): QuestionPayload | undefined {
  const p = parse(body);
  if (!p || !isMessageId(p.id) || !isString(p.from) || !isTime(p.at) || !isTime(p.ttl)) return undefined;
  if (p.to !== undefined && !(Array.isArray(p.to) && p.to.every(isString))) return undefined;
  return isString(p.kind) && QUERY_KIND.test(p.kind) && 'body' in p ? (p as unknown as QuestionPayload) : undefined;
}

export function decodeAnswer(body: string): AnswerPayload | undefined {
  const p = parse(body);
  if (!p || !isMessageId(p.id) || !isString(p.from)) return undefined;
  return p.error === undefined || isString(p.error) ? (p as unknown as AnswerPayload) : undefined;
}

export function isSessionEnd(value: SessionPayload | SessionEndPayload): value is SessionEndPayload {
  return 'ended' in value;
}
