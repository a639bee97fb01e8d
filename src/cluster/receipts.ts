/**
 * The receiving side of cross-node delivery confirmations: every delivery publish
 * this node gets from another node is confirmed to its sender (awaiting-receipts.ts
 * says why), a repeat too (the first receipt may be what the broker lost). Receipts
 * are gathered per sender process for `delayMs` and go out as one publish, so a
 * stream of deliveries costs one receipt publish per sender per `delayMs`, not one
 * per message.
 */
import type { Timers } from '../time/timers.ts';

export type SendReceipts = (to: string, epoch: string, ns: number[]) => void;

export class Receipts {
  /** "<node>\n<epoch>" -> publish numbers to confirm. */
  private readonly pending = new Map<string, Set<number>>();
  private timer: unknown;
  sent = 0;

  constructor(
    private readonly send: SendReceipts,
    private readonly timers: Timers,
    private readonly delayMs = 10,
  ) {}

  /** Publish `n` of `from`'s process `epoch` arrived here. */
  received(from: string, epoch: string, n: number): void {
    const key = `${from}\n${epoch}`;
    let ns = this.pending.get(key);
    if (!ns) this.pending.set(key, (ns = new Set()));
    ns.add(n);
    if (this.timer === undefined) this.timer = this.timers.setTimeout(() => this.flush(), this.delayMs);
  }

  flush(): void {
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    for (const [key, ns] of this.pending) {
      const [to, epoch] = key.split('\n');
      this.send(to, epoch, [...ns]);
      this.sent++;
    }
    this.pending.clear();
  }

  stop(): void {
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}
