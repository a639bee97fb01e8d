/**
 * `GET /api/admin/trace/<messageId>`: what became of one message, over the cluster.
 * This node asks every live node for its record (the `trace` question,
 * cluster/queries.ts) and merges the answers (trace/assemble.ts); a live node that
 * does not answer within cluster.syncTimeout is named in `nodes.unanswered`.
 */
import type { Middleware } from 'koa';
import { WsmeshError } from '../../errors.ts';
import { assembleTrace } from '../../trace/assemble.ts';
import { requireAdmin } from '../admin-auth.ts';
import type { AppDeps } from '../deps.ts';

const PREFIX = '/api/admin/trace/';
/** Message ids as a push may give them (routes/push.ts), and as nodes make them. */
const MESSAGE_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export function traceRoute(deps: AppDeps): Middleware {
  return async (ctx, next) => {
    if (!ctx.path.startsWith(PREFIX)) return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      throw Object.assign(new WsmeshError('ERR_METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on ${ctx.path}`), { allow: 'GET' });
    }
    requireAdmin(ctx, deps.live.config.admin.token);
    const id = ctx.path.slice(PREFIX.length);
    if (!MESSAGE_ID.test(id)) throw new WsmeshError('ERR_BAD_REQUEST', 'The message id must be 1 to 128 characters from [A-Za-z0-9_.:-]');
    const { answers, unanswered } = await deps.queries.ask('trace', { id }, deps.live.config.cluster.syncTimeout);
    const trace = assembleTrace(id, answers, unanswered);
    if (!trace) {
      const silent = unanswered.length ? `; ${unanswered.join(', ')} did not answer` : '';
      throw new WsmeshError('ERR_MESSAGE_UNKNOWN', `No node holds a trace of ${id} (asked ${answers.map((a) => a.node).join(', ')}${silent}): unknown, or older than the last trace.size messages`);
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.body = trace;
  };
}
