/**
 * The outermost middleware: every failure becomes `{error, message}` with the
 * catalogue's status. Unexpected errors answer 500 ERR_INTERNAL and are logged;
 * their message never reaches the client (koa's `expose` rule).
 */
import type { Middleware } from 'koa';
import { WsmeshError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';

export function errorResponder(log: Logger): Middleware {
  return async function respondWithError(ctx, next) {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined && ctx.respond !== false) throw new WsmeshError('ERR_NOT_FOUND', `No route for ${ctx.method} ${ctx.path}`);
    } catch (caught) {
      const error = toWsmeshError(caught, log, ctx.method, ctx.path);
      ctx.status = error.status;
      ctx.body = error.toJSON();
      if (error.code === 'ERR_METHOD_NOT_ALLOWED' && (caught as { allow?: string }).allow) ctx.set('Allow', (caught as { allow: string }).allow);
      ctx.state.error = error;
    }
  };
}

function toWsmeshError(caught: unknown, log: Logger, method: string, path: string): WsmeshError {
  if (caught instanceof WsmeshError) return caught;
  // Errors thrown by koa or its helpers with a client status (e.g. 400 from a bad cookie).
  const status = (caught as { status?: number }).status;
  if (status === 413) return new WsmeshError('ERR_PAYLOAD_TOO_LARGE');
  if (status && status >= 400 && status < 500) return new WsmeshError('ERR_BAD_REQUEST');
  log.error('http.internal_error', { method, path, error: caught as Error, stack: (caught as Error)?.stack });
  return new WsmeshError('ERR_INTERNAL');
}
