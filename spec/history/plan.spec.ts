import { expect } from 'chai';
import { compilePathFilter } from '../../src/delivery/path-filter.ts';
import { advance, freshCursor } from '../../src/history/cursor.ts';
import { planRecovery } from '../../src/history/plan.ts';
import type { HistoryEntry } from '../../src/history/position.ts';
import { StreamWriter } from '../../src/history/stream-writer.ts';

const recipient = { path: '/ws/demo', connectionId: 'me', matcherOf: (filter: string | null) => compilePathFilter(filter) };
const TTL = 300_000;

/** Writes `count` messages through one origin, as a node does, into a ring of `size`. */
function write(writer: StreamWriter, count: number, start: number, size = 100, over: { pathFilter?: string | null; sourceToken?: string } = {}): HistoryEntry[] {
  const ring: HistoryEntry[] = [];
  for (let i = 0; i < count; i++) {
    const { entry, slot } = writer.append({ id: `${writer.origin}-${i}`, message: `m${i}`, contextId: 1, userId: 3, pathFilter: over.pathFilter ?? null, sourceToken: over.sourceToken }, start + i, size);
    ring[slot] = entry;
  }
  return ring.filter(Boolean);
}

describe('history recovery plan', () => {
  it('owes what the cursor has not seen, each origin in order, origins by time (ties by origin)', () => {
    const a = new StreamWriter('0000000a');
    const b = new StreamWriter('0000000b');
    const entries = [...write(a, 5, 1_000), ...write(b, 5, 1_001)];
    const cursor = freshCursor(500);
    for (const entry of entries.filter((e) => e.seq <= 2)) advance(cursor, entry);
    const plan = planRecovery(entries, cursor, recipient, 2_000, TTL);
    expect(plan.recovered).to.equal(true);
    expect(plan.missed.map((e) => `${e.origin.slice(-1)}${e.seq}`)).to.deep.equal(['a3', 'a4', 'b3', 'a5', 'b4', 'b5']);
  });

  it('owes every message of an origin the cursor never heard of, younger than its start', () => {
    const entries = write(new StreamWriter('0000000c'), 4, 1_000);
    const plan = planRecovery(entries, freshCursor(1_002), recipient, 2_000, TTL);
    expect(plan).to.deep.include({ recovered: true });
    expect(plan.missed.map((e) => e.seq)).to.deep.equal([3, 4]);
  });

  it('is not covered when the ring evicted a message the cursor had not seen', () => {
    const writer = new StreamWriter('0000000a');
    const all = write(writer, 10, 1_000, 5);
    const cursor = freshCursor(500);
    for (let seq = 1; seq <= 3; seq++) advance(cursor, { origin: '0000000a', seq, at: 999 + seq, prev: seq - 1, prevAt: seq === 1 ? 0 : 998 + seq });
    expect(planRecovery(all, cursor, recipient, 2_000, TTL)).to.deep.equal({ recovered: false, reason: 'evicted', missed: [] });
    // Seen up to 5: the ring holds 6..10, the gap is covered.
    advance(cursor, { origin: '0000000a', seq: 4, at: 1_003, prev: 3, prevAt: 1_002 });
    advance(cursor, { origin: '0000000a', seq: 5, at: 1_004, prev: 4, prevAt: 1_003 });
    expect(planRecovery(all, cursor, recipient, 2_000, TTL).missed.map((e) => e.seq)).to.deep.equal([6, 7, 8, 9, 10]);
  });

  it('is not covered when an entry in the middle is missing', () => {
    const entries = write(new StreamWriter('0000000a'), 6, 1_000).filter((e) => e.seq !== 4);
    const cursor = freshCursor(500);
    advance(cursor, entries[0]);
    expect(planRecovery(entries, cursor, recipient, 2_000, TTL)).to.deep.include({ recovered: false, reason: 'evicted' });
  });

  it('replays what a gap in the cursor misses (a message lost on the way), and is not covered once it was evicted', () => {
    const entries = write(new StreamWriter('0000000a'), 6, 1_000);
    const cursor = freshCursor(500);
    for (const seq of [1, 2, 5, 6]) advance(cursor, entries[seq - 1]); // 3 and 4 never came
    expect(cursor.origins['0000000a'].gaps).to.deep.equal([[2, 4]]);
    expect(planRecovery(entries, cursor, recipient, 2_000, TTL).missed.map((e) => e.seq)).to.deep.equal([3, 4]);
    expect(planRecovery(entries.filter((e) => e.seq !== 4), cursor, recipient, 2_000, TTL)).to.deep.include({ recovered: false, reason: 'evicted' });
    expect(planRecovery(entries.filter((e) => e.seq !== 3), cursor, recipient, 2_000, TTL)).to.deep.include({ recovered: false, reason: 'evicted' });
  });

  it('is not covered past the window, counted from the newest thing the cursor knows', () => {
    const cursor = freshCursor(1_000);
    expect(planRecovery([], cursor, recipient, 1_000 + TTL, TTL).recovered).to.equal(true);
    expect(planRecovery([], cursor, recipient, 1_001 + TTL, TTL)).to.deep.include({ recovered: false, reason: 'expired' });
  });

  it("applies the socket's path and skips the sender's own socket", () => {
    const writer = new StreamWriter('0000000a');
    const entries = [...write(writer, 1, 1_000, 100, { pathFilter: '/ws/other' }), ...write(writer, 1, 1_001, 100, { sourceToken: 'me' }), ...write(writer, 1, 1_002)];
    const plan = planRecovery(entries, freshCursor(900), recipient, 2_000, TTL);
    expect(plan.missed.map((e) => e.seq)).to.deep.equal([3]);
  });
});

describe('history stream writer', () => {
  it('links each entry to the previous one of its user, and numbers in one counter per origin', () => {
    const writer = new StreamWriter('0000000a');
    const one = writer.append({ id: '1', message: 'x', contextId: 1, userId: 3, pathFilter: null }, 10, 100);
    const other = writer.append({ id: '2', message: 'x', contextId: 1, userId: 4, pathFilter: null }, 11, 100);
    const two = writer.append({ id: '3', message: 'x', contextId: 1, userId: 3, pathFilter: null }, 9, 100);
    expect([one.entry.seq, other.entry.seq, two.entry.seq]).to.deep.equal([1, 2, 3]);
    expect(two.entry).to.deep.include({ prev: 1, prevAt: 10, at: 10 }); // the clock stepped back: the time does not
    expect([one.slot, other.slot, two.slot]).to.deep.equal([0, 0, 1]);
  });

  it('forgets users idle before a time, oldest first, with the slots to clear', () => {
    const writer = new StreamWriter('0000000a');
    for (let i = 0; i < 7; i++) writer.append({ id: `${i}`, message: 'x', contextId: 1, userId: 3, pathFilter: null }, 100 + i, 5);
    writer.append({ id: 'u4', message: 'x', contextId: 1, userId: 4, pathFilter: null }, 200, 5);
    expect(writer.sweep(150, 5)).to.deep.equal([{ contextId: 1, userId: 3, slots: 5 }]);
    expect(writer.users).to.equal(1);
  });
});
