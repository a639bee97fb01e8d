/**
 * The validation pipeline every authenticated request passes: one list of named
 * guards, composed per route. The upgrade runs them all, in the brief's order:
 *
 *   servedPath (400 dot segments, 404) -> engineIoParams (400, Socket.IO paths) -> streamParams (400, raw paths) -> webSocketHeaders (400) -> origin (403) -> sessionPresent (400)
 *   -> connectionIdFormat (400) -> sessionKnown (403) -> accountEnabled (403)
 *   -> secretMatches (403) -> ipMatches (403) -> socketsEnabled (403)
 *   -> [admission, in the supervisor: connection id in use (400), per-user limit (429)]
 *   -> [the user's delivery subscription confirmed by the broker, then the 101]
 *
 * "Connection id in use" needs the authenticated user, so it runs with the limit in
 * the supervisor's atomic admission step; checking it before authentication would
 * let anyone holding a public session id probe a user's connection ids.
 * Each guard reads and extends `ctx.state.auth`; a failing guard throws WsmeshError.
 */
import type { Context } from 'koa';
import { WsmeshError } from '../errors.ts';
import { hasDotSegment, isValidPath } from '../delivery/path-filter.ts';
import { speaksSocketIo } from '../protocol/select.ts';
import { parseCursor } from '../history/cursor.ts';
import type { Context as DirectoryContext, User } from '../directory/types.ts';
import type { SessionRecord } from '../session/session.ts';
import type { AppDeps } from './deps.ts';
import { clientAddress, requestedHost, requestedScheme } from './client-address.ts';
import { cookieSessionId } from './session-cookie.ts';
import type { AppIdentity } from '../auth/identity.ts';
import type { SourceName } from '../auth/sources.ts';
import { appAccountEnabled, appSocketsEnabled, credentialsPresent, proxyAnswered, tokenValid } from './app-guards.ts';

export interface AuthState {
  /** Who says who the upgrade is for (auth/sources.ts); set by credentialsPresent. */
  source?: SourceName;
  /** The application's token, when the source is `token`. */
  token?: string;
  /** Who the upgrade is for, once authenticated, whatever the source. */
  identity?: AppIdentity;
  sessionId?: string;
  connectionId?: string;
  /** The socket's path (the request path, normalized) and the served prefix it is under. */
  path?: string;
  prefix?: string;
  session?: SessionRecord;
  user?: User;
  context?: DirectoryContext;
}

/** A check; the few that wait (for the cluster's read-your-writes) return a promise. */
export type Guard = (ctx: Context, auth: AuthState, deps: AppDeps) => void | Promise<void>;

const CONNECTION_ID = /^[A-Za-z0-9_-]{1,64}$/;
const SEC_WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/;
/** RFC 6455 section 4.1: a comma-separated list of RFC 7230 tokens. */
const SUBPROTOCOLS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+(\s*,\s*[!#$%&'*+\-.^_`|~0-9A-Za-z]+)*$/;

export const servedPath: Guard = (ctx, auth, deps) => {
  // Before the prefix: `/ws/../admin` is under `/ws` to us, and elsewhere to a proxy that resolves it.
  if (hasDotSegment(ctx.path)) throw new WsmeshError('ERR_PATH_INVALID', `The path ${ctx.path} has a "." or ".." segment`);
  // Engine.IO clients append a slash (`/socket.io/appsuite/`): one trailing slash is not part of the path.
  const path = ctx.path.length > 1 && ctx.path.endsWith('/') ? ctx.path.slice(0, -1) : ctx.path;
  const prefix = deps.live.config.websockets.paths.find((p) => path === p || path.startsWith(p + '/'));
  if (!prefix || !isValidPath(path)) throw new WsmeshError('ERR_PATH_UNKNOWN', `No web socket is served on ${ctx.path}`);
  auth.path = path;
  auth.prefix = prefix;
};

/** Socket.IO paths: Engine.IO 3 or 4, websocket transport (the only one served). */
/**
 * The raw protocol's stream options: `envelope` is 0 or 1; `since` (an offset from an
 * envelope frame) needs `envelope=1`, so the client can read what it recovers.
 */
export const streamParams: Guard = (ctx, auth) => {
  if (speaksSocketIo(auth.prefix!)) return;
  const { envelope, since } = ctx.query;
  if (envelope !== undefined && envelope !== '0' && envelope !== '1') throw new WsmeshError('ERR_BAD_REQUEST', 'envelope must be 0 or 1');
  if (since === undefined) return;
  if (envelope !== '1') throw new WsmeshError('ERR_INVALID_SINCE', 'since needs envelope=1: the offsets it names are in envelope frames');
  if (typeof since !== 'string' || !parseCursor(since)) throw new WsmeshError('ERR_INVALID_SINCE');
};

export const engineIoParams: Guard = (ctx, auth) => {
  if (!speaksSocketIo(auth.prefix!)) return;
  const version = ctx.query.EIO;
  if (version !== '3' && version !== '4') throw new WsmeshError('ERR_BAD_REQUEST', 'EIO must be 3 or 4');
  if (ctx.query.transport !== 'websocket') throw new WsmeshError('ERR_BAD_REQUEST', 'transport must be websocket (the only transport served)');
};

/** RFC 6455 section 4.2.1: refuse a malformed opening handshake with our JSON 400, before ws would. */
export const webSocketHeaders: Guard = (ctx) => {
  if (ctx.method !== 'GET') throw new WsmeshError('ERR_BAD_REQUEST', 'The WebSocket handshake must be a GET');
  if ((ctx.get('Upgrade') || '').toLowerCase() !== 'websocket') throw new WsmeshError('ERR_BAD_REQUEST', 'Upgrade: websocket is required');
  if (!SEC_WEBSOCKET_KEY.test(ctx.get('Sec-WebSocket-Key'))) throw new WsmeshError('ERR_BAD_REQUEST', 'Sec-WebSocket-Key is missing or invalid');
  const version = ctx.get('Sec-WebSocket-Version');
  if (version !== '13' && version !== '8') {
    // RFC 6455 section 4.2.2: the refusal lists the versions the server speaks.
    ctx.set('Sec-WebSocket-Version', '13, 8');
    throw new WsmeshError('ERR_BAD_REQUEST', 'Sec-WebSocket-Version must be 13 or 8');
  }
  // Present but blank counts too: ws refuses an empty list with a plain-text 400 of its own.
  const protocols = ctx.req.headers['sec-websocket-protocol'];
  if (protocols !== undefined && !SUBPROTOCOLS.test(protocols.trim())) throw new WsmeshError('ERR_BAD_REQUEST', 'Sec-WebSocket-Protocol must be a comma-separated list of tokens');
  // A name twice (also from the header sent twice, which Node joins with ", "): ws would refuse it in plain text.
  const names = protocols?.split(',').map((p) => p.trim()) ?? [];
  if (new Set(names).size !== names.length) throw new WsmeshError('ERR_BAD_REQUEST', 'Sec-WebSocket-Protocol names a subprotocol twice');
};

/**
 * Cross-site WebSocket hijacking defence: browsers always send Origin, so a foreign
 * Origin is refused unless listed. Same-origin requests and clients without Origin
 * (backends, devices) pass. Same origin is scheme and host (RFC 6454 section 5):
 * `https://host` on a plain-HTTP request is another origin, unless a trusted proxy
 * says the client spoke https (requestedScheme).
 */
export const origin: Guard = (ctx, _auth, deps) => {
  // Version 8 (hybi-08) clients send Sec-WebSocket-Origin instead of Origin.
  const origin = ctx.get('Origin') || ctx.get('Sec-WebSocket-Origin');
  if (!origin) return;
  if (deps.live.config.websockets.allowedOrigins.includes(origin)) return;
  let parsed: URL | undefined;
  try {
    parsed = new URL(origin);
  } catch {
    parsed = undefined;
  }
  const { server } = deps.live.config;
  if (parsed?.host !== requestedHost(ctx, server)) throw new WsmeshError('ERR_ORIGIN_DENIED', `Origin ${origin} is not allowed`);
  const scheme = requestedScheme(ctx, server);
  if (parsed.protocol !== `${scheme}:`) throw new WsmeshError('ERR_ORIGIN_DENIED', `Origin ${origin} is not allowed: this request came over ${scheme}`);
};

export const sessionPresent: Guard = (ctx, auth) => {
  const id = ctx.query.session;
  if (typeof id !== 'string' || id === '') throw new WsmeshError('ERR_SESSION_MISSING');
  auth.sessionId = id;
};

export const connectionIdFormat: Guard = (ctx, auth) => {
  const id = ctx.query.connection;
  if (id === undefined) {
    auth.connectionId = crypto.randomUUID();
    return;
  }
  if (typeof id !== 'string' || !CONNECTION_ID.test(id)) throw new WsmeshError('ERR_CONNECTION_ID_INVALID');
  auth.connectionId = id;
};

/**
 * Read-your-writes: the store first catches up with every login and logout the
 * cluster acknowledged before this request (a barrier through the broker), so a
 * session made on another node a moment ago is known, and one ended there is not.
 */
export const sessionKnown: Guard = async (_ctx, auth, deps) => {
  const session = await deps.sessions.find({ id: auth.sessionId! });
  if (!session) throw new WsmeshError('ERR_SESSION_UNKNOWN');
  auth.session = session;
};

export const accountEnabled: Guard = (_ctx, auth, deps) => {
  const { contextId, userId } = auth.session!;
  const directory = deps.live.directory;
  const context = directory.context(contextId);
  const user = directory.user(contextId, userId);
  if (!context || !context.enabled) throw new WsmeshError('ERR_DISABLED', 'The context is disabled or no longer exists');
  if (!user || !user.enabled) throw new WsmeshError('ERR_DISABLED', 'The user is disabled or no longer exists');
  auth.context = context;
  auth.user = user;
};

/** The public id alone never authenticates: the signed secret cookie must belong to this session. */
export const secretMatches: Guard = (ctx, auth) => {
  if (cookieSessionId(ctx) !== auth.sessionId) throw new WsmeshError('ERR_SECRET_MISMATCH');
};

export const ipMatches: Guard = (ctx, auth, deps) => {
  if (!deps.live.config.session.ipCheck) return;
  if (clientAddress(ctx) !== auth.session!.ip) throw new WsmeshError('ERR_IP_MISMATCH');
};

export const socketsEnabled: Guard = (_ctx, auth, deps) => {
  const { contextId, userId } = auth.session!;
  if (!deps.enabled.isEnabled(deps.live.directory, contextId, userId, deps.live.config.websockets.enabled)) {
    throw new WsmeshError('ERR_DISABLED', 'Web sockets are disabled for this user by configuration');
  }
};

/** The session checks: what `GET /api/session` answers with. */
export const SESSION_CHECKS: readonly Guard[] = [sessionPresent, sessionKnown, accountEnabled, secretMatches, ipMatches];

/** Logout needs only proof of the session: a disabled account or a new address may still log out. */
export const LOGOUT_CHECKS: readonly Guard[] = [sessionPresent, sessionKnown, secretMatches];

/** Checks that need no lookup, run before a connection actor is spawned. */
export const UPGRADE_SYNTAX_CHECKS: readonly Guard[] = [servedPath, engineIoParams, streamParams, webSocketHeaders, origin, credentialsPresent, connectionIdFormat];

/** Authentication of an upgrade, run while its connection actor is in `upgrade`. */
/** The session's identity, as every source gives one: what admission and the socket go by. */
const sessionIdentity: Guard = (_ctx, auth) => {
  const { contextId, userId, id } = auth.session!;
  auth.identity = { source: 'session', contextId, userId, sessionId: id };
};

/** Per source, the checks that authenticate an upgrade and decide whether its user may have sockets. */
export const UPGRADE_AUTH_CHECKS: Readonly<Record<SourceName, readonly Guard[]>> = {
  session: [sessionKnown, accountEnabled, secretMatches, ipMatches, socketsEnabled, sessionIdentity],
  token: [tokenValid, appAccountEnabled, appSocketsEnabled],
  proxy: [proxyAnswered, appAccountEnabled, appSocketsEnabled],
};

export function authState(ctx: Context): AuthState {
  return ((ctx.state as { auth?: AuthState }).auth ??= {});
}
