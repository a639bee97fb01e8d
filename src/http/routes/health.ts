/** Liveness: the process answers HTTP. (Readiness, with the broker, comes with the cluster.) */
import type { AppDeps } from '../deps.ts';
import type { Router } from '../router.ts';

export function healthRoutes(router: Router, deps: AppDeps): void {
  router.on('GET', '/healthz', (ctx) => {
    ctx.body = { status: 'ok', node: deps.live.config.node.id };
  });
}
