/**
 * Sockets whose authentication expires: a token's `exp` (plus the clock tolerance),
 * the connect proxy's `expiresAt`. At that moment the socket is closed with 4401,
 * after the protocol's farewell (Socket.IO's `session:invalid`), as when a session
 * ends. One timer per such socket, cancelled when the socket ends first.
 */
import type { Timers } from '../time/timers.ts';

/** Node's setTimeout fires at once past 2^31 - 1 ms (about 24.8 days): longer waits are chained. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export class SocketExpiry<A extends object> {
  private readonly pending = new Map<A, unknown>();

  constructor(
    private readonly timers: Timers,
    private readonly expire: (actor: A) => void,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  arm(actor: A, expiresAt: number): void {
    this.disarm(actor);
    const delay = expiresAt - this.timers.now();
    if (delay <= 0) return this.fire(actor);
    this.pending.set(
      actor,
      this.timers.setTimeout(() => (delay > MAX_DELAY_MS ? this.arm(actor, expiresAt) : this.fire(actor)), Math.min(delay, MAX_DELAY_MS)),
    );
  }

  disarm(actor: A): void {
    const timer = this.pending.get(actor);
    if (timer === undefined) return;
    this.timers.clearTimeout(timer);
    this.pending.delete(actor);
  }

  private fire(actor: A): void {
    this.pending.delete(actor);
    this.expire(actor);
  }
}
