/**
 * The guards of an upgrade authenticated by the application instead of a wsmesh
 * session (auth/sources.ts has the order): a JWT, or the connect proxy's answer.
 * What follows authentication is the same as for a session: the user's context and
 * account where the directory lists them, then `websockets.enabled` through the
 * cascade with the application's user-scope values on top.
 */
import type { Context } from 'koa';
import { WsmeshError } from '../errors.ts';
import type { AuthOutcome, AuthRefusal } from '../auth/identity.ts';
import { chooseSource } from '../auth/sources.ts';
import { tokenOf } from '../auth/token-source.ts';
import { appUserEnabled } from '../auth/app-cascade.ts';
import { clientAddress } from './client-address.ts';
import type { Guard } from './guards.ts';

/** `?session=` says a wsmesh session; else a token or the proxy, whichever is configured and applies. */
export const credentialsPresent: Guard = (ctx, auth, deps) => {
  const session = ctx.query.session;
  if (session !== undefined) {
    if (typeof session !== 'string' || session === '') throw new WsmeshError('ERR_SESSION_MISSING');
    auth.source = 'session';
    auth.sessionId = session;
    return;
  }
  const token = tokenOf(new URLSearchParams(ctx.querystring), ctx.get('Cookie') || undefined, deps.live.config.auth.jwt.cookie);
  const source = chooseSource(false, token, deps.auth);
  if (!source) throw new WsmeshError('ERR_SESSION_MISSING', missingCredentials(deps.live.config.auth.jwt.cookie, deps.auth.jwt !== undefined));
  auth.source = source;
  auth.token = token;
};

export const tokenValid: Guard = async (ctx, auth, deps) => {
  const outcome = await deps.auth.jwt!.verify(auth.token!);
  // The JWKS endpoint did not answer: a client may try again shortly.
  if (!outcome.ok && outcome.code === 'ERR_AUTH_UNAVAILABLE') ctx.set('Retry-After', '1');
  accept(ctx, auth, outcome);
};

export const proxyAnswered: Guard = async (ctx, auth, deps) => {
  const outcome = await deps.auth.proxy!.ask({
    path: auth.path!,
    query: Object.fromEntries(new URLSearchParams(ctx.querystring)),
    clientAddress: clientAddress(ctx),
    origin: ctx.get('Origin') || ctx.get('Sec-WebSocket-Origin') || undefined,
    headers: ctx.headers,
  });
  if (!outcome.ok && outcome.code === 'ERR_AUTH_UNAVAILABLE') ctx.set('Retry-After', String(outcome.retryAfter ?? 1));
  accept(ctx, auth, outcome);
  // An answer whose session already ended: the same as the app saying 401.
  if (auth.identity!.expiresAt !== undefined && auth.identity!.expiresAt <= Date.now()) throw new WsmeshError('ERR_SESSION_UNKNOWN', 'The application says this session expired already');
};

/** A context or user the directory lists and disables stays disabled, whoever vouches for the user. */
export const appAccountEnabled: Guard = (_ctx, auth, deps) => {
  const { contextId, userId } = auth.identity!;
  const directory = deps.live.directory;
  if (directory.context(contextId)?.enabled === false) throw new WsmeshError('ERR_DISABLED', 'The context is disabled');
  if (directory.user(contextId, userId)?.enabled === false) throw new WsmeshError('ERR_DISABLED', 'The user is disabled');
};

export const appSocketsEnabled: Guard = (_ctx, auth, deps) => {
  const { contextId, userId, config } = auth.identity!;
  if (!appUserEnabled(deps.live.directory, contextId, userId, config, deps.live.config.websockets.enabled)) {
    throw new WsmeshError('ERR_DISABLED', 'Web sockets are disabled for this user by configuration');
  }
};

function accept(_ctx: Context, auth: { identity?: unknown }, outcome: AuthOutcome): void {
  if (!outcome.ok) throw refusal(outcome);
  auth.identity = outcome.identity;
}

function refusal(outcome: AuthRefusal): WsmeshError {
  // The reason names what was wrong with the client's credentials (an expired token),
  // never the token. Why the application could not answer (a timeout, a refused
  // connection) is the operator's business: logged by the source, not told to clients.
  return outcome.code === 'ERR_AUTH_UNAVAILABLE' ? new WsmeshError(outcome.code) : new WsmeshError(outcome.code, outcome.reason);
}

/** What an upgrade without credentials should have carried, on this node. */
function missingCredentials(cookie: string, token: boolean): string {
  if (!token) return 'The query parameter "session" is required';
  return `A session (?session=) or a token (?token=${cookie ? ` or the ${cookie} cookie` : ''}) is required`;
}
