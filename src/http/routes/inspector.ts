/**
 * The live inspector: the page at /admin/inspector (a static shell; the data comes
 * from the API below, behind the admin token) and its API:
 *
 *   GET /api/admin/inspector/charts            every actor's chart: Mermaid + definition
 *   GET /api/admin/inspector/actors?machine=&state=&limit=   a sample of live actors
 *   GET /api/admin/inspector/actors/<id>       one actor, with a summary of its context
 *   GET /api/admin/inspector/events            Server-Sent Events: `snapshot` (the counts),
 *                                              then `batch` at most every 100 ms
 *
 * The page reads the stream with fetch(), since EventSource cannot send the
 * Authorization header. Snapshots and batches carry the hub's `seq`, and so do
 * listings and details (the last `seq` they include), so the page can drop a
 * listing that arrives after newer batches (src/http/public/inspector/model.js).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import type { Context, Middleware } from 'koa';
import { WsmeshError } from '../../errors.ts';
import type { InspectorHub } from '../../inspect/hub.ts';
import { charts } from '../../statecharts/machines.ts';
import { toMermaid } from '../../statecharts/mermaid.ts';
import { requireAdmin } from '../admin-auth.ts';
import { positiveInt } from '../body.ts';
import type { AppDeps } from '../deps.ts';
import type { Router } from '../router.ts';

const PUBLIC = new URL('../public/', import.meta.url);

const PAGES: Array<[path: string, file: string, type: string]> = [
  ['/admin/inspector', 'inspector.html', 'text/html; charset=utf-8'],
  ['/admin/inspector.css', 'inspector.css', 'text/css; charset=utf-8'],
  // The page's script: ES modules (main.js imports the others by relative URL).
  ...readdirSync(new URL('inspector/', PUBLIC))
    .filter((file) => file.endsWith('.js'))
    .map((file): [string, string, string] => [`/admin/inspector/${file}`, `inspector/${file}`, 'text/javascript; charset=utf-8']),
];

const CSP = "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const ACTOR_PREFIX = '/api/admin/inspector/actors/';
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;
/** A heartbeat comment keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;
/** A watcher that reads slower than this much backlog is cut off; it reconnects for a fresh snapshot. */
const MAX_BACKLOG_BYTES = 1 << 20;

export function inspectorRoutes(router: Router, deps: AppDeps): void {
  for (const [path, file, type] of PAGES) {
    const body = readFileSync(new URL(file, PUBLIC));
    router.on('GET', path, (ctx) => {
      ctx.type = type;
      ctx.set('Content-Security-Policy', CSP);
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.set('Referrer-Policy', 'no-referrer');
      ctx.body = body;
    });
  }

  const admin = (handler: (ctx: Context, hub: InspectorHub) => void) => (ctx: Context) => {
    requireAdmin(ctx, deps.live.config.admin.token);
    ctx.set('Cache-Control', 'no-store');
    handler(ctx, hubOf(deps));
  };

  let chartsBody: unknown;
  router.on('GET', '/api/admin/inspector/charts', admin((ctx) => {
    chartsBody ??= {
      charts: charts().map((c) => ({ name: c.name, description: c.description, kind: c.kind, mermaid: toMermaid(c.definition), definition: c.definition })),
    };
    ctx.body = chartsBody;
  }));

  router.on('GET', '/api/admin/inspector/actors', admin((ctx, hub) => {
    const limit = ctx.query.limit === undefined ? DEFAULT_LIMIT : Math.min(MAX_LIMIT, positiveInt(single(ctx.query.limit), 'limit'));
    ctx.body = hub.sample({ machine: single(ctx.query.machine), state: single(ctx.query.state), limit });
  }));

  router.on('GET', '/api/admin/inspector/events', admin((ctx, hub) => streamEvents(ctx, hub)));
}

/** `GET /api/admin/inspector/actors/<id>`: a path with a parameter, which the exact-path router does not match. */
export function inspectorActorRoute(deps: AppDeps): Middleware {
  return async (ctx, next) => {
    if (!ctx.path.startsWith(ACTOR_PREFIX)) return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      throw Object.assign(new WsmeshError('ERR_METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on ${ctx.path}`), { allow: 'GET' });
    }
    requireAdmin(ctx, deps.live.config.admin.token);
    let id: string;
    try {
      id = decodeURIComponent(ctx.path.slice(ACTOR_PREFIX.length));
    } catch {
      throw new WsmeshError('ERR_BAD_REQUEST', 'The actor id is not valid percent-encoding');
    }
    const detail = hubOf(deps).describe(id);
    if (!detail) throw new WsmeshError('ERR_NOT_FOUND', `No live actor ${JSON.stringify(id)}`);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = detail;
  };
}

function streamEvents(ctx: Context, hub: InspectorHub): void {
  ctx.req.socket.setTimeout(0);
  ctx.req.socket.setNoDelay(true);
  ctx.set('Content-Type', 'text/event-stream; charset=utf-8');
  ctx.set('X-Accel-Buffering', 'no');
  ctx.status = 200;
  const stream = new PassThrough();
  ctx.body = stream;
  hub.sweep();
  stream.write(frame('snapshot', hub.snapshot()));
  const unsubscribe = hub.subscribe((batch) => {
    if (stream.writableLength > MAX_BACKLOG_BYTES) return stream.end();
    stream.write(frame('batch', batch));
  });
  const heartbeat = setInterval(() => stream.write(': ping\n\n'), HEARTBEAT_MS).unref();
  // Koa destroys the body stream when the response closes (the page went away).
  stream.once('close', () => {
    unsubscribe();
    clearInterval(heartbeat);
  });
}

/** One SSE message; JSON has no raw newlines, so `data` is one line. */
function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function hubOf(deps: AppDeps): InspectorHub {
  if (!deps.inspector) throw new WsmeshError('ERR_NOT_FOUND', 'This node runs without the inspector');
  return deps.inspector;
}

function single(value: string | string[] | undefined): string | undefined {
  if (Array.isArray(value)) throw new WsmeshError('ERR_BAD_REQUEST', 'A query parameter was given more than once');
  return value === '' ? undefined : value;
}
