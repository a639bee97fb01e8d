/**
 * A FIFO of work run in slices of a few milliseconds, with a turn of the event loop
 * (its I/O, so `/healthz` among it) between two slices. The node puts through it what
 * arrives in thousands at once in a reconnect storm: the upgrades and the sockets'
 * closes. Run where they arrive, each batch (everything epoll reported ready)
 * was handled in one turn: 15,000 closes held the loop for 2-3 s, and thousands of
 * upgrades as long (docs/operations.md, "Reconnect storm").
 *
 * An item may return a promise: the slice waits for it, but not past the next turn
 * (`nextTurn`), so an upgrade that waits for real I/O (the broker's subscription, an
 * authentication service) ends the slice instead of holding up the ones behind it,
 * while one that finishes within its microtasks is counted whole in the slice's time.
 * One queue for both kinds keeps their order: a client's close is handled before
 * the upgrade it reconnects with.
 */

export interface SlicedQueueOptions {
  /** Milliseconds of work one slice may start items for; 0 runs each item as it arrives. */
  sliceMs: number;
  now: () => number;
  /** Resolves on a later turn of the event loop, after its I/O (`setImmediate`). */
  nextTurn: () => Promise<void>;
  /** An item threw or rejected: the queue goes on. */
  onError: (error: unknown) => void;
}

export const DEFAULTS: Pick<SlicedQueueOptions, 'now' | 'nextTurn' | 'onError'> = {
  now: () => performance.now(),
  nextTurn: () => new Promise((resolve) => setImmediate(resolve)),
  onError: () => {},
};

export type QueuedWork = () => void | Promise<unknown>;

export class SlicedQueue {
  private readonly items: QueuedWork[] = [];
  /** Index of the next item: `shift()` of a long array is O(n) an item. */
  private head = 0;
  private running = false;
  private slices = 0;
  private readonly options: SlicedQueueOptions;

  constructor(options: Partial<SlicedQueueOptions> & Pick<SlicedQueueOptions, 'sliceMs'>) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Items waiting for a slice. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Slices run so far (a figure for tests and metrics). */
  get sliceCount(): number {
    return this.slices;
  }

  push(work: QueuedWork): void {
    if (this.options.sliceMs === 0) {
      void this.runOne(work);
      return;
    }
    this.items.push(work);
    if (!this.running) {
      this.running = true;
      // Never within the caller's turn: the caller is the I/O callback the queue defers from.
      void this.options.nextTurn().then(() => this.drain());
    }
  }

  private async drain(): Promise<void> {
    try {
      while (this.length > 0) await this.slice();
    } finally {
      this.running = false;
    }
  }

  private async slice(): Promise<void> {
    this.slices++;
    const { now, nextTurn, sliceMs } = this.options;
    const start = now();
    let turned = false;
    const turn = nextTurn().then(() => {
      turned = true;
    });
    while (this.length > 0 && !turned && now() - start < sliceMs) {
      const pending = this.runOne(this.items[this.head++]);
      if (pending) await Promise.race([pending, turn]);
    }
    this.compact();
    if (!turned) await turn;
  }

  private runOne(work: QueuedWork): Promise<unknown> | undefined {
    try {
      const result = work();
      return result instanceof Promise ? result.catch(this.options.onError) : undefined;
    } catch (error) {
      this.options.onError(error);
      return undefined;
    }
  }

  /** Drops the items run, once they are half the array: amortised O(1) an item. */
  private compact(): void {
    if (this.head * 2 < this.items.length) return;
    this.items.splice(0, this.head);
    this.head = 0;
  }
}
