import { expect } from 'chai';
import { SlicedQueue } from '../../src/time/sliced-queue.ts';

/**
 * A fake event loop: `nextTurn()` promises settle only when the test calls `turn()`,
 * and the clock moves only when an item says it took time.
 */
class FakeLoop {
  time = 0;
  private waiting: Array<() => void> = [];

  readonly now = () => this.time;
  readonly nextTurn = () => new Promise<void>((resolve) => this.waiting.push(resolve));

  /** Ends the current turn: everything waiting for the next one runs, with its microtasks. */
  async turn(): Promise<void> {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
    await flushMicrotasks();
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}

function queueOn(loop: FakeLoop, sliceMs = 5, errors: unknown[] = []): SlicedQueue {
  return new SlicedQueue({ sliceMs, now: loop.now, nextTurn: loop.nextTurn, onError: (error) => errors.push(error) });
}

describe('SlicedQueue', () => {
  describe('#push', () => {
    it('runs nothing within the turn that pushed, and everything in order on a later one', async () => {
      const loop = new FakeLoop();
      const queue = queueOn(loop);
      const ran: number[] = [];
      for (let i = 0; i < 3; i++) queue.push(() => void ran.push(i));
      await flushMicrotasks();
      expect(ran, 'before any turn').to.deep.equal([]);
      await loop.turn();
      expect(ran).to.deep.equal([0, 1, 2]);
      expect(queue.length).to.equal(0);
    });

    it('runs each item at once with a slice of 0 ms', () => {
      const loop = new FakeLoop();
      const queue = queueOn(loop, 0);
      const ran: number[] = [];
      queue.push(() => void ran.push(1));
      expect(ran).to.deep.equal([1]);
      expect(queue.sliceCount).to.equal(0);
    });
  });

  describe('slices', () => {
    it('stops a slice once its items took sliceMs, and goes on after a turn of the loop', async () => {
      const loop = new FakeLoop();
      const queue = queueOn(loop, 5);
      const ran: number[] = [];
      for (let i = 0; i < 10; i++) {
        queue.push(() => {
          ran.push(i);
          loop.time += 2;
        });
      }
      await loop.turn(); // the drain starts
      console.log(`      after the first slice: ${ran.length} of 10 ran, ${queue.length} wait`);
      expect(ran).to.deep.equal([0, 1, 2]); // 0, 2, 4 ms at their start; 6 ms stops it
      await loop.turn();
      expect(ran).to.deep.equal([0, 1, 2, 3, 4, 5]);
      await loop.turn();
      await loop.turn();
      expect(ran).to.have.length(10);
      expect(queue.sliceCount).to.equal(4);
    });

    it('counts the microtasks of an item that settles without I/O within its slice', async () => {
      const loop = new FakeLoop();
      const queue = queueOn(loop, 5);
      const ran: number[] = [];
      for (let i = 0; i < 4; i++) {
        queue.push(async () => {
          await Promise.resolve();
          ran.push(i);
          loop.time += 3; // after the first await: only counted if the slice waited for it
        });
      }
      await loop.turn();
      expect(ran).to.deep.equal([0, 1]);
    });

    it('ends the slice at an item waiting for I/O, and does not hold the next ones back for it', async () => {
      const loop = new FakeLoop();
      const queue = queueOn(loop, 5);
      const ran: string[] = [];
      let release!: () => void;
      queue.push(() => new Promise<void>((resolve) => (release = resolve)).then(() => void ran.push('slow done')));
      queue.push(() => void ran.push('next'));
      await loop.turn(); // the drain starts: the slow item begins and waits
      expect(ran).to.deep.equal([]);
      await loop.turn(); // its slice ends at the turn; the next slice runs the next item
      expect(ran).to.deep.equal(['next']);
      release();
      await flushMicrotasks();
      expect(ran).to.deep.equal(['next', 'slow done']);
    });

    it('starts again when work is pushed after the queue ran dry', async () => {
      const loop = new FakeLoop();
      const queue = queueOn(loop);
      const ran: number[] = [];
      queue.push(() => void ran.push(1));
      await loop.turn();
      await loop.turn();
      queue.push(() => void ran.push(2));
      await loop.turn();
      expect(ran).to.deep.equal([1, 2]);
    });
  });

  describe('errors', () => {
    it('reports an item that throws or rejects, and runs the rest', async () => {
      const loop = new FakeLoop();
      const errors: unknown[] = [];
      const queue = queueOn(loop, 5, errors);
      const ran: number[] = [];
      queue.push(() => {
        throw new Error('sync');
      });
      queue.push(() => Promise.reject(new Error('async')));
      queue.push(() => void ran.push(3));
      await loop.turn();
      await loop.turn();
      expect(errors.map((e) => (e as Error).message)).to.deep.equal(['sync', 'async']);
      expect(ran).to.deep.equal([3]);
    });
  });

  describe('a long queue', () => {
    it('runs 100,000 items in order, in slices', async () => {
      const loop = new FakeLoop();
      const queue = queueOn(loop, 5);
      let next = 0;
      let outOfOrder = 0;
      for (let i = 0; i < 100_000; i++) {
        queue.push(() => {
          if (i !== next++) outOfOrder++;
          if (i % 100 === 99) loop.time += 1;
        });
      }
      while (queue.length > 0) await loop.turn();
      console.log(`      100,000 items in ${queue.sliceCount} slices, ${outOfOrder} out of order`);
      expect(next).to.equal(100_000);
      expect(outOfOrder).to.equal(0);
      expect(queue.sliceCount).to.be.within(195, 205); // 500 items (5 ms) a slice;
    });
  });
});
