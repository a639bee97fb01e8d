/**
 * Sessions shared by every node: a local `MemorySessionStore` that every node keeps
 * complete, fed by retained messages (`<name>/internal/sessions/<id>`, the record
 * with the secret's hash, never the secret). A login anywhere is valid everywhere
 * as soon as the record arrives (milliseconds); a logout anywhere publishes an empty
 * retained message, and every node ends the session and closes its sockets (4401).
 *
 * Expiry needs no message: every node holds the expiry time and ends the session on
 * its own clock. The issuing node also clears the retained record.
 */
import { MemorySessionStore, type SessionEndedListener, type SessionStore } from '../session/store.ts';
import type { SessionEndReason, SessionRecord } from '../session/session.ts';
import type { Timers } from '../time/timers.ts';
import { systemTimers } from '../time/timers.ts';
import { decodeSession, encode } from './codec.ts';

export interface SessionPublisher {
  publish(topic: string, payload: Buffer, retain: boolean): void;
  topicOf(sessionId: string): string;
}

export class ReplicatedSessionStore implements SessionStore {
  private readonly local: MemorySessionStore;
  /** Set while applying a message from the broker, so it is not echoed back. */
  private applyingRemote = false;

  constructor(
    private readonly nodeId: string,
    private readonly publisher: SessionPublisher,
    private readonly timers: Timers = systemTimers,
  ) {
    this.local = new MemorySessionStore(timers);
    this.local.onEnded((record, reason) => {
      if (this.applyingRemote) return;
      // Logout: tell everyone. Expiry: every node saw it; the issuer clears the record.
      if (reason === 'logout' || record.node === this.nodeId) this.publishEnd(record.id);
    });
  }

  create(record: SessionRecord): void {
    this.local.create(record);
    this.publisher.publish(this.publisher.topicOf(record.id), encode({ v: 1, ...record }), true);
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

  close(): void {
    this.local.close();
  }

  /** A retained session message from the broker (empty payload: the session ended). */
  apply(sessionId: string, payload: Buffer): 'created' | 'ended' | 'ignored' | 'invalid' {
    if (payload.length === 0) {
      this.applyingRemote = true;
      try {
        return this.local.end(sessionId, 'logout') ? 'ended' : 'ignored';
      } finally {
        this.applyingRemote = false;
      }
    }
    const record = decodeSession(payload);
    if (!record || record.id !== sessionId) return 'invalid';
    if (this.local.get(sessionId)) return 'ignored';
    if (record.expiresAt <= this.timers.now()) {
      // Expired while nobody cleared it (its issuer is gone): clear it now.
      this.publishEnd(sessionId);
      return 'ignored';
    }
    const { v: _version, ...rest } = record;
    this.local.create(rest);
    return 'created';
  }

  /** Every live session this node issued: republished when the broker lost its state. */
  *issuedHere(): Iterable<SessionRecord> {
    for (const record of this.local.records()) if (record.node === this.nodeId) yield record;
  }

  republish(record: SessionRecord): void {
    this.publisher.publish(this.publisher.topicOf(record.id), encode({ v: 1, ...record }), true);
  }

  private publishEnd(sessionId: string): void {
    this.publisher.publish(this.publisher.topicOf(sessionId), Buffer.alloc(0), true);
  }
}
