/**
 * The node's counters. Plain numbers, incremented on the hot path in O(1); the
 * admin stats route reads them, the metrics issue exports them.
 */
import type { ErrorCode } from '../errors.ts';

export type DropReason = 'slowConsumer' | 'closing' | 'offline' | 'filtered';

export class NodeStats {
  handshakesAccepted = 0;
  readonly handshakesRejected = new Map<ErrorCode, number>();
  messagesDelivered = 0;
  messagesReceived = 0;
  readonly dropped = new Map<DropReason, number>();
  slowConsumerCloses = 0;

  rejected(code: ErrorCode): void {
    this.handshakesRejected.set(code, (this.handshakesRejected.get(code) ?? 0) + 1);
  }

  drop(reason: DropReason, count = 1): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + count);
  }

  toJSON() {
    return {
      handshakes: { accepted: this.handshakesAccepted, rejected: Object.fromEntries(this.handshakesRejected) },
      messages: { delivered: this.messagesDelivered, received: this.messagesReceived, dropped: Object.fromEntries(this.dropped) },
      slowConsumerCloses: this.slowConsumerCloses,
    };
  }
}
