/**
 * What the storm's driver and its child processes (client workers, the health
 * prober) say to each other over the IPC channel of `fork`. Times are measured
 * inside one process only (`performance.now()` of that process), so no clock is
 * compared across processes.
 */
import type { BackoffOptions } from './backoff.ts';

export interface Login {
  session: string;
  cookie: string;
}

/** Driver -> worker. */
export type WorkerCommand =
  | {
      type: 'init';
      /** Global index of this worker's first socket; socket j belongs to login j mod logins.length. */
      from: number;
      count: number;
      logins: Login[];
      /** Where the worker's balancer sends connections before the drop, and after it. */
      before: number[];
      after: number[];
      path: string;
      backoff: BackoffOptions;
      /** Handshakes in flight while the sockets first open. */
      concurrency: number;
      handshakeTimeoutMs: number;
      /** CPU niceness the worker gives itself before it opens anything (os.setPriority; 0 keeps the driver's). */
      nice: number;
    }
  /** Cut every connection now (the balancer's `drop`), send new ones to `after`. */
  | { type: 'drop' }
  /** Forget the frames counted so far (before the delivery check). */
  | { type: 'mark' }
  /** How many sockets got exactly one frame since the mark. */
  | { type: 'frames' }
  /** Close every socket with 1000, stop reconnecting, close the balancer. */
  | { type: 'close' };

/** Worker -> driver. */
export type WorkerReport =
  | { type: 'progress'; open: number; back: number; failures: Record<string, number> }
  | { type: 'ready'; open: number; port: number }
  /** After the drop, once every socket of the worker is open again. */
  | { type: 'back'; reconnectMs: number[]; attempts: number[]; failures: Record<string, number>; forwarded: Record<string, number> }
  | { type: 'frames'; exactlyOne: number; none: number; more: number }
  | { type: 'closed'; closedByServer: number }
  | { type: 'error'; message: string };

/** Driver -> prober. */
export type ProberCommand = { type: 'phase'; name: string } | { type: 'stop' };

export interface ProbeSummary {
  node: string;
  phase: string;
  probes: number;
  p50: number;
  p99: number;
  max: number;
  /** Answers slower than the limit (a probe still unanswered counts when it answers). */
  slow: number;
  /** Probes that failed (error, non-200). */
  failed: number;
  /** Each slow answer: when its probe started (ms into the phase) and how long it took. */
  slowAt: Array<{ atMs: number; ms: number }>;
  /** The prober's own worst timer lateness in the phase (ms): how much of a slow answer may be the prober's. */
  proberLagMs: number;
}

/** Prober -> driver. */
export type ProberReport = { type: 'started' } | { type: 'summary'; summaries: ProbeSummary[] };
