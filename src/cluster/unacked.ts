/**
 * Events published with QoS 1 that the broker has not acknowledged yet, sent again
 * when the PUBACK is late. Why: MQTT 3.1.1 resends an unacknowledged publish only
 * on a new connection, and a broker may drop one without closing the connection:
 * NATS answers no PUBACK when it cannot store the message (a JetStream stream
 * losing its leader as a server dies), and the message is gone. A second copy is
 * harmless: every delivery, command and push-id announcement carries an id the
 * receivers deduplicate by. Retained state (presence, registry, sessions) is never
 * resent from here: an old copy could overwrite a newer one; it is republished
 * whole on reconnection instead.
 *
 * O(1) per publish: entries sit in insertion order (oldest first) and one timer
 * sweeps the head while anything waits.
 */
import type { Timers } from '../time/timers.ts';
import type { Publish } from './outbox.ts';

interface Entry {
  publish: Publish;
  sentAt: number;
  resends: number;
}

export interface UnackedOptions {
  /** Sends the publish again; `acked` is to be called on its PUBACK. False when the link is not online (nothing sent). */
  resend: (publish: Publish, acked: () => void) => boolean;
  timers: Timers;
  /** How long a PUBACK may take before the publish goes out again (ms). */
  afterMs: number;
  /** Sends of one publish beyond the first, at most; then it is given up. */
  maxResends?: number;
  onResend?: (publish: Publish, resends: number) => void;
  onGiveUp?: (publish: Publish) => void;
}

export class Unacked {
  private seq = 0;
  private readonly waiting = new Map<number, Entry>();
  private timer: unknown;
  readonly stats = { resent: 0, givenUp: 0 };

  constructor(private readonly options: UnackedOptions) {}

  /** A publish just sent: returns what to call on its PUBACK. */
  track(publish: Publish): () => void {
    const n = ++this.seq;
    this.waiting.set(n, { publish, sentAt: this.options.timers.now(), resends: 0 });
    this.arm();
    return () => this.acked(n);
  }

  get size(): number {
    return this.waiting.size;
  }

  /** Forgets everything (the link closes for good). */
  clear(): void {
    this.waiting.clear();
    if (this.timer !== undefined) this.options.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private acked(n: number): void {
    this.waiting.delete(n);
  }

  private arm(): void {
    if (this.timer !== undefined || this.waiting.size === 0) return;
    this.timer = this.options.timers.setTimeout(() => {
      this.timer = undefined;
      this.sweep();
      this.arm();
    }, this.options.afterMs / 2);
  }

  private sweep(): void {
    const { timers, afterMs, maxResends = 3 } = this.options;
    const now = timers.now();
    for (const [n, entry] of [...this.waiting]) {
      if (now - entry.sentAt < afterMs) break; // the rest are younger
      this.waiting.delete(n);
      if (entry.resends >= maxResends) {
        this.stats.givenUp++;
        this.options.onGiveUp?.(entry.publish);
        continue;
      }
      // Back at the end (the newest), under the same number: the first send's PUBACK still counts.
      const again = { ...entry, sentAt: now };
      if (this.options.resend(entry.publish, () => this.acked(n))) {
        again.resends++;
        this.stats.resent++;
        this.options.onResend?.(entry.publish, again.resends);
      } // else offline: mqtt.js sends its stored copy on the next connection; keep waiting for that.
      this.waiting.set(n, again);
    }
  }
}
