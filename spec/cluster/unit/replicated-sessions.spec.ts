import { expect } from 'chai';
import { encode } from '../../../src/cluster/codec.ts';
import { ReplicatedSessionStore, type SessionPublisher } from '../../../src/cluster/replicated-sessions.ts';
import type { SessionEndReason, SessionRecord } from '../../../src/session/session.ts';
import { FakeTimers } from '../../../src/time/timers.ts';

const topicOf = (id: string) => `wsmesh/internal/sessions/${id}`;

/** The sessions side of the broker link: every publish waits for a PUBACK given by hand. */
class FakePublisher implements SessionPublisher {
  readonly published: Array<{ topic: string; body: string | undefined; ack: () => void }> = [];
  syncs = 0;
  /** Logouts waiting for the other nodes' confirmations, answered by hand (or at once when `autoConfirm`). */
  readonly confirmations: Array<{ id: string; confirm: () => void }> = [];
  autoConfirm = true;

  publish(topic: string, body: string | undefined): Promise<unknown> {
    return new Promise((resolve) => this.published.push({ topic, body, ack: () => resolve(true) }));
  }

  topicOf(sessionId: string): string {
    return topicOf(sessionId);
  }

  sync(): Promise<unknown> {
    this.syncs++;
    return Promise.resolve(true);
  }

  confirmed(id: string): Promise<unknown> {
    if (this.autoConfirm) return Promise.resolve();
    return new Promise((resolve) => this.confirmations.push({ id, confirm: () => resolve(undefined) }));
  }

  /** The decoded bodies, `null` for a cleared slot. */
  bodies(): Array<Record<string, unknown> | null> {
    return this.published.map((p) => (p.body === undefined ? null : JSON.parse(p.body)));
  }
}

let counter = 0;
function rec(over: Partial<SessionRecord> = {}): SessionRecord {
  const n = (++counter).toString(16).padStart(32, '0');
  return { id: n, secretHash: n + n, contextId: 1, userId: 3, ip: '10.0.0.1', route: 'OX2', node: 'n2', createdAt: 0, expiresAt: 10_000, ...over };
}

const recordBody = (record: SessionRecord) => encode({ v: 1, ...record });
const tombstoneBody = (id: string, expiresAt: number, ended = 1) => encode({ v: 1, id, ended, expiresAt });
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function track<T>(promise: Promise<T>): { settled: boolean } {
  const state = { settled: false };
  void promise.then(() => (state.settled = true));
  return state;
}

function setup(start = 0, waitMs = 0) {
  const timers = new FakeTimers(start);
  const publisher = new FakePublisher();
  const late: number[] = [];
  const store = new ReplicatedSessionStore('n1', publisher, timers, { waitMs, onLate: (ms) => late.push(ms) });
  const ended: Array<{ id: string; reason: SessionEndReason }> = [];
  store.onEnded((record, reason) => ended.push({ id: record.id, reason }));
  return { timers, publisher, store, ended, late };
}

describe('ReplicatedSessionStore', () => {
  describe('local writes', () => {
    it('create keeps the record locally and publishes it, versioned, on its own topic', () => {
      const { store, publisher } = setup();
      const record = rec({ node: 'n1' });
      store.create(record);
      expect(store.get(record.id)).to.deep.equal(record);
      expect(store.getBySecretHash(record.secretHash)).to.deep.equal(record);
      expect(store.size()).to.equal(1);
      expect(publisher.published.map((p) => p.topic)).to.deep.equal([topicOf(record.id)]);
      expect(publisher.bodies()).to.deep.equal([{ v: 1, ...record }]);
    });

    it('durable(id) waits for the PUBACK of the create', async () => {
      const { store, publisher } = setup();
      const record = rec({ node: 'n1' });
      store.create(record);
      const durable = track(store.durable(record.id));
      await settle();
      expect(durable.settled).to.equal(false);
      publisher.published[0].ack();
      await settle();
      expect(durable.settled).to.equal(true);
    });

    it('durable(id) resolves at once for a session with no write pending', async () => {
      const { store, publisher } = setup();
      const record = rec({ node: 'n1' });
      store.create(record);
      publisher.published[0].ack();
      await settle();
      const durable = track(store.durable(record.id));
      const unknown = track(store.durable('ffff'));
      await settle();
      expect(durable.settled).to.equal(true);
      expect(unknown.settled).to.equal(true);
    });

    it('a logout publishes a tombstone (ended now, the same expiresAt) and durable waits for that write', async () => {
      const { store, publisher, timers, ended } = setup(100);
      const record = rec({ node: 'n1', expiresAt: 5000 });
      store.create(record);
      publisher.published[0].ack();
      timers.advance(400);
      expect(store.end(record.id, 'logout')).to.equal(true);
      expect(store.get(record.id)).to.equal(undefined);
      expect(ended).to.deep.equal([{ id: record.id, reason: 'logout' }]);
      expect(publisher.bodies()[1]).to.deep.equal({ v: 1, id: record.id, ended: 500, expiresAt: 5000 });
      const durable = track(store.durable(record.id));
      await settle();
      expect(durable.settled).to.equal(false);
      publisher.published[1].ack();
      await settle();
      expect(durable.settled).to.equal(true);
    });

    it("a logout's durable also waits until every live node confirmed it applied the tombstone", async () => {
      const { store, publisher } = setup();
      publisher.autoConfirm = false;
      const record = rec({ node: 'n1' });
      store.create(record);
      publisher.published[0].ack();
      store.end(record.id, 'logout');
      expect(publisher.confirmations.map((c) => c.id)).to.deep.equal([record.id]);
      const durable = track(store.durable(record.id));
      publisher.published[1].ack(); // the broker has the tombstone
      await settle();
      expect(durable.settled).to.equal(false);
      publisher.confirmations[0].confirm(); // and the others applied it
      await settle();
      expect(durable.settled).to.equal(true);
    });

    it("this node's own tombstone coming back from the broker is 'ignored' (nobody waits for its confirmation)", () => {
      const { store } = setup();
      const record = rec({ node: 'n1' });
      store.create(record);
      store.end(record.id, 'logout');
      expect(store.apply(record.id, tombstoneBody(record.id, record.expiresAt))).to.equal('ignored');
    });

    it('durable waits for the latest write, not an earlier one acknowledged later', async () => {
      const { store, publisher } = setup();
      const record = rec({ node: 'n1' });
      store.create(record);
      store.end(record.id, 'logout');
      const durable = track(store.durable(record.id));
      publisher.published[0].ack(); // the create's PUBACK
      await settle();
      expect(durable.settled).to.equal(false);
      publisher.published[1].ack(); // the tombstone's
      await settle();
      expect(durable.settled).to.equal(true);
    });

    it('end of an unknown session returns false and publishes nothing', () => {
      const { store, publisher } = setup();
      expect(store.end('ffff', 'logout')).to.equal(false);
      expect(publisher.published).to.deep.equal([]);
    });

    it('a replayed record of a session logged out here is refused while its tombstone lives', () => {
      const { store, timers } = setup();
      const record = rec({ node: 'n1', expiresAt: 5000 });
      store.create(record);
      store.end(record.id, 'logout');
      timers.advance(1000);
      expect(store.apply(record.id, recordBody(record))).to.equal('ignored');
      expect(store.get(record.id)).to.equal(undefined);
    });

    it('find passes the barrier of the publisher, even for a session known here (a logout elsewhere must count)', async () => {
      const { store, publisher } = setup();
      const record = rec({ node: 'n1' });
      store.create(record);
      expect(await store.find({ id: record.id })).to.deep.equal(record);
      expect(await store.find({ secretHash: record.secretHash })).to.deep.equal(record);
      expect(publisher.syncs).to.equal(2);
    });
  });

  describe('find, read-through (a record the broker held back behind the marker)', () => {
    it('waits for a session unknown after the barrier and answers it when its record comes, logging how late', async () => {
      const { store, timers, late } = setup(0, 2000);
      const record = rec();
      const byId = store.find({ id: record.id });
      const bySecret = store.find({ secretHash: record.secretHash });
      await settle();
      timers.advance(700);
      expect(store.apply(record.id, recordBody(record))).to.equal('created');
      expect(await byId).to.deep.equal(record);
      expect(await bySecret).to.deep.equal(record);
      expect(late).to.deep.equal([700, 700]);
      // What is left is the session's own expiry, not a waiter's.
      expect(timers.pendingCount()).to.equal(1);
    });

    it('answers unknown once the wait is over, and leaves no timer', async () => {
      const { store, timers, late } = setup(0, 2000);
      const lookup = store.find({ id: 'abc' });
      const found = track(lookup);
      await settle();
      timers.advance(1999);
      await settle();
      expect(found.settled).to.equal(false);
      timers.advance(1);
      await settle();
      expect(found.settled).to.equal(true);
      expect(await lookup).to.equal(undefined);
      expect(late).to.deep.equal([]);
      expect(timers.pendingCount()).to.equal(0);
    });

    it('does not wait for a session that ended here: its id and its secret are refused at once', async () => {
      const { store, timers } = setup(0, 2000);
      const record = rec({ node: 'n1' });
      store.create(record);
      store.end(record.id, 'logout');
      expect(await store.find({ id: record.id })).to.equal(undefined);
      expect(await store.find({ secretHash: record.secretHash })).to.equal(undefined);
      expect(timers.pendingCount()).to.equal(0);
    });

    it('does not wait for an id whose tombstone came from another node', async () => {
      const { store, timers } = setup(0, 2000);
      expect(store.apply('0abc', tombstoneBody('0abc', 5000))).to.equal('noted');
      expect(await store.find({ id: '0abc' })).to.equal(undefined);
      expect(timers.pendingCount()).to.equal(0);
    });

    it('without a wait configured answers from what the barrier brought', async () => {
      const { store, timers } = setup();
      expect(await store.find({ id: 'abc' })).to.equal(undefined);
      expect(timers.pendingCount()).to.equal(0);
    });

    it('close answers every waiting lookup and drops its timers', async () => {
      const { store, timers } = setup(0, 2000);
      const found = store.find({ secretHash: 'ff' });
      await settle();
      store.close();
      expect(await found).to.equal(undefined);
      expect(timers.pendingCount()).to.equal(0);
    });
  });

  describe('apply (messages from the broker, seal already checked)', () => {
    it("accepts another node's record: 'created', readable here, and not echoed back", () => {
      const { store, publisher } = setup();
      const record = rec();
      expect(store.apply(record.id, recordBody(record))).to.equal('created');
      expect(store.get(record.id)).to.deep.equal(record);
      expect(store.getBySecretHash(record.secretHash)?.id).to.equal(record.id);
      expect(publisher.published).to.deep.equal([]);
    });

    it("ignores a record it already holds (a redelivery): 'ignored'", () => {
      const { store } = setup();
      const record = rec();
      store.apply(record.id, recordBody(record));
      expect(store.apply(record.id, recordBody({ ...record, userId: 99 }))).to.equal('ignored');
      expect(store.get(record.id)?.userId).to.equal(3);
    });

    it('ignores an unsealed empty payload (retained delete): the session lives on', () => {
      const { store, publisher, ended } = setup();
      const record = rec();
      store.apply(record.id, recordBody(record));
      expect(store.apply(record.id, undefined)).to.equal('ignored');
      expect(store.get(record.id)).to.deep.equal(record);
      expect(ended).to.deep.equal([]);
      expect(publisher.published).to.deep.equal([]);
    });

    it("refuses a body that does not decode: 'invalid', nothing stored", () => {
      const { store } = setup();
      const record = rec();
      for (const body of ['', 'nope', '{}', encode({ ...record }), encode({ v: 1, ...record, userId: 0 }), encode({ v: 1, ...record, secretHash: 'x' })]) {
        expect(store.apply(record.id, body), body).to.equal('invalid');
      }
      expect(store.size()).to.equal(0);
    });

    it("refuses a record or tombstone whose id is not the topic's session id: 'invalid'", () => {
      const { store } = setup();
      const record = rec();
      const other = rec();
      store.apply(record.id, recordBody(record));
      expect(store.apply(other.id, recordBody(record))).to.equal('invalid');
      expect(store.apply(other.id, tombstoneBody(record.id, 10_000))).to.equal('invalid');
      expect(store.get(other.id)).to.equal(undefined);
      expect(store.get(record.id)).to.deep.equal(record);
    });

    it("ends a session on a tombstone: 'ended', listeners hear 'logout', and no tombstone is echoed", () => {
      const { store, publisher, ended } = setup();
      const record = rec();
      store.apply(record.id, recordBody(record));
      expect(store.apply(record.id, tombstoneBody(record.id, record.expiresAt))).to.equal('ended');
      expect(store.get(record.id)).to.equal(undefined);
      expect(ended).to.deep.equal([{ id: record.id, reason: 'logout' }]);
      expect(publisher.published).to.deep.equal([]);
    });

    it('does not resurrect an ended session from a later stale record', () => {
      const { store, timers } = setup();
      const record = rec();
      store.apply(record.id, recordBody(record));
      store.apply(record.id, tombstoneBody(record.id, record.expiresAt));
      timers.advance(5000);
      expect(store.apply(record.id, recordBody(record))).to.equal('ignored');
      expect(store.get(record.id)).to.equal(undefined);
    });

    it("refuses the record of a session whose tombstone came first (never seen alive here; the tombstone is 'noted')", () => {
      const { store, ended } = setup();
      const record = rec();
      expect(store.apply(record.id, tombstoneBody(record.id, record.expiresAt))).to.equal('noted');
      expect(store.apply(record.id, recordBody(record))).to.equal('ignored');
      expect(store.get(record.id)).to.equal(undefined);
      expect(ended).to.deep.equal([]);
    });

    it('clears the retained slot of a tombstone that has lapsed (the session would have expired)', () => {
      const { store, publisher, timers } = setup();
      const record = rec({ expiresAt: 1000 });
      timers.advance(2000);
      expect(store.apply(record.id, tombstoneBody(record.id, 1000))).to.equal('ignored');
      expect(publisher.published.map((p) => [p.topic, p.body])).to.deep.equal([[topicOf(record.id), undefined]]);
    });

    it('refuses an already expired record and clears its retained slot (its issuer is gone)', () => {
      const { store, publisher, timers } = setup();
      timers.advance(5000);
      const record = rec({ expiresAt: 5000 });
      expect(store.apply(record.id, recordBody(record))).to.equal('ignored');
      expect(store.get(record.id)).to.equal(undefined);
      expect(publisher.published.map((p) => [p.topic, p.body])).to.deep.equal([[topicOf(record.id), undefined]]);
    });

    it('forgets a tombstone once the session would have expired (the replay is then refused as expired)', () => {
      const { store, publisher, timers } = setup();
      const record = rec({ expiresAt: 1000 });
      store.apply(record.id, tombstoneBody(record.id, 1000));
      timers.advance(1000);
      const later = rec({ expiresAt: 9000 });
      store.apply(later.id, tombstoneBody(later.id, 9000)); // prunes the lapsed tombstone
      expect(store.apply(record.id, recordBody(record))).to.equal('ignored');
      expect(publisher.published.map((p) => p.topic)).to.deep.equal([topicOf(record.id)]); // cleared as expired
    });
  });

  describe('expiry', () => {
    it('expires a session on its own clock; the issuer clears the retained slot', () => {
      const { store, publisher, timers, ended } = setup();
      const record = rec({ node: 'n1', expiresAt: 1000 });
      store.create(record);
      timers.advance(999);
      expect(store.get(record.id)).to.deep.equal(record);
      timers.advance(1);
      expect(ended).to.deep.equal([{ id: record.id, reason: 'expired' }]);
      expect(store.get(record.id)).to.equal(undefined);
      expect(publisher.published.map((p) => p.body === undefined)).to.deep.equal([false, true]);
      expect(publisher.published[1].topic).to.equal(topicOf(record.id));
    });

    it("expires another node's session without publishing anything (its issuer clears it)", () => {
      const { store, publisher, timers, ended } = setup();
      const record = rec({ node: 'n2', expiresAt: 1000 });
      store.apply(record.id, recordBody(record));
      timers.advance(1000);
      expect(ended).to.deep.equal([{ id: record.id, reason: 'expired' }]);
      expect(store.get(record.id)).to.equal(undefined);
      expect(publisher.published).to.deep.equal([]);
    });

    it('an expired session is not remembered as ended: no tombstone is published for it', () => {
      const { store, publisher, timers } = setup();
      const record = rec({ node: 'n1', expiresAt: 1000 });
      store.create(record);
      timers.advance(1000);
      expect(publisher.bodies().filter((b) => b !== null && 'ended' in b)).to.deep.equal([]);
    });

    it('close drops the expiry timers', () => {
      const { store, timers } = setup();
      store.create(rec({ node: 'n1', expiresAt: 1000 }));
      const theirs = rec({ expiresAt: 2000 });
      store.apply(theirs.id, recordBody(theirs));
      expect(timers.pendingCount()).to.equal(2);
      store.close();
      expect(timers.pendingCount()).to.equal(0);
    });
  });

  describe('republishing', () => {
    it('issuedHere lists only the live sessions this node issued', () => {
      const { store } = setup();
      const mine = rec({ node: 'n1' });
      const theirs = rec({ node: 'n2' });
      const endedHere = rec({ node: 'n1' });
      store.create(mine);
      store.apply(theirs.id, recordBody(theirs));
      store.create(endedHere);
      store.end(endedHere.id, 'logout');
      expect([...store.issuedHere()].map((r) => r.id)).to.deep.equal([mine.id]);
    });

    it('republish publishes the record again, and durable waits for it', async () => {
      const { store, publisher } = setup();
      const record = rec({ node: 'n1' });
      store.create(record);
      publisher.published[0].ack();
      store.republish(record);
      expect(publisher.bodies()[1]).to.deep.equal({ v: 1, ...record });
      const durable = track(store.durable(record.id));
      await settle();
      expect(durable.settled).to.equal(false);
      publisher.published[1].ack();
      await settle();
      expect(durable.settled).to.equal(true);
    });
  });
});
