/**
 * Sessions shared by every node: a local `MemorySessionStore` that every node keeps
 * complete, fed by retained messages (`<name>/internal/sessions/<id>`, the record
 * with the secret's hash, never the secret), sealed with the cluster key.
 *
 * Read-your-writes, across nodes:
 * - a write (login, logout) is `durable` once the broker acknowledged it (PUBACK of
 *   the QoS 1 publish); the login and logout routes answer only then;
 * - a read (`sync`) first passes a barrier on the sessions subscription: what the
 *   broker acknowledged before the barrier is here after it.
 * So a session returned by a login on A authenticates on B at once, and a logout
 * answered 204 on A is refused on B at once.
 *
 * A logout replaces the record with a sealed tombstone (retained until the session
 * would have expired): an unsealed empty payload from the broker ends nothing, and
 * a replayed old record of an ended session is refused while the tombstone lives.
 * Expiry needs no message: every node holds the expiry time and ends the session on
 * its own clock; the issuer (or whoever sees a lapsed one) clears the retained slot.
 */
import { MemorySessionStore, type SessionEndedListener, type SessionStore } from '../session/store.ts';
import type { SessionEndReason, SessionRecord } from '../session/session.ts';
import type { Timers } from '../time/timers.ts';
import { systemTimers } from '../time/timers.ts';
import { decodeSession, encode, isSessionEnd } from './codec.ts';

export interface SessionPublisher {
  /** Publishes a sealed body (or, with `body` undefined, clears the retained slot); resolves on the broker's acknowledgement. */
  publish(topic: string, body: string | undefined): Promise<unknown>;
  topicOf(sessionId: string): string;
  /** Read-your-writes barrier on the sessions subscription (barrier.ts). */
  sync(): Promise<unknown>;
}

export type ApplyResult = 'created' | 'ended' | 'ignored' | 'invalid';

export class ReplicatedSessionStore implements SessionStore {
  private readonly local: MemorySessionStore;
  /** Ended sessions, until they would have expired: id -> expiresAt. A replayed record is refused. */
  private readonly ended = new Map<string, number>();
  /** The last write of a session still waiting for the broker's acknowledgement. */
  private readonly writes = new Map<string, Promise<unknown>>();
  /** Set while applying a message from the broker, so it is not echoed back. */
  private applyingRemote = false;

  constructor(
    private readonly nodeId: string,
    private readonly publisher: SessionPublisher,
    private readonly timers: Timers = systemTimers,
  ) {
    this.local = new MemorySessionStore(timers);
    this.local.onEnded((record, reason) => {
      this.remember(record.id, record.expiresAt);
      if (this.applyingRemote) return;
      // Logout: tell everyone. Expiry: every node saw it; the issuer clears the record.
      if (reason === 'logout') this.write(record.id, encode({ v: 1, id: record.id, ended: this.timers.now(), expiresAt: record.expiresAt }));
      else if (record.node === this.nodeId) this.write(record.id, undefined);
    });
  }

  create(record: SessionRecord): void {
    this.local.create(record);
    this.write(record.id, encode({ v: 1, ...record }));
  }

  get(id: string): SessionRecord | undefined {
    return this.local.get(id);
  }

  getBySecretHash(secretHash: string): SessionRecord | undefined {
    return this.local.getBySecretHash(secretHash);
  }

  end(id: string, reason: SessionEndReason): boolean {
    return this.local.end(id, reason);
  }

  onEnded(listener: SessionEndedListener): () => void {
    return this.local.onEnded(listener);
  }

  size(): number {
    return this.local.size();
  }

  async sync(): Promise<void> {
    await this.publisher.sync();
  }

  async durable(id: string): Promise<void> {
    await this.writes.get(id);
  }

  close(): void {
    this.local.close();
  }

  /** A retained session message from the broker, its seal already checked (undefined: an unsealed delete). */
  apply(sessionId: string, body: string | undefined): ApplyResult {
    // Only the issuer's expiry clears a slot, and every node expires on its own clock:
    // an empty payload ends nothing (anyone with broker access could send one).
    if (body === undefined) return 'ignored';
    const message = decodeSession(body);
    if (!message || message.id !== sessionId) return 'invalid';
    if (isSessionEnd(message)) {
      this.remember(sessionId, message.expiresAt);
      if (message.expiresAt <= this.timers.now()) this.write(sessionId, undefined);
      this.applyingRemote = true;
      try {
        return this.local.end(sessionId, 'logout') ? 'ended' : 'ignored';
      } finally {
        this.applyingRemote = false;
      }
    }
    if (this.local.get(sessionId) || this.ended.has(sessionId)) return 'ignored';
    if (message.expiresAt <= this.timers.now()) {
      // Expired while nobody cleared it (its issuer is gone): clear it now.
      this.write(sessionId, undefined);
      return 'ignored';
    }
    const { v: _version, ...rest } = message;
    this.local.create(rest);
    return 'created';
  }

  /** Every live session this node issued: republished when the broker may have lost its state. */
  *issuedHere(): Iterable<SessionRecord> {
    for (const record of this.local.records()) if (record.node === this.nodeId) yield record;
  }

  republish(record: SessionRecord): void {
    this.write(record.id, encode({ v: 1, ...record }));
  }

  private write(id: string, body: string | undefined): void {
    const written = this.publisher.publish(this.publisher.topicOf(id), body).finally(() => {
      if (this.writes.get(id) === written) this.writes.delete(id);
    });
    this.writes.set(id, written);
  }

  /** Tombstones live until the session would have expired; pruned lazily, oldest first. */
  private remember(id: string, expiresAt: number): void {
    const now = this.timers.now();
    for (const [old, until] of this.ended) {
      if (until > now) break;
      this.ended.delete(old);
    }
    if (expiresAt > now) this.ended.set(id, expiresAt);
  }
}
