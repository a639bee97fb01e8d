import { expect } from 'chai';
import { Barrier } from '../../../src/cluster/barrier.ts';
import type { SyncLane } from '../../../src/cluster/topics.ts';
import { FakeTimers } from '../../../src/time/timers.ts';

const TIMEOUT = 2000;

/** A barrier with a fake clock, a manual event-loop turn (`turn()` runs what was deferred) and a recording send. */
function setup(sendResult: () => boolean = () => true) {
  const timers = new FakeTimers();
  const deferred: Array<() => void> = [];
  const sent: Array<{ lane: SyncLane; n: number }> = [];
  const timedOut: Array<{ lane: SyncLane; waiters: number }> = [];
  const barrier = new Barrier(
    (lane, n) => {
      sent.push({ lane, n });
      return sendResult();
    },
    timers,
    TIMEOUT,
    (fn) => deferred.push(fn),
    (lane, waiters) => timedOut.push({ lane, waiters }),
  );
  const turn = () => {
    for (const fn of deferred.splice(0)) fn();
  };
  return { barrier, timers, sent, turn, deferred, timedOut };
}

/** Lets resolved promises run their callbacks. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Tracks a promise's outcome without awaiting it. */
function track<T>(promise: Promise<T>): { settled: boolean; value?: T } {
  const state: { settled: boolean; value?: T } = { settled: false };
  void promise.then((value) => {
    state.settled = true;
    state.value = value;
  });
  return state;
}

describe('Barrier', () => {
  it('publishes nothing before the turn ends: the marker goes out after the last call of the turn', () => {
    const { barrier, sent, turn, deferred } = setup();
    void barrier.sync('sessions');
    expect(sent).to.deep.equal([]);
    expect(deferred).to.have.length(1);
    turn();
    expect(sent).to.deep.equal([{ lane: 'sessions', n: 1 }]);
  });

  it('gives calls in one turn one shared marker, and resolves them all true on its echo', async () => {
    const { barrier, sent, turn, deferred } = setup();
    const calls = [barrier.sync('sessions'), barrier.sync('sessions'), barrier.sync('sessions')].map(track);
    expect(deferred).to.have.length(1);
    turn();
    expect(sent).to.deep.equal([{ lane: 'sessions', n: 1 }]);
    expect(barrier.stats.markers).to.equal(1);
    await settle();
    expect(calls.map((c) => c.settled)).to.deep.equal([false, false, false]);
    barrier.arrived(1);
    await settle();
    expect(calls.map((c) => c.value)).to.deep.equal([true, true, true]);
  });

  it('gives a call made after the marker was published the next marker, sent only once the one in flight is back (group commit)', async () => {
    const { barrier, sent, turn, deferred } = setup();
    const first = track(barrier.sync('sessions'));
    turn();
    const second = track(barrier.sync('sessions'));
    const third = track(barrier.sync('sessions'));
    expect(deferred, 'nothing deferred: the batch waits for the marker in flight').to.have.length(0);
    turn();
    expect(sent).to.deep.equal([{ lane: 'sessions', n: 1 }]);
    barrier.arrived(1);
    await settle();
    expect(first.value).to.equal(true);
    expect([second.settled, third.settled], 'the in-flight marker never answers a later call').to.deep.equal([false, false]);
    expect(sent, 'the next marker goes out as the one in flight comes back').to.deep.equal([
      { lane: 'sessions', n: 1 },
      { lane: 'sessions', n: 2 },
    ]);
    barrier.arrived(2);
    await settle();
    expect([second.value, third.value]).to.deep.equal([true, true]);
    expect(barrier.stats.markers).to.equal(2);
  });

  it('counts a waiting batch\'s time from its first call: past timeoutMs it answers false even while the marker before it flies', async () => {
    const { barrier, timers, sent, turn } = setup();
    const first = track(barrier.sync('sessions'));
    turn();
    timers.advance(1000);
    const second = track(barrier.sync('sessions'));
    timers.advance(1000); // the first marker's wait is over: it answers false, the second goes out
    await settle();
    expect(first.value).to.equal(false);
    expect(sent.map((s) => s.n)).to.deep.equal([1, 2]);
    timers.advance(TIMEOUT - 1000 - 1);
    await settle();
    expect(second.settled).to.equal(false);
    timers.advance(1);
    await settle();
    expect(second.value).to.equal(false);
    expect(barrier.stats.timeouts).to.equal(2);
    expect(timers.pendingCount()).to.equal(0);
  });

  it('sends the waiting batch when the marker in flight is lost with the link; it fails at once if the link is still down', async () => {
    let up = true;
    const { barrier, sent, turn } = setup(() => up);
    const first = track(barrier.sync('sessions'));
    turn();
    const second = track(barrier.sync('sessions'));
    up = false;
    barrier.linkLost();
    await settle();
    expect([first.value, second.value]).to.deep.equal([false, false]);
    expect(sent.map((s) => s.n)).to.deep.equal([1, 2]);
  });

  it('resolves false after timeoutMs without an echo, and counts the timeout', async () => {
    const { barrier, timers, turn } = setup();
    const call = track(barrier.sync('pushes'));
    turn();
    timers.advance(TIMEOUT - 1);
    await settle();
    expect(call.settled).to.equal(false);
    expect(barrier.stats.timeouts).to.equal(0);
    timers.advance(1);
    await settle();
    expect(call.value).to.equal(false);
    expect(barrier.stats.timeouts).to.equal(1);
  });

  it('tells its owner of each timeout, with the lane and how many callers answered false', async () => {
    const { barrier, timers, turn, timedOut } = setup();
    const calls = [track(barrier.sync('sessions')), track(barrier.sync('sessions')), track(barrier.sync('pushes'))];
    turn();
    timers.advance(TIMEOUT);
    await settle();
    expect(calls.map((c) => c.value)).to.deep.equal([false, false, false]);
    expect(timedOut).to.deep.equal([
      { lane: 'sessions', waiters: 2 },
      { lane: 'pushes', waiters: 1 },
    ]);
  });

  it('clears the timer when the echo arrives: no timeout is counted later', async () => {
    const { barrier, timers, turn } = setup();
    const call = track(barrier.sync('sessions'));
    turn();
    expect(timers.pendingCount()).to.equal(1);
    barrier.arrived(1);
    expect(timers.pendingCount()).to.equal(0);
    timers.advance(TIMEOUT * 2);
    await settle();
    expect(call.value).to.equal(true);
    expect(barrier.stats.timeouts).to.equal(0);
  });

  it('ignores an echo that comes after the timeout (the caller already got false)', async () => {
    const { barrier, timers, turn } = setup();
    const call = track(barrier.sync('sessions'));
    turn();
    timers.advance(TIMEOUT);
    barrier.arrived(1);
    await settle();
    expect(call.value).to.equal(false);
    expect(barrier.stats.timeouts).to.equal(1);
  });

  it('resolves false at once when the marker cannot be sent (link down), arms no timer and counts no marker', async () => {
    const { barrier, timers, sent, turn } = setup(() => false);
    const calls = [barrier.sync('sessions'), barrier.sync('sessions')].map(track);
    turn();
    await settle();
    expect(sent).to.have.length(1);
    expect(calls.map((c) => c.value)).to.deep.equal([false, false]);
    expect(timers.pendingCount()).to.equal(0);
    expect(barrier.stats).to.deep.equal({ markers: 0, timeouts: 0 });
  });

  it('starts a fresh marker after a failed send (the failed batch is not reused)', async () => {
    let up = false;
    const { barrier, sent, turn } = setup(() => up);
    const failed = track(barrier.sync('sessions'));
    turn();
    up = true;
    const next = track(barrier.sync('sessions'));
    turn();
    expect(sent.map((s) => s.n)).to.deep.equal([1, 2]);
    barrier.arrived(2);
    await settle();
    expect(failed.value).to.equal(false);
    expect(next.value).to.equal(true);
  });

  it('ignores unknown marker numbers, an echo of a marker not yet published, and a repeated echo', async () => {
    const { barrier, timers, turn } = setup();
    const call = track(barrier.sync('sessions'));
    barrier.arrived(1); // still gathering: not in flight yet
    turn();
    barrier.arrived(0);
    barrier.arrived(2);
    barrier.arrived(-1);
    barrier.arrived(1.5);
    await settle();
    expect(call.settled).to.equal(false);
    expect(timers.pendingCount()).to.equal(1);
    barrier.arrived(1);
    barrier.arrived(1); // a QoS 1 redelivery of the same marker
    await settle();
    expect(call.value).to.equal(true);
    expect(barrier.stats.markers).to.equal(1);
  });

  it('ignores the echo of an old, already resolved marker for a newer call', async () => {
    const { barrier, turn } = setup();
    void barrier.sync('sessions');
    turn();
    barrier.arrived(1);
    const later = track(barrier.sync('sessions'));
    turn();
    barrier.arrived(1); // redelivered old marker
    await settle();
    expect(later.settled).to.equal(false);
  });

  it('keeps lanes independent: one marker per lane in the same turn, each resolved by its own echo', async () => {
    const { barrier, sent, turn } = setup();
    const sessions = track(barrier.sync('sessions'));
    const pushes = track(barrier.sync('pushes'));
    const sessions2 = track(barrier.sync('sessions'));
    turn();
    expect(sent).to.deep.equal([
      { lane: 'sessions', n: 1 },
      { lane: 'pushes', n: 2 },
    ]);
    barrier.arrived(2);
    await settle();
    expect(pushes.value).to.equal(true);
    expect(sessions.settled).to.equal(false);
    expect(sessions2.settled).to.equal(false);
    barrier.arrived(1);
    await settle();
    expect([sessions.value, sessions2.value]).to.deep.equal([true, true]);
  });

  it('times lanes out independently', async () => {
    const { barrier, timers, turn } = setup();
    const sessions = track(barrier.sync('sessions'));
    turn();
    timers.advance(1000);
    const pushes = track(barrier.sync('pushes'));
    turn();
    timers.advance(1000);
    await settle();
    expect(sessions.value).to.equal(false);
    expect(pushes.settled).to.equal(false);
    timers.advance(1000);
    await settle();
    expect(pushes.value).to.equal(false);
    expect(barrier.stats.timeouts).to.equal(2);
  });

  it('resolves every marker in flight false when the link drops, and clears their timers', async () => {
    const { barrier, timers, turn } = setup();
    const a = track(barrier.sync('sessions'));
    const b = track(barrier.sync('pushes'));
    turn();
    expect(timers.pendingCount()).to.equal(2);
    barrier.linkLost();
    await settle();
    expect([a.value, b.value]).to.deep.equal([false, false]);
    expect(timers.pendingCount()).to.equal(0);
    expect(barrier.stats.timeouts).to.equal(0);
    barrier.arrived(1); // the echo after all: ignored
    timers.advance(TIMEOUT);
    expect(barrier.stats.timeouts).to.equal(0);
  });

  it('leaves a batch still gathering when the link drops: it is published at the end of the turn', async () => {
    const { barrier, sent, turn } = setup();
    const call = track(barrier.sync('sessions'));
    barrier.linkLost();
    await settle();
    expect(call.settled).to.equal(false);
    turn();
    expect(sent).to.deep.equal([{ lane: 'sessions', n: 1 }]);
    barrier.arrived(1);
    await settle();
    expect(call.value).to.equal(true);
  });

  it('does nothing on linkLost with nothing in flight', () => {
    const { barrier, timers } = setup();
    expect(() => barrier.linkLost()).to.not.throw();
    expect(timers.pendingCount()).to.equal(0);
  });

  it('uses setImmediate as the default turn: calls of one synchronous block share a marker', async () => {
    const timers = new FakeTimers();
    const sent: number[] = [];
    const barrier = new Barrier((_lane, n) => sent.push(n) > 0, timers, TIMEOUT);
    const a = track(barrier.sync('sessions'));
    const b = track(barrier.sync('sessions'));
    await settle();
    expect(sent).to.deep.equal([1]);
    barrier.arrived(1);
    await settle();
    expect([a.value, b.value]).to.deep.equal([true, true]);
  });
});
