/**
 * Gives the event loop a turn once the broker's packets took `sliceMs` of the current
 * one. mqtt.js handles every packet of what it read in one turn (the next packet on
 * `process.nextTick`), so a burst from the broker held the loop as long as it took:
 * after a wave of pushes, 300 users' deliveries, 7,500 socket writes on the node that
 * held their sockets, were 120-170 ms of one turn (profiled in the reconnect storm's
 * delivery check), with `/healthz` and every socket's reads waiting behind them.
 *
 * mqtt.js calls `handleMessage(packet, callback)` after each PUBLISH's 'message' event
 * and takes the next packet only once the callback ran (its documented back-pressure
 * hook; a QoS 1 PUBACK waits for it too). The pacer calls it at once while the slice
 * lasts, and on the next turn (`setImmediate`, after the loop's I/O) once it is spent.
 * Order is kept: the packets wait in mqtt.js's own queue. The same bound as the
 * admission queue's (server.admissionSlice); 0 turns pacing off.
 */

export interface PacketPacerOptions {
  /** Milliseconds of packets per turn, read at each packet. */
  sliceMs: () => number;
  now?: () => number;
  /** Runs `fn` on a later turn of the event loop, after its I/O. */
  nextTurn?: (fn: () => void) => void;
}

export class PacketPacer {
  /** When this turn's first packet was handled; undefined until a packet comes in a new turn. */
  private sliceStart: number | undefined;
  private yields = 0;
  private readonly now: () => number;
  private readonly nextTurn: (fn: () => void) => void;
  private readonly endTurn = () => {
    this.sliceStart = undefined;
  };

  constructor(private readonly options: PacketPacerOptions) {
    this.now = options.now ?? (() => performance.now());
    this.nextTurn = options.nextTurn ?? ((fn) => setImmediate(fn));
  }

  /** Turns given back so far (a figure for tests). */
  get yieldCount(): number {
    return this.yields;
  }

  /** mqtt.js's `handleMessage`: `callback` lets it take the next packet. */
  readonly handle = (_packet: unknown, callback: () => void): void => {
    const sliceMs = this.options.sliceMs();
    if (sliceMs === 0) return callback();
    const now = this.now();
    if (this.sliceStart === undefined) {
      // The first packet of a turn: the slice ends with the turn, however little it held.
      this.sliceStart = now;
      this.nextTurn(this.endTurn);
      return callback();
    }
    if (now - this.sliceStart < sliceMs) return callback();
    this.yields++;
    this.nextTurn(callback);
  };
}
