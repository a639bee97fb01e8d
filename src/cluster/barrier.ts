/**
 * Read-your-writes through the broker: `sync(lane)` resolves once this node has
 * received everything the broker had accepted, on that lane's subscription, before
 * the call.
 *
 * How: the node publishes a marker (QoS 1) to a topic of the lane's own
 * subscription and waits until the marker comes back. A broker delivers one
 * subscription's messages in the order it accepted them (Mosquitto and aedes per
 * connection; a NATS cluster per JetStream consumer, one per subscription), so
 * whatever another node had acknowledged before the call arrives before the marker.
 * A login acknowledged by the broker on node A is therefore known to node B after
 * `sync('sessions')`, whichever broker server either one uses.
 *
 * Calls in the same turn of the event loop share one marker (the marker goes out
 * after the last of them), so a burst of handshakes costs one round trip. A marker
 * is never shared with a later call: it must be published after the call began.
 * The wait is bounded: offline, or past `timeoutMs`, `sync` resolves false and the
 * caller answers from what it knows.
 */
import type { Timers } from '../time/timers.ts';
import type { SyncLane } from './topics.ts';

/** Publishes the marker; false when it cannot go out now (the link is down). */
export type SendMarker = (lane: SyncLane, n: number) => boolean;

interface Batch {
  n: number;
  waiters: Array<(synced: boolean) => void>;
  timer?: unknown;
}

export interface BarrierStats {
  markers: number;
  timeouts: number;
}

export class Barrier {
  readonly stats: BarrierStats = { markers: 0, timeouts: 0 };
  private seq = 0;
  /** Per lane: the batch still gathering callers (not yet published). */
  private readonly gathering = new Map<SyncLane, Batch>();
  /** Markers in flight, by sequence number. */
  private readonly inFlight = new Map<number, Batch>();

  constructor(
    private readonly send: SendMarker,
    private readonly timers: Timers,
    private readonly timeoutMs: number,
    private readonly defer: (fn: () => void) => void = setImmediate,
    /** Told of each marker that did not come back in time (the node logs it). */
    private readonly onTimeout: (lane: SyncLane, waiters: number) => void = () => {},
  ) {}

  sync(lane: SyncLane): Promise<boolean> {
    return new Promise((resolve) => {
      let batch = this.gathering.get(lane);
      if (!batch) {
        batch = { n: ++this.seq, waiters: [] };
        this.gathering.set(lane, batch);
        const gathered = batch;
        this.defer(() => this.publish(lane, gathered));
      }
      batch.waiters.push(resolve);
    });
  }

  /** A marker came back; only this node's own markers resolve anything. */
  arrived(n: number): void {
    const batch = this.inFlight.get(n);
    if (batch) this.finish(batch, true);
  }

  /** Our link dropped: markers in flight may never come back; their callers answer from what is known. */
  linkLost(): void {
    for (const batch of [...this.inFlight.values()]) this.finish(batch, false);
  }

  private publish(lane: SyncLane, batch: Batch): void {
    this.gathering.delete(lane);
    if (!this.send(lane, batch.n)) return this.finish(batch, false);
    this.stats.markers++;
    this.inFlight.set(batch.n, batch);
    batch.timer = this.timers.setTimeout(() => {
      this.stats.timeouts++;
      this.onTimeout(lane, batch.waiters.length);
      this.finish(batch, false);
    }, this.timeoutMs);
  }

  private finish(batch: Batch, synced: boolean): void {
    this.inFlight.delete(batch.n);
    if (batch.timer !== undefined) this.timers.clearTimeout(batch.timer);
    for (const resolve of batch.waiters) resolve(synced);
    batch.waiters.length = 0;
  }
}
