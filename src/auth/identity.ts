/** Who an upgrade is for, whichever source said so (docs/auth.md). */
export interface AppIdentity {
  source: 'session' | 'token' | 'proxy';
  contextId: number;
  userId: number;
  /** The application's session id (JWT `sid`, the proxy's sessionId): the logout hook closes its sockets. */
  sessionId?: string;
  /** Epoch ms after which the socket is closed with 4401 (a token's exp plus the tolerance; the proxy's expiresAt). */
  expiresAt?: number;
  /** User-scope cascade values from the application (the proxy's `config`), e.g. {"websockets.enabled": false}. */
  config?: Record<string, unknown>;
}
export type AuthRefusal = { code: 'ERR_TOKEN_INVALID' | 'ERR_TOKEN_EXPIRED' | 'ERR_SESSION_UNKNOWN' | 'ERR_DISABLED' | 'ERR_AUTH_UNAVAILABLE'; reason: string };
export type AuthOutcome = { ok: true; identity: AppIdentity } | ({ ok: false } & AuthRefusal);
