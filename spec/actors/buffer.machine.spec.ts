import { expect } from 'chai';
import { createActor } from 'xstate';
import { bufferMachine } from '../../src/actors/buffer.machine.ts';
import { CoalescingQueue, type QueuedEntry } from '../../src/cluster/coalesce.ts';
import { FakeTimers } from '../../src/time/timers.ts';

function start(settings = { delayDuration: 1000, maxDelayDuration: 3000, timerFrequency: 500 }) {
  const timers = new FakeTimers();
  const flushed: Array<{ at: number; entries: QueuedEntry[] }> = [];
  let coalesced = 0;
  const actor = createActor(bufferMachine, {
    input: { queue: new CoalescingQueue(), settings, timers, flush: (entries, at) => flushed.push({ at, entries }), coalesced: (n) => (coalesced += n) },
  }).start();
  const enqueue = (message: string, userId = 3, sourceToken?: string) =>
    actor.send({ type: 'buffer.enqueue', arrival: { id: `id:${message}`, contextId: 1, userId, pathFilter: null, message, sourceToken } });
  return { actor, timers, flushed, enqueue, coalesced: () => coalesced };
}

describe('bufferMachine', () => {
  it('runs no timer while empty', () => {
    const { actor, timers } = start();
    expect(actor.getSnapshot().value).to.equal('idle');
    expect(timers.pendingCount()).to.equal(0);
  });

  it('flushes an entry on the first tick at or after its due time, then stops its timer', () => {
    const { actor, timers, flushed, enqueue } = start();
    enqueue('a');
    expect(actor.getSnapshot().value).to.equal('waiting');
    expect(timers.pendingCount()).to.equal(1);
    timers.advance(999);
    expect(flushed).to.deep.equal([]);
    timers.advance(1); // tick at 1000: due
    expect(flushed.map((f) => f.at)).to.deep.equal([1000]);
    expect(flushed[0].entries[0].payloads).to.deep.equal([{ i: 'id:a', m: 'a' }]);
    expect(actor.getSnapshot().value).to.equal('idle');
    expect(timers.pendingCount()).to.equal(0);
  });

  it('delays by at most maxDelayDuration plus one tick', () => {
    const { timers, flushed, enqueue } = start();
    timers.advance(100);
    enqueue('a'); // first arrival at 100; ticks at 600, 1100, ...
    for (let t = 0; t < 40; t++) {
      timers.advance(100);
      if (!flushed.length) enqueue(`m${t}`);
    }
    expect(flushed).to.have.length(1);
    const { at, entries } = flushed[0];
    expect(at - 100).to.be.within(3000, 3000 + 500);
    expect(entries[0].payloads[0].m).to.equal('a');
  });

  it('coalesces a burst of equal messages into one flush, counting exact duplicates', () => {
    const { timers, flushed, enqueue, coalesced } = start();
    for (let i = 0; i < 50; i++) enqueue(i % 2 ? 'same' : `v${i}`);
    timers.advance(1000);
    expect(flushed).to.have.length(1);
    expect(flushed[0].entries).to.have.length(1);
    expect(flushed[0].entries[0].payloads).to.have.length(26);
    expect(coalesced()).to.equal(24);
  });

  it('forwards at once, without a timer, when delayDuration is 0', () => {
    const { actor, timers, flushed, enqueue } = start({ delayDuration: 0, maxDelayDuration: 0, timerFrequency: 500 });
    enqueue('a', 3, 'conn-1');
    expect(flushed).to.have.length(1);
    expect(flushed[0].entries[0].payloads).to.deep.equal([{ i: 'id:a', m: 'a', s: 'conn-1' }]);
    expect(actor.getSnapshot().value).to.equal('idle');
    expect(timers.pendingCount()).to.equal(0);
  });

  it('applies reloaded settings to the next arrivals and the next tick', () => {
    const { actor, timers, flushed, enqueue } = start();
    enqueue('old');
    actor.send({ type: 'settings.updated', settings: { delayDuration: 100, maxDelayDuration: 200, timerFrequency: 50 } });
    enqueue('new', 4);
    timers.advance(100);
    // The new entry leaves at its own due time on the new pace; the old one keeps its due time.
    expect(flushed.map((f) => f.entries.map((e) => e.userId))).to.deep.equal([[4]]);
    timers.advance(900);
    expect(flushed.map((f) => f.entries.map((e) => e.userId))).to.deep.equal([[4], [3]]);
    expect(flushed[1].at).to.equal(1000);
  });

  it('switches to delayDuration 0 at runtime: the next message goes at once', () => {
    const { actor, flushed, enqueue } = start();
    actor.send({ type: 'settings.updated', settings: { delayDuration: 0, maxDelayDuration: 3000, timerFrequency: 500 } });
    enqueue('now');
    expect(flushed).to.have.length(1);
  });

  it('flushes everything on drain and stops its timer', () => {
    const { actor, timers, flushed, enqueue } = start();
    enqueue('a');
    enqueue('b', 4);
    actor.send({ type: 'buffer.drain' });
    expect(flushed[0].entries).to.have.length(2);
    expect(timers.pendingCount()).to.equal(0);
    expect(actor.getSnapshot().value).to.equal('idle');
  });
});
