/**
 * A logout answers 204 once every node this one sees live said it applied the
 * tombstone. Why not the broker's PUBACK alone: a broker may deliver the tombstone
 * to another node late, behind later messages (NATS past `max_ack_pending` in
 * flight, arrivals.ts), and nothing there could tell one is on its way; so the
 * other nodes confirm, and the 204 means what it says. Bounded: a node that does
 * not confirm within the wait (dead, cut off, overloaded) is reported, and the
 * logout answers anyway.
 */
import type { Timers } from '../time/timers.ts';

interface Pending {
  missing: Set<string>;
  resolve: (missing: string[]) => void;
  timer: unknown;
}

export class EndConfirmations {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly timers: Timers) {}

  /** Resolves with the nodes that did not confirm `sessionId` within `ms` ([] when all did). */
  expect(sessionId: string, nodes: readonly string[], ms: number): Promise<string[]> {
    this.settle(sessionId); // an earlier wait for the same session answers now
    if (nodes.length === 0) return Promise.resolve([]);
    return new Promise((resolve) => {
      this.pending.set(sessionId, {
        missing: new Set(nodes),
        resolve,
        timer: this.timers.setTimeout(() => this.settle(sessionId), ms),
      });
    });
  }

  /** `node` applied the end of `sessionId`. A confirmation nobody waits for is ignored. */
  confirm(sessionId: string, node: string): void {
    const waiting = this.pending.get(sessionId);
    if (!waiting?.missing.delete(node)) return;
    if (waiting.missing.size === 0) this.settle(sessionId);
  }

  /** A node went away: nobody waits for it any more. */
  nodeGone(node: string): void {
    for (const [sessionId, waiting] of [...this.pending]) if (waiting.missing.delete(node) && waiting.missing.size === 0) this.settle(sessionId);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Every wait answers now with what is still missing (shutdown). */
  close(): void {
    for (const sessionId of [...this.pending.keys()]) this.settle(sessionId);
  }

  private settle(sessionId: string): void {
    const waiting = this.pending.get(sessionId);
    if (!waiting) return;
    this.pending.delete(sessionId);
    this.timers.clearTimeout(waiting.timer);
    waiting.resolve([...waiting.missing].sort());
  }
}
