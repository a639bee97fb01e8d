/**
 * The session store interface and its in-memory implementation. A store answers
 * lookups synchronously (the handshake pipeline runs them for every upgrade) and
 * tells listeners when a session ends, so the node can close its sockets with 4401.
 * The cluster issue replicates records between nodes behind this same interface.
 */
import type { SessionEndReason, SessionRecord } from './session.ts';
import type { Timers } from '../time/timers.ts';
import { systemTimers } from '../time/timers.ts';

export type SessionEndedListener = (record: SessionRecord, reason: SessionEndReason) => void;

/** How a request names its session: the public id, or the hash of the cookie's secret. */
export type SessionKey = { id: string } | { secretHash: string };

export interface SessionStore {
  create(record: SessionRecord): void;
  /** A live session by public id; undefined when unknown or expired. */
  get(id: string): SessionRecord | undefined;
  /** A live session by the hash of its secret. */
  getBySecretHash(secretHash: string): SessionRecord | undefined;
  /** Ends a session; false when it was not live. Listeners hear of it once. */
  end(id: string, reason: SessionEndReason): boolean;
  onEnded(listener: SessionEndedListener): () => void;
  size(): number;
  /**
   * Read-your-writes lookup: the session as the cluster knows it now. Every write
   * acknowledged anywhere before the call is taken into account (a login elsewhere a
   * moment ago is found, a logout elsewhere is not). A store alone in its process
   * answers at once.
   */
  find(key: SessionKey): Promise<SessionRecord | undefined>;
  /** Resolves once the last write of this session (create or end) is durable where the others read it. */
  durable(id: string): Promise<void>;
  /** Drops every timer; the store is unusable afterwards. */
  close(): void;
}

/** setTimeout's ceiling (2^31-1 ms): longer expiries are re-armed in steps. */
const MAX_TIMER = 2_147_483_647;

export class MemorySessionStore implements SessionStore {
  private readonly byId = new Map<string, SessionRecord>();
  private readonly bySecret = new Map<string, SessionRecord>();
  private readonly expiry = new Map<string, unknown>();
  private readonly listeners = new Set<SessionEndedListener>();

  constructor(private readonly timers: Timers = systemTimers) {}

  create(record: SessionRecord): void {
    this.byId.set(record.id, record);
    this.bySecret.set(record.secretHash, record);
    this.arm(record);
  }

  get(id: string): SessionRecord | undefined {
    const record = this.byId.get(id);
    if (record && record.expiresAt <= this.timers.now()) {
      // The timer has not fired yet (or the clock jumped): expire now, lazily.
      this.end(id, 'expired');
      return undefined;
    }
    return record;
  }

  getBySecretHash(secretHash: string): SessionRecord | undefined {
    const record = this.bySecret.get(secretHash);
    return record ? this.get(record.id) : undefined;
  }

  end(id: string, reason: SessionEndReason): boolean {
    const record = this.byId.get(id);
    if (!record) return false;
    this.byId.delete(id);
    this.bySecret.delete(record.secretHash);
    this.timers.clearTimeout(this.expiry.get(id));
    this.expiry.delete(id);
    for (const listener of this.listeners) listener(record, reason);
    return true;
  }

  onEnded(listener: SessionEndedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  size(): number {
    return this.byId.size;
  }

  find(key: SessionKey): Promise<SessionRecord | undefined> {
    return Promise.resolve('id' in key ? this.get(key.id) : this.getBySecretHash(key.secretHash));
  }

  durable(_id: string): Promise<void> {
    return Promise.resolve();
  }

  records(): Iterable<SessionRecord> {
    return this.byId.values();
  }

  close(): void {
    for (const handle of this.expiry.values()) this.timers.clearTimeout(handle);
    this.expiry.clear();
    this.listeners.clear();
  }

  /** One timer per session: O(1) to arm and to cancel, no periodic sweep over all sessions. */
  private arm(record: SessionRecord): void {
    const wait = Math.min(Math.max(record.expiresAt - this.timers.now(), 0), MAX_TIMER);
    const handle = this.timers.setTimeout(() => {
      if (record.expiresAt <= this.timers.now()) this.end(record.id, 'expired');
      else if (this.byId.get(record.id) === record) this.arm(record);
    }, wait);
    this.expiry.set(record.id, handle);
  }
}
