/**
 * The Koa app: error responder, session cookie, then either the socket handshake
 * (any HTTP Upgrade) or the API routes. Upgrades and API calls share every
 * middleware above the split; that is the "one pipeline" of the brief.
 */
import Koa from 'koa';
import type { AppDeps } from './deps.ts';
import { errorResponder } from './error-responder.ts';
import { requireHost } from './client-error.ts';
import { resolveClientAddress } from './client-address.ts';
import { freshSession, sessionCookieMiddleware } from './session-cookie.ts';
import { isUpgrade, upgradeRoute } from './upgrade.ts';
import { Router } from './router.ts';
import { authRoutes } from './routes/auth.ts';
import { pushRoutes } from './routes/push.ts';
import { adminRoutes } from './routes/admin.ts';
import { healthRoutes } from './routes/health.ts';
import { pageRoutes } from './routes/page.ts';
import { inspectorActorRoute, inspectorRoutes } from './routes/inspector.ts';
import { traceRoute } from './routes/trace.ts';

export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  // Every error is answered by errorResponder; nothing reaches koa's default handler.
  app.silent = true;

  const router = new Router();
  authRoutes(router, deps);
  pushRoutes(router, deps);
  adminRoutes(router, deps);
  healthRoutes(router, deps);
  pageRoutes(router);
  inspectorRoutes(router, deps);
  const routes = router.middleware();
  const handshake = upgradeRoute(deps);

  const session = sessionCookieMiddleware(app, deps.live, deps.sessions);
  app.use(errorResponder(deps.log));
  app.use(requireHost);
  app.use((ctx, next) => {
    (ctx.state as { clientAddress?: string }).clientAddress = resolveClientAddress(ctx, deps.live.config.server);
    return next();
  });
  app.use((ctx, next) => (ctx.path === '/api/login' ? freshSession(ctx, next) : next()));
  // Only sessions' routes and handshakes read the secret cookie; push and admin
  // calls (token-authenticated, the hot path) skip it.
  app.use((ctx, next) => (isUpgrade(ctx) || SESSION_ROUTES.has(ctx.path) ? session(ctx, next) : next()));
  app.use((ctx, next) => (isUpgrade(ctx) || isSocketPath(ctx.path, deps) ? handshake(ctx, next) : routes(ctx, next)));
  // Reached when no exact route matched: the routes with a parameter.
  app.use(inspectorActorRoute(deps));
  app.use(traceRoute(deps));
  return app;
}

const SESSION_ROUTES = new Set(['/api/login', '/api/logout', '/api/session']);

function isSocketPath(path: string, deps: AppDeps): boolean {
  return deps.live.config.websockets.paths.some((prefix) => path === prefix || path.startsWith(prefix + '/'));
}
