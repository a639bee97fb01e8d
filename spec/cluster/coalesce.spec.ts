import { expect } from 'chai';
import { CoalescingQueue, type Arrival } from '../../src/cluster/coalesce.ts';

const S = { delayDuration: 1000, maxDelayDuration: 3000 };
const msg = (message: string, over: Partial<Arrival> = {}): Arrival => ({ id: `id:${message}`, contextId: 1, userId: 3, pathFilter: null, message, ...over });

describe('CoalescingQueue', () => {
  describe('#add', () => {
    it('queues a new entry due delayDuration after its arrival', () => {
      const q = new CoalescingQueue();
      expect(q.add(msg('a'), 100, S)).to.equal('queued');
      expect(q.takeDue(1099)).to.deep.equal([]);
      const [entry] = q.takeDue(1100);
      expect(entry).to.deep.include({ contextId: 1, userId: 3, pathFilter: null, firstArrival: 100, due: 1100 });
      expect(entry.payloads).to.deep.equal([{ i: 'id:a', m: 'a' }]);
    });

    it('merges equal messages (same context, user, filter) keeping arrival order', () => {
      const q = new CoalescingQueue();
      q.add(msg('a'), 0, S);
      expect(q.add(msg('b'), 10, S)).to.equal('merged');
      expect(q.add(msg('c'), 20, S)).to.equal('merged');
      expect(q.size).to.equal(1);
      expect(q.messages).to.equal(3);
      expect(q.takeAll()[0].payloads.map((p) => p.m)).to.deep.equal(['a', 'b', 'c']);
    });

    it('keeps entries apart when context, user or filter differ', () => {
      const q = new CoalescingQueue();
      q.add(msg('a'), 0, S);
      q.add(msg('a', { contextId: 2 }), 0, S);
      q.add(msg('a', { userId: 4 }), 0, S);
      q.add(msg('a', { pathFilter: '/ws/*' }), 0, S);
      q.add(msg('a', { pathFilter: '*' }), 0, S);
      expect(q.size).to.equal(5);
    });

    it('drops a payload whose exact string from the same source is already queued, but still resets the due time', () => {
      const q = new CoalescingQueue();
      q.add(msg('a'), 0, S);
      expect(q.add(msg('a'), 500, S)).to.equal('duplicate');
      expect(q.messages).to.equal(1);
      expect(q.takeDue(1000)).to.deep.equal([]);
      expect(q.takeDue(1500)).to.have.length(1);
    });

    it('keeps the same string from two different sources (each skips its own socket)', () => {
      const q = new CoalescingQueue();
      q.add(msg('a', { sourceToken: 's1' }), 0, S);
      expect(q.add(msg('a', { sourceToken: 's2' }), 0, S)).to.equal('merged');
      expect(q.add(msg('a', { sourceToken: 's1' }), 0, S)).to.equal('duplicate');
      expect(q.takeAll()[0].payloads).to.deep.equal([
        { i: 'id:a', m: 'a', s: 's1' },
        { i: 'id:a', m: 'a', s: 's2' },
      ]);
    });

    it('treats strings that differ only in case or whitespace as different payloads', () => {
      const q = new CoalescingQueue();
      q.add(msg('a'), 0, S);
      q.add(msg('A'), 0, S);
      q.add(msg('a '), 0, S);
      expect(q.messages).to.equal(3);
    });

    it('resets the due time to now + delayDuration on each merge', () => {
      const q = new CoalescingQueue();
      q.add(msg('a'), 0, S);
      q.add(msg('b'), 800, S);
      expect(q.takeDue(1799)).to.deep.equal([]);
      expect(q.takeDue(1800)).to.have.length(1);
    });

    it('never holds an entry past firstArrival + maxDelayDuration, however often it merges', () => {
      const q = new CoalescingQueue();
      q.add(msg('m0'), 0, S);
      for (let t = 500; t <= 2900; t += 300) q.add(msg(`m${t}`), t, S);
      expect(q.takeDue(2999)).to.deep.equal([]);
      const [entry] = q.takeDue(3000);
      expect(entry.due).to.equal(3000);
      expect(entry.payloads).to.have.length(10);
    });

    it('uses the settings in force at each arrival (a reload applies to the next arrivals)', () => {
      const q = new CoalescingQueue();
      q.add(msg('a'), 0, S);
      q.add(msg('b', { userId: 4 }), 0, { delayDuration: 100, maxDelayDuration: 200 });
      expect(q.takeDue(100).map((e) => e.userId)).to.deep.equal([4]);
      expect(q.takeDue(999)).to.deep.equal([]);
      // A merge after the reload caps at firstArrival + the new maxDelay.
      q.add(msg('c'), 50, { delayDuration: 100, maxDelayDuration: 120 });
      expect(q.takeDue(120).map((e) => e.payloads.length)).to.deep.equal([2]);
    });
  });

  describe('#takeDue', () => {
    it('returns due entries in order of first arrival and leaves the rest', () => {
      const q = new CoalescingQueue();
      q.add(msg('a', { userId: 5 }), 0, S);
      q.add(msg('b', { userId: 6 }), 100, S);
      q.add(msg('c', { userId: 7 }), 200, S);
      q.add(msg('a2', { userId: 5 }), 150, S); // user 5 now due at 1150
      expect(q.takeDue(1150).map((e) => e.userId)).to.deep.equal([5, 6]);
      expect(q.size).to.equal(1);
      expect(q.messages).to.equal(1);
    });
  });
});

describe('CoalescingQueue never reorders a user\'s messages', () => {
  const S = { delayDuration: 1000, maxDelayDuration: 3000 };
  const arrival = (message: string, pathFilter: string | null) => ({ id: `id:${message}`, contextId: 1, userId: 3, pathFilter, message });

  it('opens a new entry after a message of the user with another filter, so the flush keeps arrival order', () => {
    const q = new CoalescingQueue();
    q.add(arrival('1', null), 0, S);
    q.add(arrival('2', '/ws/a'), 1, S);
    q.add(arrival('3', null), 2, S);
    q.add(arrival('4', null), 3, S);
    const flushed = q.takeDue(10_000).flatMap((entry) => entry.payloads.map((p) => p.m));
    expect(flushed).to.deep.equal(['1', '2', '3', '4']);
    expect(q.size).to.equal(0);
  });

  it('still merges consecutive messages of one filter into one entry', () => {
    const q = new CoalescingQueue();
    for (const m of ['1', '2', '3']) q.add(arrival(m, '/ws/a'), 0, S);
    expect(q.size).to.equal(1);
    q.takeAll();
    q.add(arrival('4', '/ws/a'), 0, S);
    expect(q.size).to.equal(1);
  });
});
