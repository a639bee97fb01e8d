/**
 * Reading the frames of the cross-node bench. Every pushed message is
 * `<tag>|<field>|...` padded to a fixed size; the tag names the run it belongs to, so
 * a late frame of an earlier run is never counted in a later one.
 *
 * - `LatencyRun`: message `<tag>|<seq>|<send time>|`, one frame expected per seq on
 *   one known socket; records latency (arrival - send time), duplicates, misroutes.
 * - `BurstRun`: message `<tag>|d<k>|`, many pushes with few distinct strings; records
 *   each socket's frames in arrival order, to compare with what coalescing should give.
 */

/** Routes every frame to the run named by its tag. */
export class FrameRouter {
  /** Frames whose tag names no run (or that do not parse). */
  unknown = 0;
  private readonly runs = new Map<string, { frame(index: number, fields: string[], at: number): void }>();

  add(tag: string, run: { frame(index: number, fields: string[], at: number): void }): void {
    if (tag.includes('|')) throw new Error(`run tag ${JSON.stringify(tag)} must not contain '|'`);
    this.runs.set(tag, run);
  }

  frame(index: number, data: Buffer, at: number): void {
    const fields = data.toString('latin1').split('|');
    const run = this.runs.get(fields[0]);
    if (run && fields.length >= 3) run.frame(index, fields, at);
    else this.unknown++;
  }
}

/** `head` padded with dots to exactly `bytes` (ASCII), so a frame of another size is foreign. */
export function padded(head: string, bytes: number): string {
  if (head.length > bytes) throw new Error(`message head ${JSON.stringify(head)} is longer than the payload size ${bytes}`);
  return head + '.'.repeat(bytes - head.length);
}

export class LatencyRun {
  /** Milliseconds from just before the push request to the frame's arrival, per seq (NaN: not arrived). */
  readonly latency: Float64Array;
  readonly counts: Uint16Array;
  /** Milliseconds from just before the push request to its answer, per seq (NaN: not answered). */
  readonly answer: Float64Array;
  received = 0;
  duplicates = 0;
  /** Frames that arrived on another socket than their user's. */
  misrouted = 0;
  /** `performance.now()` of the last first arrival. */
  lastArrival = 0;
  private waiter: { seq: number; resolve: () => void } | undefined;

  constructor(
    readonly tag: string,
    readonly total: number,
    private readonly socketOf: (seq: number) => number,
  ) {
    this.latency = new Float64Array(total).fill(NaN);
    this.counts = new Uint16Array(total);
    this.answer = new Float64Array(total).fill(NaN);
  }

  /** The message for `seq`, stamped with `sentAt` (`performance.now()` just before the request). */
  message(seq: number, sentAt: number, bytes: number): string {
    return padded(`${this.tag}|${seq}|${sentAt.toFixed(3)}|`, bytes);
  }

  frame(index: number, fields: string[], at: number): void {
    const seq = Number(fields[1]);
    const sentAt = Number(fields[2]);
    if (!Number.isInteger(seq) || seq < 0 || seq >= this.total || !Number.isFinite(sentAt)) {
      this.misrouted++;
      return;
    }
    if (index !== this.socketOf(seq)) this.misrouted++;
    if (++this.counts[seq] > 1) {
      this.duplicates++;
      return;
    }
    this.latency[seq] = at - sentAt;
    this.received++;
    this.lastArrival = at;
    if (this.waiter?.seq === seq) this.waiter.resolve();
  }

  /** Resolves when `seq` arrives (at once if it did); one waiter at a time. */
  arrival(seq: number): Promise<void> {
    if (this.counts[seq] > 0) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = { seq, resolve }));
  }

  /** Records when the push of `seq` was answered. */
  answered(seq: number, sentAt: number, at: number): void {
    this.answer[seq] = at - sentAt;
  }

  missing(): number {
    return this.total - this.received;
  }

  /** The latencies of the frames that arrived, sorted ascending. */
  sorted(): Float64Array {
    return this.latency.filter((v) => !Number.isNaN(v)).sort();
  }

  /** The push requests' own latencies (until the answer), sorted ascending. */
  sortedAnswers(): Float64Array {
    return this.answer.filter((v) => !Number.isNaN(v)).sort();
  }
}

/** One push of a burst: to which socket, which distinct string, and when it was sent and answered. */
export interface BurstPush {
  socket: number;
  k: number;
  sentAt: number;
  answeredAt: number;
}

export interface BurstCheck {
  /** Frames received over all sockets. */
  frames: number;
  /** Frames coalescing should give: per socket, the distinct strings pushed to it. */
  expected: number;
  /** Strings received more than once on a socket, strings never received, frames with a string not pushed to that socket. */
  duplicates: number;
  missing: number;
  foreign: number;
  /** Pairs received in the order opposite to one the pushes proved (answered before the other was sent). */
  orderViolations: number;
  /** Frames at a different position than in the order of the first push of each string (allowed: those pushes were in flight together). */
  reordered: number;
}

export class BurstRun {
  readonly pushes: BurstPush[] = [];
  /** Per socket, the distinct string indexes in the order of arrival. */
  readonly arrived = new Map<number, number[]>();
  frames = 0;
  firstSentAt = Infinity;
  lastFrameAt = 0;

  constructor(readonly tag: string) {}

  message(k: number, bytes: number): string {
    return padded(`${this.tag}|d${k}|`, bytes);
  }

  /** Records a push; call with the time just before the request and when it was answered. */
  pushed(push: BurstPush): void {
    this.pushes.push(push);
    this.firstSentAt = Math.min(this.firstSentAt, push.sentAt);
  }

  frame(index: number, fields: string[], at: number): void {
    const k = /^d(\d+)$/.exec(fields[1]) ? Number(fields[1].slice(1)) : -1;
    let list = this.arrived.get(index);
    if (!list) this.arrived.set(index, (list = []));
    list.push(k);
    this.frames++;
    this.lastFrameAt = at;
  }

  /** Compares what arrived with what coalescing should deliver: each distinct string once, in arrival order. */
  check(): BurstCheck {
    const result: BurstCheck = { frames: this.frames, expected: 0, duplicates: 0, missing: 0, foreign: 0, orderViolations: 0, reordered: 0 };
    const perSocket = new Map<number, Map<number, { firstIndex: number; sent: number; answered: number }>>();
    this.pushes.forEach((push, i) => {
      let strings = perSocket.get(push.socket);
      if (!strings) perSocket.set(push.socket, (strings = new Map()));
      const seen = strings.get(push.k);
      if (!seen) strings.set(push.k, { firstIndex: i, sent: push.sentAt, answered: push.answeredAt });
      else {
        seen.sent = Math.min(seen.sent, push.sentAt);
        seen.answered = Math.min(seen.answered, push.answeredAt);
      }
    });
    for (const [socket, strings] of perSocket) {
      result.expected += strings.size;
      const got = this.arrived.get(socket) ?? [];
      const once = new Set<number>();
      const known: Array<{ firstIndex: number; sent: number; answered: number }> = [];
      for (const k of got) {
        const pushed = strings.get(k);
        if (!pushed) result.foreign++;
        else if (once.has(k)) result.duplicates++;
        else {
          once.add(k);
          known.push(pushed);
        }
      }
      result.missing += strings.size - once.size;
      // String x arrived before y although y's first push was answered before any push of x was sent: a real reordering.
      let earliestAnsweredAfter = Infinity;
      for (let i = known.length - 1; i >= 0; i--) {
        if (earliestAnsweredAfter < known[i].sent) result.orderViolations++;
        earliestAnsweredAfter = Math.min(earliestAnsweredAfter, known[i].answered);
      }
      const pushOrder = [...known].sort((x, y) => x.firstIndex - y.firstIndex);
      result.reordered += known.filter((x, i) => x !== pushOrder[i]).length;
    }
    for (const socket of this.arrived.keys()) if (!perSocket.has(socket)) result.foreign += this.arrived.get(socket)!.length;
    return result;
  }
}
