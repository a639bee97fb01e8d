import { expect } from 'chai';
import { advance, cloneCursor, formatCursor, freshCursor, MAX_ORIGINS, parseCursor, seen } from '../../src/history/cursor.ts';

const at = (origin: string, seq: number, time: number, prev = 0, prevAt = 0) => ({ origin, seq, at: time, prev, prevAt });

describe('history cursor', () => {
  it('round-trips through its offset string, URL-safe', () => {
    const cursor = freshCursor(1_000);
    advance(cursor, at('0000000a', 5, 1_200));
    advance(cursor, at('0000000b', 70, 1_300));
    const text = formatCursor(cursor);
    expect(text).to.match(/^[0-9a-z.-]+$/);
    expect(parseCursor(text)).to.deep.equal(cursor);
  });

  it('counts a message seen by its origin and seq, and one of an unknown origin by the stream start', () => {
    const cursor = freshCursor(1_000);
    advance(cursor, at('0000000a', 5, 1_200));
    expect(seen(cursor, at('0000000a', 5, 1_200))).to.equal(true);
    expect(seen(cursor, at('0000000a', 4, 1_100))).to.equal(true);
    expect(seen(cursor, at('0000000a', 6, 1_250))).to.equal(false);
    expect(seen(cursor, at('0000000b', 1, 999))).to.equal(true);
    expect(seen(cursor, at('0000000b', 1, 1_000))).to.equal(false);
  });

  it('never moves an origin back', () => {
    const cursor = freshCursor(0);
    advance(cursor, at('0000000a', 9, 10));
    advance(cursor, at('0000000a', 3, 5));
    expect(cursor.origins['0000000a']).to.deep.equal({ seq: 9, at: 10 });
  });

  it(`forgets the origin heard of longest ago past ${MAX_ORIGINS}, moving the stream start so nothing seen becomes unseen`, () => {
    const cursor = freshCursor(0);
    for (let i = 0; i <= MAX_ORIGINS; i++) advance(cursor, at(i.toString(16).padStart(8, '0'), 1, 100 + i));
    expect(Object.keys(cursor.origins)).to.have.length(MAX_ORIGINS);
    expect(cursor.origins['00000000']).to.equal(undefined);
    expect(seen(cursor, at('00000000', 1, 100))).to.equal(true);
    expect(parseCursor(formatCursor(cursor))).to.deep.equal(cursor);
  });

  it('opens a gap when a message names a prev it never got, writes the late one, and closes the gap', () => {
    const cursor = freshCursor(0);
    advance(cursor, at('0000000a', 2, 10));
    advance(cursor, at('0000000a', 9, 20, 7)); // 7 (and what came between 2 and 7) went missing
    expect(cursor.origins['0000000a']).to.deep.equal({ seq: 9, at: 20, gaps: [[2, 7]] });
    expect(seen(cursor, at('0000000a', 7, 15, 5))).to.equal(false);
    expect(seen(cursor, at('0000000a', 8, 15))).to.equal(true);
    expect(parseCursor(formatCursor(cursor))).to.deep.equal(cursor);
    advance(cursor, at('0000000a', 7, 15, 5)); // 7 arrives late; 5 is still missing
    expect(cursor.origins['0000000a'].gaps).to.deep.equal([[2, 5]]);
    advance(cursor, at('0000000a', 5, 12, 2));
    expect(cursor.origins['0000000a']).to.deep.equal({ seq: 9, at: 20 });
  });

  it("an origin's first message whose prev came after the stream began opens a gap from 0, which ignores what is older than the stream", () => {
    const cursor = freshCursor(100);
    advance(cursor, at('0000000a', 9, 130, 7, 120)); // 7 was pushed after the stream began, and overtaken
    expect(cursor.origins['0000000a'].gaps).to.deep.equal([[0, 7]]);
    expect(seen(cursor, at('0000000a', 7, 120, 3, 90))).to.equal(false);
    expect(seen(cursor, at('0000000a', 3, 90))).to.equal(true); // before the stream: not the socket's
    advance(cursor, at('0000000a', 7, 120, 3, 90)); // 7 came; 3 is from before the stream
    expect(cursor.origins['0000000a']).to.deep.equal({ seq: 9, at: 130 });
    const other = freshCursor(100);
    advance(other, at('0000000b', 9, 130, 7, 99)); // its prev is from before the stream: no gap
    expect(other.origins['0000000b']).to.deep.equal({ seq: 9, at: 130 });
  });

  it('refuses what is not an offset', () => {
    for (const text of ['', '1', '2.abc', '1.', '1.!!', '1.ab.0000000a-1', '1.ab.0000000a-1-2-3', '1.ab.XYZ-1-2', '1.ab.0000000a-1-2.0000000a-3-4', '1.ab.0000000a-5-2-3~1', '1.ab.0000000a-5-2-1~9', '1.ab.0000000a-5-2-1~2~3', 'x'.repeat(5000)]) {
      expect(parseCursor(text), text).to.equal(undefined);
    }
  });

  it('clones deeply', () => {
    const cursor = freshCursor(0);
    advance(cursor, at('0000000a', 1, 1));
    const copy = cloneCursor(cursor);
    advance(copy, at('0000000a', 2, 2));
    expect(cursor.origins['0000000a']).to.deep.equal({ seq: 1, at: 1 });
  });
});
