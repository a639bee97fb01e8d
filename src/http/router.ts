/**
 * A route table: `METHOD /exact/path` -> handler. wsmesh's API is a handful of fixed
 * paths, so exact matching is enough; a known path with another method is a 405.
 */
import type { Context, Middleware } from 'koa';
import { WsmeshError } from '../errors.ts';

export type Handler = (ctx: Context) => Promise<void> | void;

export class Router {
  private readonly routes = new Map<string, Map<string, Handler>>();

  on(method: string, path: string, handler: Handler): this {
    let methods = this.routes.get(path);
    if (!methods) this.routes.set(path, (methods = new Map()));
    methods.set(method, handler);
    return this;
  }

  middleware(): Middleware {
    return async (ctx, next) => {
      const methods = this.routes.get(ctx.path);
      if (!methods) return next();
      const handler = methods.get(ctx.method) ?? (ctx.method === 'HEAD' ? methods.get('GET') : undefined);
      if (!handler) {
        const error = new WsmeshError('ERR_METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on ${ctx.path}`);
        throw Object.assign(error, { allow: [...methods.keys()].join(', ') });
      }
      await handler(ctx);
    };
  }
}
