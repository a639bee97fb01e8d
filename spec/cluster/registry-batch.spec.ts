import { expect } from 'chai';
import { RegistryBatch, type Turn } from '../../src/cluster/registry-batch.ts';

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

describe('RegistryBatch', () => {
  it('publishes a user marked 20 times in one turn once, at the end of the turn', () => {
    const turn = manualTurn();
    const published: string[] = [];
    const batch = new RegistryBatch((c, u) => published.push(`${c}:${u}`), turn);
    for (let i = 0; i < 20; i++) batch.mark(1, 3);
    batch.mark(1, 4);
    expect(published).to.deep.equal([]);
    expect(batch.pending).to.equal(2);
    turn.end();
    expect(published).to.deep.equal(['1:3', '1:4']);
    expect(turn.scheduled).to.equal(1);
    expect(batch.pending).to.equal(0);
  });

  it('publishes again in a later turn, and flush() publishes at once and cancels the turn', () => {
    const turn = manualTurn();
    const published: string[] = [];
    const batch = new RegistryBatch((c, u) => published.push(`${c}:${u}`), turn);
    batch.mark(1, 3);
    turn.end();
    batch.mark(1, 3);
    batch.flush();
    turn.end(); // cancelled: nothing more
    expect(published).to.deep.equal(['1:3', '1:3']);
    batch.flush(); // nothing marked: nothing published
    expect(published).to.have.length(2);
  });

  it('uses the real end of turn by default: one publish per user for marks in one synchronous block', async () => {
    const published: string[] = [];
    const batch = new RegistryBatch((c, u) => published.push(`${c}:${u}`));
    for (let i = 0; i < 5; i++) batch.mark(2, 7);
    await new Promise((resolve) => setImmediate(resolve));
    expect(published).to.deep.equal(['2:7']);
  });
});
