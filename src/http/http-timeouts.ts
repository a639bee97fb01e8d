/**
 * How long a client may take to send a request, as the HTTP server's options.
 *
 * Node cuts a request whose headers (or whole body) are late, but only when its
 * connections check runs, every `connectionsCheckingInterval` (30 s by default): a
 * 5 s headers timeout would then be enforced anywhere between 5 and 35 s. The check
 * runs at a tenth of the headers timeout instead (100 ms to 1 s), so a half-open
 * request is cut at most 10% late. Each check walks only the connections with a
 * request in progress; open WebSockets left Node's HTTP bookkeeping at their upgrade.
 */
import type { ServerOptions } from 'node:http';
import type { ServerConfig } from '../config/types.ts';

const CHECK_FRACTION = 10;
const CHECK_MIN_MS = 100;
const CHECK_MAX_MS = 1000;

export type RequestTimeouts = Required<Pick<ServerOptions, 'headersTimeout' | 'requestTimeout' | 'connectionsCheckingInterval'>>;

export function requestTimeouts(server: Pick<ServerConfig, 'headersTimeout' | 'requestTimeout'>): RequestTimeouts {
  const check = Math.round(server.headersTimeout / CHECK_FRACTION);
  return {
    headersTimeout: server.headersTimeout,
    requestTimeout: server.requestTimeout,
    connectionsCheckingInterval: Math.min(CHECK_MAX_MS, Math.max(CHECK_MIN_MS, check)),
  };
}
