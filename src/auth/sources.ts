/**
 * The ways an upgrade can say who it is for, besides wsmesh's own session, and the
 * order they are tried in (docs/auth.md, "The order of sources"):
 *
 *   ?session=  -> the built-in session (directory login), as before
 *   a token    -> ?token= or the auth.jwt.cookie cookie, when auth.jwt has a key
 *   the proxy  -> auth.proxy.url, asked when neither came
 *
 * Each source is on only when configured; with none, an upgrade without `session`
 * is refused ERR_SESSION_MISSING, as before.
 */
import type { AuthOutcome } from './identity.ts';

/** Verifies an application's JWT (auth/jwt.ts). */
export interface TokenVerifier {
  verify(token: string): Promise<AuthOutcome>;
  /** Fetches of the JWKS endpoint, when there is one (counted for the metrics). */
  readonly stats?: { jwksFetches: number; jwksFailures: number };
}

/** What the connect proxy is told about an upgrade. */
export interface ProxyRequest {
  path: string;
  query: Record<string, string>;
  clientAddress: string;
  origin?: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Asks the application's connect endpoint (auth/connect-proxy.ts). */
export interface ConnectProxyClient {
  ask(request: ProxyRequest): Promise<AuthOutcome & { retryAfter?: number }>;
  /** The session ended (the logout hook): a cached answer for it must not open another socket. */
  forgetSession(sessionId: string): void;
}

export interface AuthSources {
  jwt?: TokenVerifier;
  proxy?: ConnectProxyClient;
}

export type SourceName = 'session' | 'token' | 'proxy';

/** Which source an upgrade is for (pure): the first that applies, or none. */
export function chooseSource(hasSession: boolean, token: string | undefined, sources: AuthSources): SourceName | undefined {
  if (hasSession) return 'session';
  if (token !== undefined && sources.jwt) return 'token';
  if (sources.proxy) return 'proxy';
  return undefined;
}

/**
 * The key a socket of an application session is indexed under: apart from wsmesh's
 * own session ids, so the logout hook cannot end a built-in session by its id.
 */
export function appSessionKey(sessionId: string): string {
  return `${APP_SESSION_PREFIX}${sessionId}`;
}

export const APP_SESSION_PREFIX = 'app:';
