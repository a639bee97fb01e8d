/** `POST /api/push`: a backend sends a message to a user's sockets, wherever they are. */
import type { Context } from 'koa';
import { WsmeshError } from '../../errors.ts';
import { compilePathFilter } from '../../delivery/path-filter.ts';
import type { OutboundMessage } from '../../delivery/message.ts';
import { messageId } from '../../cluster/codec.ts';
import { expectObject, jsonPositiveInt, readJson } from '../body.ts';
import { requireAdmin } from '../admin-auth.ts';
import type { AppDeps } from '../deps.ts';
import type { Router } from '../router.ts';

const CONNECTION_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** A client's message id: what the 202 and every node's dedup key on. */
const MESSAGE_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export function pushRoutes(router: Router, deps: AppDeps): void {
  router.on('POST', '/api/push', async (ctx: Context) => {
    requireAdmin(ctx, deps.live.config.admin.token);
    const { outbound, clientId } = parsePush(await readJson(ctx));
    const result = await deps.service.push(outbound, clientId);
    ctx.status = 202;
    ctx.body = result;
  });
}

/** Validates a push body; every problem is a 400 naming the field. `clientId`: the id was given, not made here. */
export function parsePush(value: unknown): { outbound: OutboundMessage; clientId: boolean } {
  const body = expectObject(value);
  const contextId = jsonPositiveInt(body.contextId, 'contextId');
  const userId = jsonPositiveInt(body.userId, 'userId');
  let message: string;
  if (typeof body.message === 'string') message = body.message;
  else if (body.message !== null && typeof body.message === 'object' && !Array.isArray(body.message)) message = JSON.stringify(body.message);
  else throw new WsmeshError('ERR_BAD_REQUEST', 'message must be a string, or a JSON object (sent as its JSON text)');
  const pathFilter = body.pathFilter ?? null;
  compilePathFilter(pathFilter); // ERR_INVALID_PATH_FILTER before anything is queued
  const sourceToken = body.sourceToken;
  if (sourceToken !== undefined && (typeof sourceToken !== 'string' || !CONNECTION_ID.test(sourceToken))) {
    throw new WsmeshError('ERR_BAD_REQUEST', 'sourceToken must be a connection id ([A-Za-z0-9_-]{1,64})');
  }
  const id = body.id;
  if (id !== undefined && (typeof id !== 'string' || !MESSAGE_ID.test(id))) {
    throw new WsmeshError('ERR_BAD_REQUEST', 'id must be a string of 1 to 128 characters from [A-Za-z0-9_.:-]');
  }
  const trace = body.trace ?? false;
  if (typeof trace !== 'boolean') throw new WsmeshError('ERR_BAD_REQUEST', 'trace must be true or false');
  const outbound: OutboundMessage = { id: id ?? messageId(), message, contextId, userId, pathFilter: pathFilter as string | null, sourceToken };
  if (trace) outbound.keep = true;
  return {
    outbound,
    clientId: id !== undefined,
  };
}
