/** The operator's routes: socket listing and closing, an application session's end, node stats. All need the admin token. */
import type { Context } from 'koa';
import { WsmeshError } from '../../errors.ts';
import { expectObject, positiveInt, readJson } from '../body.ts';
import { appSessionKey } from '../../auth/sources.ts';
import { requireAdmin } from '../admin-auth.ts';
import type { AppDeps } from '../deps.ts';
import type { Router } from '../router.ts';

export function adminRoutes(router: Router, deps: AppDeps): void {
  const admin = (handler: (ctx: Context) => void | Promise<void>) => (ctx: Context) => {
    requireAdmin(ctx, deps.live.config.admin.token);
    return handler(ctx);
  };

  router.on('GET', '/api/admin/sockets', admin((ctx) => {
    const scope = ctx.query.scope ?? 'local';
    if (scope !== 'local' && scope !== 'cluster') throw new WsmeshError('ERR_BAD_REQUEST', 'scope must be "local" or "cluster"');
    ctx.body = deps.service.list({
      contextId: optionalInt(ctx.query.contextId, 'contextId'),
      userId: optionalInt(ctx.query.userId, 'userId'),
      scope,
    });
  }));

  router.on('DELETE', '/api/admin/sockets', admin((ctx) => {
    const contextId = positiveInt(single(ctx.query.contextId), 'contextId');
    const userId = positiveInt(single(ctx.query.userId), 'userId');
    const pathFilter = ctx.query.pathFilter === undefined ? null : single(ctx.query.pathFilter);
    ctx.body = { closed: deps.service.closeWebSockets(contextId, userId, pathFilter) };
  }));

  // The application's logout hook: its session's sockets close with 4401 on every node.
  router.on('POST', '/api/admin/sessions/end', admin(async (ctx) => {
    const body = expectObject(await readJson(ctx));
    const sessionId = body.sessionId;
    if (typeof sessionId !== 'string' || sessionId.length === 0 || sessionId.length > 256) {
      throw new WsmeshError('ERR_BAD_REQUEST', 'sessionId must be a string of 1 to 256 characters');
    }
    deps.auth.proxy?.forgetSession(sessionId);
    ctx.body = { sessionId, closed: deps.service.endAppSession(appSessionKey(sessionId)) };
  }));

  router.on('GET', '/api/admin/stats', admin((ctx) => {
    const { node, server } = deps.live.config;
    ctx.body = {
      node: { id: node.id, route: server.route },
      sockets: { local: deps.service.localCount(), cluster: deps.service.clusterTotals()?.sockets ?? deps.service.localCount() },
      nodes: deps.service.clusterTotals()?.nodes ?? 1,
      bufferedMessages: deps.service.bufferedMessages(),
      sessions: deps.sessions.size(),
      counters: deps.stats.toJSON(),
    };
  }));
}

function single(value: string | string[] | undefined): string | undefined {
  if (Array.isArray(value)) throw new WsmeshError('ERR_BAD_REQUEST', 'A query parameter was given more than once');
  return value;
}

function optionalInt(value: string | string[] | undefined, name: string): number | undefined {
  const one = single(value);
  return one === undefined ? undefined : positiveInt(one, name);
}
