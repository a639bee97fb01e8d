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
 * after the last of them), and a lane has at most one marker in flight: calls made
 * while one flies gather into the next, which goes out the moment the one in flight
 * is done (group commit). A marker is never shared with a later call: it is
 * published after every call it answers began. So a stream of handshakes costs one
 * marker per round trip, not one each (measured: the markers and their echoes were
 * ~15% of a node's CPU while 2000 sockets opened, one marker per handshake).
 * The wait is bounded: offline, or `timeoutMs` after a batch's first call, `sync`
 * resolves false and the caller answers from what it knows.
 */
import type { Timers } from '../time/timers.ts';
import type { SyncLane } from './topics.ts';

/** Publishes the marker; false when it cannot go out now (the link is down). */
export type SendMarker = (lane: SyncLane, n: number) => boolean;

interface Batch {
  lane: SyncLane;
  n: number;
  waiters: Array<(synced: boolean) => void>;
  timer: unknown;
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
  /** Per lane: the marker in flight (at most one). */
  private readonly flying = new Map<SyncLane, Batch>();

  constructor(
    private readonly send: SendMarker,
    private readonly timers: Timers,
    private readonly timeoutMs: number,
    private readonly defer: (fn: () => void) => void = setImmediate,
    /** Told of each batch that did not come back in time (the node logs it). */
    private readonly onTimeout: (lane: SyncLane, waiters: number) => void = () => {},
  ) {}

  sync(lane: SyncLane): Promise<boolean> {
    return new Promise((resolve) => {
      let batch = this.gathering.get(lane);
      if (!batch) {
        const created: Batch = { lane, n: ++this.seq, waiters: [], timer: undefined };
        created.timer = this.timers.setTimeout(() => {
          this.stats.timeouts++;
          this.onTimeout(lane, created.waiters.length);
          this.finish(created, false);
        }, this.timeoutMs);
        this.gathering.set(lane, created);
        // With a marker in flight, this batch goes out when that one is done.
        if (!this.flying.has(lane)) this.defer(() => this.gathering.get(lane) === created && this.publish(created));
        batch = created;
      }
      batch.waiters.push(resolve);
    });
  }

  /** A marker came back; only this node's own markers resolve anything. */
  arrived(n: number): void {
    for (const batch of this.flying.values()) if (batch.n === n) return this.finish(batch, true);
  }

  /** Our link dropped: markers in flight may never come back; their callers answer from what is known. */
  linkLost(): void {
    for (const batch of [...this.flying.values()]) this.finish(batch, false);
  }

  private publish(batch: Batch): void {
    this.gathering.delete(batch.lane);
    if (!this.send(batch.lane, batch.n)) return this.finish(batch, false);
    this.stats.markers++;
    this.flying.set(batch.lane, batch);
  }

  private finish(batch: Batch, synced: boolean): void {
    this.timers.clearTimeout(batch.timer);
    const wasFlying = this.flying.get(batch.lane) === batch;
    if (wasFlying) this.flying.delete(batch.lane);
    if (this.gathering.get(batch.lane) === batch) this.gathering.delete(batch.lane);
    for (const resolve of batch.waiters) resolve(synced);
    batch.waiters.length = 0;
    // The next batch of this lane was waiting for this marker: it goes out now.
    const next = this.gathering.get(batch.lane);
    if (wasFlying && next) this.publish(next);
  }
}
