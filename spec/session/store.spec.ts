import { expect } from 'chai';
import { MemorySessionStore } from '../../src/session/store.ts';
import { FakeTimers } from '../../src/time/timers.ts';
import { hashSecret, secretMatches, type SessionRecord } from '../../src/session/session.ts';

function record(id: string, expiresAt: number, secret = `secret-${id}`): SessionRecord {
  return { id, secretHash: hashSecret(secret), contextId: 1, userId: 3, ip: '127.0.0.1', route: 'r', node: 'n', createdAt: 0, expiresAt };
}

describe('MemorySessionStore', () => {
  describe('#get', () => {
    it('finds a live session by id and by secret hash', () => {
      const store = new MemorySessionStore(new FakeTimers());
      store.create(record('a', 1000));
      expect(store.get('a')?.id).to.equal('a');
      expect(store.getBySecretHash(hashSecret('secret-a'))?.id).to.equal('a');
      expect(store.get('b')).to.equal(undefined);
    });
  });

  describe('expiry', () => {
    it('ends a session when its timer fires and tells listeners once, with reason expired', () => {
      const timers = new FakeTimers();
      const store = new MemorySessionStore(timers);
      const ended: string[] = [];
      store.onEnded((r, reason) => ended.push(`${r.id}:${reason}`));
      store.create(record('a', 1000));
      store.create(record('b', 2000));
      timers.advance(999);
      expect(store.size()).to.equal(2);
      timers.advance(1);
      expect(ended).to.deep.equal(['a:expired']);
      expect(store.get('a')).to.equal(undefined);
      timers.advance(1000);
      expect(ended).to.deep.equal(['a:expired', 'b:expired']);
      expect(timers.pendingCount()).to.equal(0);
    });

    it('expires lazily on lookup when the clock passed the expiry before the timer ran', () => {
      let now = 0;
      const timers = { now: () => now, setTimeout: () => 1, clearTimeout: () => {} };
      const store = new MemorySessionStore(timers);
      const ended: string[] = [];
      store.onEnded((r) => ended.push(r.id));
      store.create(record('a', 1000));
      now = 1000;
      expect(store.get('a')).to.equal(undefined);
      expect(ended).to.deep.equal(['a']);
    });
  });

  describe('#end', () => {
    it('ends once, cancels the timer and drops both indexes', () => {
      const timers = new FakeTimers();
      const store = new MemorySessionStore(timers);
      const ended: string[] = [];
      store.onEnded((r, reason) => ended.push(`${r.id}:${reason}`));
      store.create(record('a', 1000));
      expect(store.end('a', 'logout')).to.equal(true);
      expect(store.end('a', 'logout')).to.equal(false);
      expect(store.getBySecretHash(hashSecret('secret-a'))).to.equal(undefined);
      expect(timers.pendingCount()).to.equal(0);
      timers.advance(5000);
      expect(ended).to.deep.equal(['a:logout']);
    });
  });

  describe('#close', () => {
    it('drops every timer', () => {
      const timers = new FakeTimers();
      const store = new MemorySessionStore(timers);
      store.create(record('a', 1000));
      store.create(record('b', 1000));
      store.close();
      expect(timers.pendingCount()).to.equal(0);
    });
  });
});

describe('secretMatches', () => {
  it('accepts the secret and refuses anything else', () => {
    const r = record('a', 1, 'right');
    expect(secretMatches(r, 'right')).to.equal(true);
    expect(secretMatches(r, 'wrong')).to.equal(false);
    expect(secretMatches(r, '')).to.equal(false);
    expect(secretMatches(r, undefined)).to.equal(false);
  });
});
