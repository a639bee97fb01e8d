/**
 * The one error catalogue of wsmesh. Each code is stable (clients code against it),
 * with the HTTP status an API call or a refused handshake answers with. Close codes
 * for sockets that were already open are in `CloseCode` below.
 * Documented in docs/api.md; a code added here must be added there.
 */

export const ERRORS = {
  ERR_BAD_REQUEST: { status: 400, message: 'The request is malformed' },
  ERR_SESSION_MISSING: { status: 400, message: 'The query parameter "session" is required' },
  ERR_CONNECTION_ID_INVALID: { status: 400, message: 'The connection id must match [A-Za-z0-9_-]{1,64}' },
  ERR_CONNECTION_ID_IN_USE: { status: 400, message: 'This connection id is already open for this user' },
  ERR_INVALID_PATH_FILTER: { status: 400, message: 'The path filter is invalid' },
  ERR_PATH_INVALID: { status: 400, message: 'The path has a "." or ".." segment (also percent-encoded), which proxies resolve differently' },
  ERR_INVALID_SINCE: { status: 400, message: 'The query parameter "since" must be an offset from an envelope frame, and needs envelope=1' },
  ERR_LOGIN_FAILED: { status: 401, message: 'Unknown login or wrong password' },
  ERR_ADMIN_AUTH: { status: 401, message: 'A valid admin bearer token is required' },
  ERR_SESSION_UNKNOWN: { status: 403, message: 'The session is unknown or expired' },
  ERR_SECRET_MISMATCH: { status: 403, message: "The secret cookie does not match the session's secret" },
  ERR_IP_MISMATCH: { status: 403, message: "The client address does not match the session's address" },
  ERR_ORIGIN_DENIED: { status: 403, message: 'The Origin of this request is not allowed' },
  ERR_DISABLED: { status: 403, message: 'Web sockets are disabled for this user or context' },
  ERR_NOT_FOUND: { status: 404, message: 'No such resource' },
  ERR_PATH_UNKNOWN: { status: 404, message: 'No web socket is served on this path' },
  ERR_NODE_UNKNOWN: { status: 404, message: 'No live node of the cluster has this id' },
  ERR_MESSAGE_UNKNOWN: { status: 404, message: 'No node that answered holds a trace of this message id' },
  ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'This method is not allowed on this resource' },
  ERR_REQUEST_TIMEOUT: { status: 408, message: 'The request was not complete in time' },
  ERR_PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body must be application/json' },
  ERR_HEADERS_TOO_LARGE: { status: 431, message: 'The request line or headers are too large' },
  ERR_UPGRADE_REQUIRED: { status: 426, message: 'This path serves web sockets only: send an HTTP Upgrade' },
  ERR_TOO_MANY_SOCKETS: { status: 429, message: 'The per-user socket limit is reached' },
  ERR_INTERNAL: { status: 500, message: 'Internal error' },
  ERR_TOKEN_INVALID: { status: 403, message: 'The token is malformed, unsigned, or not signed by a trusted key' },
  ERR_TOKEN_EXPIRED: { status: 403, message: 'The token has expired' },
  ERR_SHUTTING_DOWN: { status: 503, message: 'The node is shutting down' },
  ERR_AUTH_UNAVAILABLE: { status: 503, message: "The application's authentication did not answer usably; retry later" },
  ERR_NODE_UNAVAILABLE: { status: 504, message: 'The node did not answer in time, or not usably' },
  ERR_DELIVERY_UNAVAILABLE: { status: 503, message: "The broker refused this node's subscription to the user's messages; retry later or on another node" },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** A typed, client-visible error: `{error: code, message}` with the catalogue's status. */
export class WsmeshError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Koa reads `expose` to decide whether the message may reach the client. */
  readonly expose = true;

  constructor(code: ErrorCode, message?: string) {
    super(message ?? ERRORS[code].message);
    this.name = 'WsmeshError';
    this.code = code;
    this.status = ERRORS[code].status;
  }

  toJSON(): { error: ErrorCode; message: string } {
    return { error: this.code, message: this.message };
  }
}

/**
 * Close codes of open sockets. 1000-1015 are RFC 6455's (section 7.4.1); 4000-4999
 * are wsmesh's own, mirroring an HTTP status where one fits (4401 ~ 401, 4403 ~ 403).
 */
export const CloseCode = {
  NORMAL: 1000,
  /** The node is shutting down; reconnect (to another node). */
  GOING_AWAY: 1001,
  /** A malformed frame (ws framing error). */
  PROTOCOL_ERROR: 1002,
  /** A frame type the protocol does not accept (binary on the raw protocol). */
  UNSUPPORTED_DATA: 1003,
  /** The peer stopped answering pings; the socket was dropped, no close frame (seen as 1006). */
  ABNORMAL: 1006,
  /** A text frame that is not valid UTF-8. */
  INVALID_PAYLOAD: 1007,
  /** An inbound frame was larger than `websockets.maxPayload`. */
  MESSAGE_TOO_BIG: 1009,
  /** The stream did not begin in time: a Socket.IO client that sent no CONNECT within 45 s (history on; Socket.IO's connectTimeout). */
  POLICY_VIOLATION: 1008,
  INTERNAL_ERROR: 1011,
  /** Slow consumer: more than `websockets.maxBufferedBytes` waited to be sent. */
  TRY_AGAIN_LATER: 1013,
  /** A malformed Engine.IO or Socket.IO packet (the close reason says what). */
  MALFORMED_PACKET: 4400,
  /** The session ended (logout or expiry). Log in again before reconnecting. */
  SESSION_ENDED: 4401,
  /** Closed by an operator (admin API). */
  CLOSED_BY_ADMIN: 4403,
} as const;

export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * The close codes another node may ask for in a close command: an operator's close
 * and a session's end. Anything else in a command is refused (a code such as 1005
 * or 70000 would make `ws.close` throw).
 */
export const REMOTE_CLOSE_CODES: readonly number[] = [CloseCode.CLOSED_BY_ADMIN, CloseCode.SESSION_ENDED];
