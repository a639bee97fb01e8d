import { expect } from 'chai';
import { DEDUP_CAPACITY, RecentIds } from '../../../src/cluster/dedup.ts';

function setup(windowMs = 1000, capacity?: number) {
  let time = 0;
  const ids = new RecentIds(windowMs, () => time, capacity);
  return { ids, at: (t: number) => (time = t) };
}

describe('RecentIds', () => {
  it('does not know an id it was never given', () => {
    const { ids } = setup();
    expect(ids.has('a')).to.equal(false);
    expect(ids.size).to.equal(0);
  });

  it('knows an added id (has) without forgetting it on a lookup', () => {
    const { ids } = setup();
    ids.add('a');
    expect(ids.has('a')).to.equal(true);
    expect(ids.has('a')).to.equal(true);
    expect(ids.has('b')).to.equal(false);
    expect(ids.size).to.equal(1);
  });

  it('firstSeen is true the first time and remembers the id; false for a repeat', () => {
    const { ids } = setup();
    expect(ids.firstSeen('a')).to.equal(true);
    expect(ids.has('a')).to.equal(true);
    expect(ids.firstSeen('a')).to.equal(false);
    expect(ids.firstSeen('b')).to.equal(true);
    expect(ids.size).to.equal(2);
  });

  it('forgets an id windowMs after it was seen (known at window - 1, not at window)', () => {
    const { ids, at } = setup(1000);
    at(100);
    ids.add('a');
    at(1099);
    expect(ids.has('a')).to.equal(true);
    at(1100);
    expect(ids.has('a')).to.equal(false);
    expect(ids.firstSeen('a')).to.equal(true);
  });

  it('does not extend the window on a repeat seen by firstSeen (counted from the first sight)', () => {
    const { ids, at } = setup(1000);
    ids.firstSeen('a');
    at(900);
    expect(ids.firstSeen('a')).to.equal(false);
    at(1000);
    expect(ids.has('a')).to.equal(false);
  });

  it('restarts the window when add is called again for a known id', () => {
    const { ids, at } = setup(1000);
    ids.add('a');
    at(900);
    ids.add('a');
    at(1500);
    expect(ids.has('a')).to.equal(true);
    at(1900);
    expect(ids.has('a')).to.equal(false);
  });

  it('prunes expired ids from memory on the next add', () => {
    const { ids, at } = setup(1000);
    ids.add('a');
    ids.add('b');
    at(500);
    ids.add('c');
    expect(ids.size).to.equal(3);
    at(1000);
    ids.add('d');
    expect(ids.size).to.equal(2); // a and b are gone; c (500) and d stay
    expect(ids.has('c')).to.equal(true);
    expect(ids.evictions).to.equal(0);
  });

  it('keeps first-sight order after a re-add: a refreshed id is not pruned with the old ones', () => {
    const { ids, at } = setup(1000);
    ids.add('a');
    ids.add('b');
    at(800);
    ids.add('a'); // refreshed: now younger than b
    at(1000);
    ids.add('c'); // prunes b (0), must not stop at a
    expect(ids.size).to.equal(2);
    expect(ids.has('a')).to.equal(true);
    expect(ids.has('b')).to.equal(false);
  });

  it('applies a changed windowMs to the ids already held', () => {
    const { ids, at } = setup(1000);
    ids.add('a');
    at(600);
    expect(ids.has('a')).to.equal(true);
    ids.windowMs = 500;
    expect(ids.has('a')).to.equal(false);
    ids.windowMs = 5000;
    expect(ids.has('a')).to.equal(true);
  });

  it('holds at most capacity ids: the oldest is forgotten early and counted in evictions', () => {
    const { ids } = setup(1000, 3);
    for (const id of ['a', 'b', 'c']) ids.add(id);
    expect(ids.evictions).to.equal(0);
    ids.add('d');
    expect(ids.size).to.equal(3);
    expect(ids.evictions).to.equal(1);
    expect(ids.has('a')).to.equal(false);
    expect(['b', 'c', 'd'].map((id) => ids.has(id))).to.deep.equal([true, true, true]);
    ids.add('e');
    expect(ids.evictions).to.equal(2);
    expect(ids.has('b')).to.equal(false);
  });

  it('lets a repeat of an evicted id through (firstSeen true again)', () => {
    const { ids } = setup(1000, 2);
    ids.add('a');
    ids.add('b');
    ids.add('c');
    expect(ids.firstSeen('a')).to.equal(true);
    expect(ids.evictions).to.equal(2); // adding a back evicted b
  });

  it('does not evict when a known id is added again at capacity', () => {
    const { ids } = setup(1000, 2);
    ids.add('a');
    ids.add('b');
    ids.add('a');
    expect(ids.size).to.equal(2);
    expect(ids.evictions).to.equal(0);
    expect(ids.has('b')).to.equal(true);
  });

  it('evicts nothing when expired ids make room first', () => {
    const { ids, at } = setup(1000, 2);
    ids.add('a');
    ids.add('b');
    at(1000);
    ids.add('c');
    expect(ids.evictions).to.equal(0);
    expect(ids.size).to.equal(1);
  });

  it('defaults to a capacity of 100,000 ids', () => {
    expect(DEDUP_CAPACITY).to.equal(100_000);
    const { ids } = setup(1000);
    for (let i = 0; i <= DEDUP_CAPACITY; i++) ids.add(`id${i}`);
    expect(ids.size).to.equal(DEDUP_CAPACITY);
    expect(ids.evictions).to.equal(1);
    expect(ids.has('id0')).to.equal(false);
    expect(ids.has('id1')).to.equal(true);
  });
});
