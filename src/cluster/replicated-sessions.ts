/**
 * Sessions shared by every node: a local `MemorySessionStore` that every node keeps
 * complete, fed by retained messages (`<name>/internal/sessions/<id>`, the record
 * with the secret's hash, never the secret), sealed with the cluster key.
 *
 * Read-your-writes, across nodes:
 * - a write (login, logout) is `durable` once the broker acknowledged it (PUBACK of
 *   the QoS 1 publish), a logout once every live node also confirmed it applied the
 *   tombstone (end-confirmations.ts); the login and logout routes answer only then;
 * - a read (`find`) first passes a barrier on the sessions subscription: what the
 *   broker acknowledged before the barrier is here after it, unless the broker held
 *   it back (arrivals.ts): a session still unknown after the barrier, and not ended
 *   here, is waited for up to `waitMs` more before the lookup answers "unknown".
 * So a session returned by a login on A authenticates on B at once, and a logout
 * answered 204 on A is refused on B at once.
 *
 * A logout replaces the record with a sealed tombstone (retained until the session
 * would have expired): an unsealed empty payload from the broker ends nothing, and
 * a replayed old record of an ended session is refused while the tombstone lives.
 * Expiry needs no message: every node holds the expiry time and ends the session on
 * its own clock; the issuer (or whoever sees a lapsed one) clears the retained slot.
 */
import { MemorySessionStore, type SessionEndedListener, type SessionKey, type SessionStore } from '../session/store.ts';
import type { SessionEndReason, SessionRecord } from '../session/session.ts';
import type { Timers } from '../time/timers.ts';
import { systemTimers } from '../time/timers.ts';
import { decodeSession, encode, isSessionEnd } from './codec.ts';
import { Arrivals } from './arrivals.ts';

export interface SessionPublisher {
  /** Publishes a sealed body (or, with `body` undefined, clears the retained slot); resolves on the broker's acknowledgement. */
  publish(topic: string, body: string | undefined): Promise<unknown>;
  topicOf(sessionId: string): string;
  /** Read-your-writes barrier on the sessions subscription (barrier.ts). */
  sync(): Promise<unknown>;
  /** Resolves once every live node confirmed it applied this logout (bounded; end-confirmations.ts). */
  confirmed(sessionId: string): Promise<unknown>;
}

/**
 * `ended`: a live session here ended; `noted`: a tombstone of a session not live
 * here (remembered; the writer still wants the confirmation); `ignored`: nothing to do
 * (a known record, this node's own tombstone coming back).
 */
export type ApplyResult = 'created' | 'ended' | 'noted' | 'ignored' | 'invalid';

export interface ReadThroughOptions {
  /** How long a lookup waits, after its barrier, for a session it does not know (cluster.syncTimeout). */
  waitMs: number;
  /** A record came while a lookup waited for it: the broker had held it back (the node logs it). */
  onLate?: (waitedMs: number) => void;
}

function keyOf(key: SessionKey): string {
  return 'id' in key ? `id:${key.id}` : `secret:${key.secretHash}`;
}

export class ReplicatedSessionStore implements SessionStore {
  private readonly local: MemorySessionStore;
  /** Ended sessions, until they would have expired: id -> expiresAt. A replayed record is refused. */
  private readonly ended = new Map<string, number>();
  /** The secret hashes of sessions ended here, likewise: a cookie of a logged-out session is refused without a wait. */
  private readonly endedSecrets = new Map<string, number>();
  /** Sessions logged out here, likewise: their tombstones coming back from the broker need no confirmation. */
  private readonly endedHere = new Map<string, number>();
  private readonly arrivals: Arrivals<SessionRecord>;
  /** The last write of a session still waiting for the broker's acknowledgement. */
  private readonly writes = new Map<string, Promise<unknown>>();
  /** Set while applying a message from the broker, so it is not echoed back. */
  private applyingRemote = false;

  constructor(
    private readonly nodeId: string,
    private readonly publisher: SessionPublisher,
    private readonly timers: Timers = systemTimers,
    private readonly readThrough: ReadThroughOptions = { waitMs: 0 },
  ) {
    this.local = new MemorySessionStore(timers);
    this.arrivals = new Arrivals(timers);
    this.local.onEnded((record, reason) => {
      this.remember(record.id, record.expiresAt, record.secretHash);
      if (this.applyingRemote) return;
      // Logout: tell everyone. Expiry: every node saw it; the issuer clears the record.
      if (reason === 'logout') this.writeLogout(record);
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

  async find(key: SessionKey): Promise<SessionRecord | undefined> {
    await this.publisher.sync();
    const found = this.lookup(key);
    if (found || this.hasEnded(key) || this.readThrough.waitMs <= 0) return found;
    const since = this.timers.now();
    const late = await this.arrivals.wait(keyOf(key), this.readThrough.waitMs);
    if (late) this.readThrough.onLate?.(this.timers.now() - since);
    // Looked up again: it may have ended or expired while it came.
    return late && this.lookup(key);
  }

  async durable(id: string): Promise<void> {
    await this.writes.get(id);
  }

  close(): void {
    this.arrivals.close();
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
      if (message.expiresAt <= this.timers.now()) {
        // Lapsed: the session would have expired anyway; only its slot is left to clear.
        this.write(sessionId, undefined);
        this.local.end(sessionId, 'expired');
        return 'ignored';
      }
      if (this.endedHere.has(sessionId)) return 'ignored';
      this.applyingRemote = true;
      try {
        return this.local.end(sessionId, 'logout') ? 'ended' : 'noted';
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
    this.arrivals.deliver(keyOf({ id: rest.id }), rest);
    this.arrivals.deliver(keyOf({ secretHash: rest.secretHash }), rest);
    return 'created';
  }

  /** Every live session this node issued: republished when the broker may have lost its state. */
  *issuedHere(): Iterable<SessionRecord> {
    for (const record of this.local.records()) if (record.node === this.nodeId) yield record;
  }

  republish(record: SessionRecord): void {
    this.write(record.id, encode({ v: 1, ...record }));
  }

  /** The tombstone; the logout is done when the broker has it and every live node applied it. */
  private writeLogout(record: SessionRecord): void {
    const now = this.timers.now();
    if (record.expiresAt > now) this.endedHere.set(record.id, record.expiresAt);
    const written = this.write(record.id, encode({ v: 1, id: record.id, ended: now, expiresAt: record.expiresAt }));
    const done: Promise<unknown> = Promise.all([written, this.publisher.confirmed(record.id)]).finally(() => {
      if (this.writes.get(record.id) === done) this.writes.delete(record.id);
    });
    this.writes.set(record.id, done);
  }

  private write(id: string, body: string | undefined): Promise<unknown> {
    const written: Promise<unknown> = this.publisher.publish(this.publisher.topicOf(id), body).finally(() => {
      if (this.writes.get(id) === written) this.writes.delete(id);
    });
    this.writes.set(id, written);
    return written;
  }

  private lookup(key: SessionKey): SessionRecord | undefined {
    return 'id' in key ? this.local.get(key.id) : this.local.getBySecretHash(key.secretHash);
  }

  private hasEnded(key: SessionKey): boolean {
    return 'id' in key ? this.ended.has(key.id) : this.endedSecrets.has(key.secretHash);
  }

  /** Tombstones live until the session would have expired; pruned lazily, oldest first. */
  private remember(id: string, expiresAt: number, secretHash?: string): void {
    const now = this.timers.now();
    prune(this.ended, now);
    prune(this.endedSecrets, now);
    prune(this.endedHere, now);
    if (expiresAt <= now) return;
    this.ended.set(id, expiresAt);
    if (secretHash) this.endedSecrets.set(secretHash, expiresAt);
  }
}

/** Drops entries whose time has passed, oldest first (insertion order is close to expiry order). */
function prune(until: Map<string, number>, now: number): void {
  for (const [key, expiresAt] of until) {
    if (expiresAt > now) break;
    until.delete(key);
  }
}
