/** A route handler behind a list of guards (see guards.ts). */
import type { Context } from 'koa';
import type { AppDeps } from './deps.ts';
import { authState, type Guard } from './guards.ts';

export function compose(guards: readonly Guard[], deps: AppDeps, handler: (ctx: Context) => Promise<void> | void) {
  return async (ctx: Context): Promise<void> => {
    const auth = authState(ctx);
    for (const guard of guards) await guard(ctx, auth, deps);
    await handler(ctx);
  };
}
