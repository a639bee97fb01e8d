/**
 * Who sends what in the ingress bench, and the accounting of its frames (pure).
 *
 * Message `seq` of a run comes from device `seq mod D` (its k-th message, k =
 * floor(seq / D)) and goes to the device's users in turn: user `(d*U + k mod U) mod K`.
 * Each user has two sockets, index u on node A and K+u on node B; each message must
 * arrive once on each. A message is `<tag>|<seq>|<stamp>|` padded to the payload
 * size (frame-runs.ts), the stamp being `performance.now()` of the moment it was
 * due (paced) or sent (all-out).
 */
import { padded } from './frame-runs.ts';

export class IngressPlan {
  constructor(
    /** K */
    readonly users: number,
    /** D */
    readonly devices: number,
    /** U */
    readonly usersPerDevice: number,
  ) {}

  deviceOf(seq: number): number {
    return seq % this.devices;
  }

  /** The index (0..K-1) of the user message `seq` goes to. */
  userOf(seq: number): number {
    const d = seq % this.devices;
    const k = Math.floor(seq / this.devices);
    return (d * this.usersPerDevice + (k % this.usersPerDevice)) % this.users;
  }

  /** The seq of device `d`'s k-th message. */
  seqOf(device: number, k: number): number {
    return k * this.devices + device;
  }
}

export class IngressRun {
  /** Milliseconds from the stamp to the frame, per seq, on A's and on B's socket (NaN: not arrived). */
  readonly latencyA: Float64Array;
  readonly latencyB: Float64Array;
  /** Milliseconds from the stamp to the send's acknowledgement (PUBACK, the push's 202; QoS 0: written). */
  readonly ack: Float64Array;
  /** First arrivals, over both sockets. */
  frames = 0;
  duplicates = 0;
  /** Frames on a socket that is not one of their user's (or that do not parse). */
  misrouted = 0;
  /** Frames that arrived after a later message of the same device on the same socket. */
  reordered = 0;
  /** `performance.now()` of the last first arrival. */
  lastArrival = 0;
  private readonly counts: Uint8Array;
  /** Per socket and device, the highest seq arrived so far (-1: none). */
  private readonly lastSeq: Int32Array;

  constructor(
    readonly tag: string,
    readonly total: number,
    private readonly plan: IngressPlan,
  ) {
    this.latencyA = new Float64Array(total).fill(NaN);
    this.latencyB = new Float64Array(total).fill(NaN);
    this.ack = new Float64Array(total).fill(NaN);
    this.counts = new Uint8Array(total * 2);
    this.lastSeq = new Int32Array(plan.users * 2 * plan.devices).fill(-1);
  }

  /** Frames expected: one per message on each of its user's two sockets. */
  get expected(): number {
    return this.total * 2;
  }

  get missing(): number {
    return this.expected - this.frames;
  }

  message(seq: number, stamp: number, bytes: number): string {
    return padded(`${this.tag}|${seq}|${stamp.toFixed(3)}|`, bytes);
  }

  acknowledged(seq: number, stamp: number, at: number): void {
    this.ack[seq] = at - stamp;
  }

  /** A frame of this run (FrameRouter hands it over split on `|`) on socket `index`, arrived at `at`. */
  frame(index: number, fields: string[], at: number): void {
    const seq = Number(fields[1]);
    const stamp = Number(fields[2]);
    const { users, devices } = this.plan;
    if (!Number.isInteger(seq) || seq < 0 || seq >= this.total || !Number.isFinite(stamp) || index < 0 || index >= users * 2) {
      this.misrouted++;
      return;
    }
    const onB = index >= users;
    if ((onB ? index - users : index) !== this.plan.userOf(seq)) {
      this.misrouted++;
      return;
    }
    const slot = seq * 2 + (onB ? 1 : 0);
    if (++this.counts[slot] > 1) {
      // Uint8 wraps at 256: keep it above 1 so a 257th copy still counts as a duplicate.
      this.counts[slot] = 2;
      this.duplicates++;
      return;
    }
    const order = index * devices + this.plan.deviceOf(seq);
    if (seq < this.lastSeq[order]) this.reordered++;
    else this.lastSeq[order] = seq;
    (onB ? this.latencyB : this.latencyA)[seq] = at - stamp;
    this.frames++;
    this.lastArrival = at;
  }

  /** The latencies of the frames that arrived, sorted ascending: both sockets, or one side. */
  sorted(side?: 'A' | 'B'): Float64Array {
    const pick = (values: Float64Array) => values.filter((v) => !Number.isNaN(v));
    if (side) return pick(side === 'A' ? this.latencyA : this.latencyB).sort();
    const a = pick(this.latencyA);
    const b = pick(this.latencyB);
    const all = new Float64Array(a.length + b.length);
    all.set(a);
    all.set(b, a.length);
    return all.sort();
  }

  sortedAcks(): Float64Array {
    return this.ack.filter((v) => !Number.isNaN(v)).sort();
  }
}
