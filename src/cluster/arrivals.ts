/**
 * Lookups waiting for a record that has not reached this node yet, by key, each with
 * its own deadline. Why a node waits at all after its barrier: a broker may hold a
 * message back and send it again later, out of order (NATS does so past
 * `max_ack_pending` messages in flight to one MQTT session, until `ack_wait`), so a
 * marker can come back before a record the broker had already acknowledged.
 */
import type { Timers } from '../time/timers.ts';

interface Waiter<T> {
  resolve: (value: T | undefined) => void;
  timer: unknown;
}

export class Arrivals<T> {
  private readonly waiting = new Map<string, Set<Waiter<T>>>();

  constructor(private readonly timers: Timers) {}

  /** Resolves with the value delivered under `key` within `ms`, else undefined. */
  wait(key: string, ms: number): Promise<T | undefined> {
    return new Promise((resolve) => {
      let waiters = this.waiting.get(key);
      if (!waiters) this.waiting.set(key, (waiters = new Set()));
      const waiter: Waiter<T> = {
        resolve,
        timer: this.timers.setTimeout(() => this.settle(key, waiter, undefined), ms),
      };
      waiters.add(waiter);
    });
  }

  /** The record arrived: every lookup waiting for `key` gets it. */
  deliver(key: string, value: T): void {
    const waiters = this.waiting.get(key);
    if (!waiters) return;
    for (const waiter of [...waiters]) this.settle(key, waiter, value);
  }

  /** Lookups still waiting (for stats and tests). */
  get size(): number {
    let n = 0;
    for (const waiters of this.waiting.values()) n += waiters.size;
    return n;
  }

  /** Every waiting lookup answers undefined now (the store closes). */
  close(): void {
    for (const [key, waiters] of [...this.waiting]) for (const waiter of [...waiters]) this.settle(key, waiter, undefined);
  }

  private settle(key: string, waiter: Waiter<T>, value: T | undefined): void {
    const waiters = this.waiting.get(key);
    if (!waiters?.delete(waiter)) return;
    if (waiters.size === 0) this.waiting.delete(key);
    this.timers.clearTimeout(waiter.timer);
    waiter.resolve(value);
  }
}
