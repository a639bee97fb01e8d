/**
 * The application's ways in, built from `auth.*` (auth/sources.ts): the connect proxy
 * when `auth.proxy.url` is set (reloadable settings), a JWT verifier when `auth.jwt`
 * has a key (a key that cannot be used throws here, so the node does not start).
 */
import type { AuthConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import type { NodeMetrics } from '../metrics/metrics.ts';
import { createConnectProxy } from './connect-proxy.ts';
import { createJwtVerifier } from './jwt.ts';
import type { AuthSources } from './sources.ts';

/** auth.* names a key or URL that cannot be used: the node does not start (exit status 2, the message says what to fix). */
export class AuthSetupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuthSetupError';
  }
}

export function createAuthSources(settings: () => AuthConfig, deps: { log: Logger; metrics: NodeMetrics }): AuthSources {
  const url = settings().proxy.url;
  // fetch refuses a URL with credentials in it: every upgrade would get 503. Say so at start.
  if (url && /^https?:\/\/[^/]*@/.test(url)) throw new AuthSetupError('auth.proxy.url: holds a user name or password, which fetch refuses; give a URL without them (protect the connect endpoint on the network, or by a secret path)');
  const proxy = url
    ? createConnectProxy(() => settings().proxy, { log: deps.log, observe: (seconds, outcome) => deps.metrics.proxySeconds.observe({ outcome }, seconds) })
    : undefined;
  let jwt;
  try {
    jwt = createJwtVerifier(settings().jwt, { log: deps.log });
  } catch (error) {
    throw new AuthSetupError((error as Error).message, { cause: error });
  }
  return { proxy, jwt };
}
