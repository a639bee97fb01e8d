/**
 * The live inspector: the page at /admin/inspector (a static shell; the data comes
 * from the API below, behind the admin token) and its API:
 *
 *   GET /api/admin/inspector/charts            every actor's chart: Mermaid + definition
 *   GET /api/admin/inspector/nodes             this node's id and every live node's
 *   GET /api/admin/inspector/actors?machine=&state=&limit=&perState=[&node=<id>|all]
 *                                              a sample of live actors: this node's; with
 *                                              `node`, that node's or every node's, with
 *                                              their counts, asked over the broker
 *   GET /api/admin/inspector/actors/<id>[?node=<id>]
 *                                              one actor, with a summary of its context
 *                                              and its last transitions
 *   GET /api/admin/inspector/events            Server-Sent Events: `snapshot` (the counts),
 *                                              then `batch` at most every 100 ms (this node)
 *
 * Another node is asked through cluster/queries.ts (the questions and the merge:
 * inspect/cluster.ts) and waited for at most cluster.syncTimeout: with `node=all` a
 * node that did not answer is named in `nodes.unanswered`; one node asked alone that
 * did not answer is a 504. The page samples another node every few seconds instead
 * of streaming (src/http/public/inspector/main.js).
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
import { ACTOR_QUESTION, ACTORS_QUESTION, actorFrom, MAX_LIMIT, mergeSamples, type SampleQuery } from '../../inspect/cluster.ts';
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
/** `?node=all`: every live node. */
const ALL = 'all';
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

  const admin = (handler: (ctx: Context, hub: InspectorHub) => void | Promise<void>) => async (ctx: Context) => {
    requireAdmin(ctx, deps.live.config.admin.token);
    ctx.set('Cache-Control', 'no-store');
    await handler(ctx, hubOf(deps));
  };

  let chartsBody: unknown;
  router.on('GET', '/api/admin/inspector/charts', admin((ctx) => {
    chartsBody ??= {
      charts: charts().map((c) => ({ name: c.name, description: c.description, kind: c.kind, mermaid: toMermaid(c.definition), definition: c.definition })),
    };
    ctx.body = chartsBody;
  }));

  router.on('GET', '/api/admin/inspector/nodes', admin((ctx) => {
    ctx.body = { self: deps.live.config.node.id, nodes: deps.queries.nodes() };
  }));

  router.on('GET', '/api/admin/inspector/actors', admin(async (ctx, hub) => {
    const limit = ctx.query.limit === undefined ? DEFAULT_LIMIT : Math.min(MAX_LIMIT, positiveInt(single(ctx.query.limit), 'limit'));
    const query: SampleQuery = { machine: single(ctx.query.machine), state: single(ctx.query.state), limit };
    if (ctx.query.perState !== undefined) query.perState = Math.min(MAX_LIMIT, positiveInt(single(ctx.query.perState), 'perState'));
    const node = single(ctx.query.node);
    // Without `node`: this node's sample, as before nodes could be chosen.
    if (node === undefined) return void (ctx.body = hub.sample(query));
    const { answers, unanswered } = await deps.queries.ask(ACTORS_QUESTION, query, deps.live.config.cluster.syncTimeout, { nodes: targets(deps, node) });
    const merged = mergeSamples(node, answers, unanswered, Date.now());
    if (node !== ALL && merged.nodes.answered.length === 0) throw unavailable(node, merged.nodes.failed[0]?.error);
    ctx.body = merged;
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
    const node = single(ctx.query.node);
    if (node === ALL) throw new WsmeshError('ERR_BAD_REQUEST', 'An actor id names an actor of one node: give node=<id>, not all');
    const hub = hubOf(deps);
    ctx.set('Cache-Control', 'no-store');
    if (node === undefined) {
      const detail = hub.describe(id);
      if (!detail) throw new WsmeshError('ERR_NOT_FOUND', `No live actor ${JSON.stringify(id)}`);
      return void (ctx.body = detail);
    }
    const { answers } = await deps.queries.ask(ACTOR_QUESTION, { id }, deps.live.config.cluster.syncTimeout, { nodes: targets(deps, node) });
    const answer = answers.find((a) => a.node === node);
    const found = answer ? actorFrom(answer) : { error: 'unanswered' };
    if ('error' in found) throw unavailable(node, found.error);
    if (!found.actor) throw new WsmeshError('ERR_NOT_FOUND', `No live actor ${JSON.stringify(id)} on node ${node}`);
    ctx.body = found.actor;
  };
}

/** The nodes to ask for `?node=`: every live one for `all`, else that one if it is live. */
function targets(deps: AppDeps, node: string): string[] | undefined {
  if (node === ALL) return undefined;
  const live = deps.queries.nodes();
  if (live.includes(node)) return [node];
  throw new WsmeshError('ERR_NODE_UNKNOWN', `No live node ${JSON.stringify(node)}; the live nodes are ${live.join(', ')}`);
}

function unavailable(node: string, error = 'unanswered'): WsmeshError {
  const why = error === 'unanswered' ? 'did not answer within cluster.syncTimeout' : `answered ${error}`;
  return new WsmeshError('ERR_NODE_UNAVAILABLE', `Node ${node} ${why}`);
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
