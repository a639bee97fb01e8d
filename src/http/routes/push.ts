/** `POST /api/push`: a backend sends a message to a user's sockets, wherever they are. */
import type { Context } from 'koa';
import { WsmeshError } from '../../errors.ts';
import { compilePathFilter } from '../../delivery/path-filter.ts';
import type { OutboundMessage } from '../../delivery/message.ts';
import { expectObject, positiveInt, readJson } from '../body.ts';
import { requireAdmin } from '../admin-auth.ts';
import type { AppDeps } from '../deps.ts';
import type { Router } from '../router.ts';

const CONNECTION_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function pushRoutes(router: Router, deps: AppDeps): void {
  router.on('POST', '/api/push', async (ctx: Context) => {
    requireAdmin(ctx, deps.live.config.admin.token);
    const outbound = parsePush(await readJson(ctx));
    const result = deps.service.sendMessage(outbound);
    ctx.status = 202;
    ctx.body = result;
  });
}

/** Validates a push body; every problem is a 400 naming the field. */
export function parsePush(value: unknown): OutboundMessage {
  const body = expectObject(value);
  const contextId = positiveInt(body.contextId, 'contextId');
  const userId = positiveInt(body.userId, 'userId');
  let message: string;
  if (typeof body.message === 'string') message = body.message;
  else if (body.message !== null && typeof body.message === 'object') message = JSON.stringify(body.message);
  else throw new WsmeshError('ERR_BAD_REQUEST', 'message must be a string, or a JSON object or array (sent as its JSON text)');
  const pathFilter = body.pathFilter ?? null;
  compilePathFilter(pathFilter); // ERR_INVALID_PATH_FILTER before anything is queued
  const sourceToken = body.sourceToken;
  if (sourceToken !== undefined && (typeof sourceToken !== 'string' || !CONNECTION_ID.test(sourceToken))) {
    throw new WsmeshError('ERR_BAD_REQUEST', 'sourceToken must be a connection id ([A-Za-z0-9_-]{1,64})');
  }
  return { message, contextId, userId, pathFilter: pathFilter as string | null, sourceToken };
}
