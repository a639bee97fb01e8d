/**
 * Probes and metrics. `/healthz`: liveness (the process answers). `/readyz`:
 * readiness (accepting sockets and linked to the broker; 503 while draining), for
 * load balancers. `/metrics`: Prometheus, open unless `metrics.token` is set.
 */
import { requireBearer } from '../admin-auth.ts';
import type { AppDeps } from '../deps.ts';
import type { Router } from '../router.ts';

export function healthRoutes(router: Router, deps: AppDeps): void {
  router.on('GET', '/healthz', (ctx) => {
    ctx.body = { status: 'ok', node: deps.live.config.node.id };
  });

  router.on('GET', '/readyz', (ctx) => {
    const { ready, checks } = readiness(deps.probes.accepting(), deps.probes.broker());
    ctx.status = ready ? 200 : 503;
    ctx.body = { ready, node: deps.live.config.node.id, checks };
  });

  router.on('GET', '/metrics', async (ctx) => {
    const token = deps.live.config.metrics.token;
    if (token) requireBearer(ctx, token, 'wsmesh-metrics', 'GET /metrics needs the metrics.token as a bearer token');
    ctx.type = deps.metrics.contentType;
    ctx.body = await deps.metrics.text();
  });
}

/**
 * Ready when the node accepts sockets: running (not draining) and, in a cluster,
 * linked to the broker. The directory is always loaded (the node does not start
 * without one; a failed reload keeps the previous).
 */
export function readiness(accepting: boolean, broker: string): { ready: boolean; checks: { accepting: boolean; broker: string; directory: boolean } } {
  const brokerOk = broker === 'none' || broker === 'online';
  return { ready: accepting && brokerOk, checks: { accepting, broker, directory: true } };
}
