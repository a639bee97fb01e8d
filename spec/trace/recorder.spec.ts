import { expect } from 'chai';
import { NO_MESSAGE, TraceRecorder, TraceRing } from '../../src/trace/recorder.ts';

describe('TraceRing', () => {
  describe('#open', () => {
    it('gives a new id a handle, and the same handle again while it is held', () => {
      const ring = new TraceRing(3);
      const a = ring.open('a');
      expect(a).to.not.equal(NO_MESSAGE);
      expect(ring.open('a')).to.equal(a);
      expect(ring.find('a')).to.equal(a);
      expect(ring.find('b')).to.equal(NO_MESSAGE);
    });

    it('holds the last `messages` ids: the oldest is forgotten first, with its events', () => {
      const ring = new TraceRing(2);
      const a = ring.open('a');
      ring.record(a, 1, 10);
      ring.open('b');
      ring.open('c');
      expect(ring.size).to.equal(2);
      expect(ring.read('a')).to.equal(undefined);
      expect(ring.read('b')).to.deep.equal([]);
      expect(ring.read('c')).to.deep.equal([]);
    });

    it('holds nothing with a size of 0', () => {
      const ring = new TraceRing(0);
      const handle = ring.open('a');
      expect(handle).to.equal(NO_MESSAGE);
      ring.record(handle, 1, 10);
      expect(ring.read('a')).to.equal(undefined);
      expect(ring.size).to.equal(0);
    });
  });

  describe('#record', () => {
    it('keeps every field of each event, in the order recorded, per message', () => {
      const ring = new TraceRing(4);
      const a = ring.open('a');
      const b = ring.open('b');
      ring.record(a, 1, 10, 'x', 'y', 'z', 3, 4);
      ring.record(b, 2, 11, 'other');
      ring.record(a, 7, 12, 'conn-1');
      expect(ring.read('a')).to.deep.equal([
        { kind: 1, at: 10, a: 'x', b: 'y', c: 'z', n: 3, m: 4 },
        { kind: 7, at: 12, a: 'conn-1', b: undefined, c: undefined, n: 0, m: 0 },
      ]);
      expect(ring.read('b')).to.deep.equal([{ kind: 2, at: 11, a: 'other', b: undefined, c: undefined, n: 0, m: 0 }]);
    });

    it('ignores an event for a message evicted since its handle was taken (the slot holds another now)', () => {
      const ring = new TraceRing(1);
      const a = ring.open('a');
      ring.open('b');
      ring.record(a, 1, 10);
      expect(ring.read('b')).to.deep.equal([]);
    });

    it('keeps the newest events of a message that has more than the ring holds, and stops at the first overwritten one', () => {
      const ring = new TraceRing(1, 3); // 3 events in all
      const a = ring.open('a');
      for (let i = 1; i <= 5; i++) ring.record(a, i, i);
      expect(ring.read('a')!.map((e) => e.kind)).to.deep.equal([3, 4, 5]);
    });

    it("drops a message's oldest events when other messages' events overwrite them, keeping its later ones", () => {
      const ring = new TraceRing(2, 2); // 4 events in all
      const a = ring.open('a');
      const b = ring.open('b');
      ring.record(a, 1, 1);
      ring.record(a, 2, 2);
      ring.record(b, 3, 3);
      ring.record(b, 4, 4);
      ring.record(b, 5, 5); // overwrites a's first
      ring.record(a, 6, 6); // overwrites a's second
      expect(ring.read('a')!.map((e) => e.kind)).to.deep.equal([6]);
      expect(ring.read('b')!.map((e) => e.kind)).to.deep.equal([3, 4, 5]);
    });

    it('stays bounded over many messages: size and memory never pass the capacity', () => {
      const ring = new TraceRing(100, 2);
      for (let i = 0; i < 10_000; i++) {
        const h = ring.open(`m${i}`);
        ring.record(h, 1, i, `c${i}`);
        ring.record(h, 2, i);
      }
      expect(ring.size).to.equal(100);
      expect(ring.read('m9899')).to.equal(undefined);
      expect(ring.read('m9999')!.map((e) => e.a)).to.deep.equal(['c9999', undefined]);
    });
  });
});

describe('TraceRecorder', () => {
  it('keeps messages opened with keep apart: the stream of other messages does not evict them', () => {
    const recorder = new TraceRecorder(2, 2);
    const kept = recorder.open('important', true);
    recorder.record(kept, 1, 1);
    for (let i = 0; i < 50; i++) recorder.record(recorder.open(`m${i}`), 1, i);
    expect(recorder.read('important')).to.deep.equal({ kept: true, events: [{ kind: 1, at: 1, a: undefined, b: undefined, c: undefined, n: 0, m: 0 }] });
    expect(recorder.read('m0')).to.equal(undefined);
    expect(recorder.read('m49')?.kept).to.equal(false);
    expect(recorder.size).to.deep.equal({ recent: 2, kept: 1 });
  });

  it('bounds the kept ones too: the last `keep`', () => {
    const recorder = new TraceRecorder(10, 2);
    for (const id of ['k1', 'k2', 'k3']) recorder.open(id, true);
    expect(recorder.read('k1')).to.equal(undefined);
    expect(recorder.read('k3')?.kept).to.equal(true);
  });

  it('finds a kept message by id without the flag (a later step on the same node)', () => {
    const recorder = new TraceRecorder(10, 2);
    const h = recorder.open('k', true);
    expect(recorder.open('k')).to.equal(h);
    recorder.record(recorder.open('k'), 5, 5);
    expect(recorder.read('k')!.events.map((e) => e.kind)).to.deep.equal([5]);
  });

  it('keeps a message already in the recent ring there when it is opened again with keep', () => {
    const recorder = new TraceRecorder(10, 2);
    const h = recorder.open('m');
    expect(recorder.open('m', true)).to.equal(h);
  });

  it('puts messages flagged keep in the recent ring when keep is 0', () => {
    const recorder = new TraceRecorder(10, 0);
    recorder.record(recorder.open('k', true), 1, 1);
    expect(recorder.read('k')).to.deep.include({ kept: false });
  });

  it('records nothing with both sizes 0', () => {
    const recorder = new TraceRecorder(0, 0);
    recorder.record(recorder.open('a', true), 1, 1);
    recorder.record(recorder.open('b'), 1, 1);
    expect(recorder.read('a')).to.equal(undefined);
    expect(recorder.read('b')).to.equal(undefined);
  });
});
