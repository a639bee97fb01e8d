import { expect } from 'chai';
import { RegistryBatch, type Turn } from '../../src/cluster/registry-batch.ts';
import { FakeTimers } from '../../src/time/timers.ts';

/** A turn the test ends by hand. */
function manualTurn(): Turn & { end(): void; scheduled: number } {
  let run: (() => void) | undefined;
  const turn = {
    scheduled: 0,
    schedule(next: () => void) {
      turn.scheduled++;
      run = next;
      return next;
    },
    cancel(handle: unknown) {
      if (handle === run) run = undefined;
    },
    end() {
      const next = run;
      run = undefined;
      next?.();
    },
  };
  return turn;
}

function setupBatch(sockets: Record<string, number> = {}) {
  const turn = manualTurn();
  const timers = new FakeTimers();
  const published: string[] = [];
  const batch = new RegistryBatch({
    publish: (c, u) => {
      published.push(`${c}:${u}@${timers.now()}`);
      return sockets[`${c}:${u}`] ?? 1;
    },
    windowMs: 500,
    timers,
    turn,
  });
  return { turn, timers, published, batch };
}

describe('RegistryBatch', () => {
  it('publishes a quiet user at the end of the turn, once however often it was marked in it', () => {
    const { turn, published, batch } = setupBatch();
    for (let i = 0; i < 20; i++) batch.mark(1, 3);
    batch.mark(1, 4);
    expect(published).to.deep.equal([]);
    expect(batch.pending).to.equal(2);
    turn.end();
    expect(published).to.deep.equal(['1:3@0', '1:4@0']);
    expect(turn.scheduled).to.equal(1);
    expect(batch.pending).to.equal(0);
  });

  it('holds a change within the window until its end: 40 changes in 2 s are 5 publishes, the last with the final list', () => {
    const { turn, timers, published, batch } = setupBatch();
    for (let i = 0; i < 40; i++) {
      batch.mark(1, 3);
      turn.end();
      timers.advance(50);
    }
    timers.advance(500);
    expect(published).to.deep.equal(['1:3@0', '1:3@500', '1:3@1000', '1:3@1500', '1:3@2000']);
    expect(timers.pendingCount()).to.equal(0);
  });

  it('publishes at once again after a quiet window, and forgets a user whose sockets are gone', () => {
    const sockets: Record<string, number> = {};
    const { turn, timers, published, batch } = setupBatch(sockets);
    batch.mark(1, 3);
    turn.end();
    timers.advance(600);
    sockets['1:3'] = 0; // its last socket closed
    batch.mark(1, 3);
    turn.end();
    batch.mark(1, 3); // a new socket right after: news at once, no window
    turn.end();
    expect(published).to.deep.equal(['1:3@0', '1:3@600', '1:3@600']);
  });

  it('flush() publishes every waiting user now, the end-of-turn ones and the windowed ones, and cancels their timers', () => {
    const { turn, timers, published, batch } = setupBatch();
    batch.mark(1, 3);
    turn.end();
    timers.advance(100);
    batch.mark(1, 3); // waits for the window
    batch.mark(2, 7); // waits for the turn
    batch.flush();
    turn.end();
    timers.advance(1000);
    expect(published).to.deep.equal(['1:3@0', '1:3@100', '2:7@100']);
    expect(timers.pendingCount()).to.equal(0);
    batch.flush();
    expect(published).to.have.length(3);
  });

  it('uses the real end of turn by default', async () => {
    const published: string[] = [];
    const batch = new RegistryBatch({ publish: (c, u) => (published.push(`${c}:${u}`), 1) });
    for (let i = 0; i < 5; i++) batch.mark(2, 7);
    await new Promise((resolve) => setImmediate(resolve));
    expect(published).to.deep.equal(['2:7']);
  });
});
