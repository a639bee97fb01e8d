/**
 * Login, logout and the session check. The same answer (401 ERR_LOGIN_FAILED) for an
 * unknown login and a wrong password, after the same scrypt work, so neither timing
 * nor body tells which; a disabled account is told only after the password matched.
 */
import type { Context } from 'koa';
import { WsmeshError } from '../../errors.ts';
import { DUMMY_HASH, verifyPassword } from '../../directory/password.ts';
import { newSessionId, publicView } from '../../session/session.ts';
import { expectObject, readJson } from '../body.ts';
import { clientAddress } from '../client-address.ts';
import { authState, LOGOUT_CHECKS, SESSION_CHECKS } from '../guards.ts';
import type { AppDeps } from '../deps.ts';
import type { Router } from '../router.ts';
import { endSession, freshSession, presentedSession, startSession } from '../session-cookie.ts';
import { compose } from '../compose.ts';

export function authRoutes(router: Router, deps: AppDeps): void {
  router.on('POST', '/api/login', async (ctx) => login(ctx, deps));
  router.on('GET', '/api/session', compose(SESSION_CHECKS, deps, (ctx) => {
    ctx.body = publicView(authState(ctx).session!);
  }));
  router.on('POST', '/api/logout', compose(LOGOUT_CHECKS, deps, (ctx) => {
    endSession(ctx);
    ctx.status = 204;
  }));
}

/** The login route must not reuse a presented secret: see session-cookie.ts. */
export const LOGIN_PRELUDE = { path: '/api/login', middleware: freshSession };

async function login(ctx: Context, deps: AppDeps): Promise<void> {
  const body = expectObject(await readJson(ctx));
  const { login, password } = body;
  if (typeof login !== 'string' || login === '' || typeof password !== 'string') {
    throw new WsmeshError('ERR_BAD_REQUEST', 'The body must be {"login": string, "password": string}');
  }
  const match = deps.live.directory.findLogin(login);
  const verified = await verifyPassword(password, match?.user.password ?? DUMMY_HASH);
  if (!match || !verified) {
    deps.log.info('auth.login_failed', { login, ip: clientAddress(ctx) });
    throw new WsmeshError('ERR_LOGIN_FAILED');
  }
  if (!match.context.enabled || !match.user.enabled) throw new WsmeshError('ERR_DISABLED', 'This account is disabled');

  const previous = presentedSession(ctx, deps.live.config.session.cookieName, deps.sessions);
  if (previous) deps.sessions.end(previous.id, 'logout');

  const route = deps.live.config.server.route;
  const node = deps.live.config.node.id;
  const session = { sid: newSessionId(), contextId: match.context.id, userId: match.user.id, ip: clientAddress(ctx), route, node };
  startSession(ctx, session);
  deps.log.info('auth.login', { sessionId: session.sid, contextId: session.contextId, userId: session.userId, ip: session.ip });
  ctx.body = { session: session.sid, userId: session.userId, contextId: session.contextId, route };
}
