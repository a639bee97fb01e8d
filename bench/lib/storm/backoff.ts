/**
 * The reconnect delay of a browser client, as socket.io-client computes it
 * (engine.io-client's `Backoff`, also what reconnecting-websocket does in spirit):
 * exponential from `initialMs` by `factor`, capped at `maxMs`, each delay moved by up
 * to `jitter` of itself either way, so that clients dropped together do not come
 * back together. Pure: the random source is passed in.
 */

export interface BackoffOptions {
  /** Delay before the first attempt after a loss (socket.io-client: reconnectionDelay 1000). */
  initialMs: number;
  factor: number;
  /** socket.io-client: reconnectionDelayMax 5000. */
  maxMs: number;
  /** 0..1 (socket.io-client: randomizationFactor 0.5). */
  jitter: number;
}

export const SOCKET_IO_BACKOFF: BackoffOptions = { initialMs: 1000, factor: 2, maxMs: 5000, jitter: 0.5 };

/**
 * The delay before attempt `attempt` (0: the first after the connection was lost;
 * each failed attempt adds one). `random` returns [0, 1).
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const base = Math.min(options.maxMs, options.initialMs * options.factor ** Math.min(attempt, 30));
  const moved = base * (1 + options.jitter * (2 * random() - 1));
  return Math.round(Math.min(options.maxMs, Math.max(0, moved)));
}
