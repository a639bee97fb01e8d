/**
 * Target `http`: every route of the node's API, enumerated from the node itself
 * (each `Router.on` the app makes, plus the routes with a parameter), called with
 * mutated JSON bodies, wrong content types, huge bodies, odd query strings and
 * paths, other methods, and with no, a wrong, or the right credentials. The oracle:
 * every answer is a documented success or a catalogued `{error,message}`.
 */
import type { Random } from '../../support/random.ts';
import { ADMIN_TOKEN } from '../../support/node.ts';
import { Router } from '../../../src/http/router.ts';
import type { FuzzInput, FuzzTarget, Verdict } from '../support/engine.ts';
import { mutateBytes, mutatedJsonText, oddString, percentEncode, randomBytes, randomText } from '../support/mutate.ts';
import { judgeHttp } from '../support/oracle.ts';
import { startFuzzNode, type FuzzNode } from '../support/standalone.ts';
import { httpCall } from './engine-io.ts';

/** The routes with a parameter (matched by prefix after the route table), with a sample tail. */
const PREFIX_ROUTES: Array<[method: string, path: string]> = [
  ['GET', '/api/admin/trace/m-1'],
  ['GET', '/api/admin/inspector/actors/node'],
];

/** A valid body per route, for mutation. */
const SAMPLES: Record<string, unknown> = {
  '/api/login': { login: 'alice@demo', password: 'wonderland' },
  '/api/push': { contextId: 1, userId: 3, message: 'hello', pathFilter: '/ws/*', id: 'm-1', trace: true, sourceToken: 'c1' },
  '/api/admin/sessions/end': { sessionId: 'app-session-1' },
};

const QUERIES = ['', 'session=SESSION', 'scope=cluster&contextId=1&userId=3', 'contextId=1&userId=3&pathFilter=/ws/*', 'contextId=1&contextId=2', 'limit=0', 'node=all', 'perState=-1', 'since=1-0&envelope=1', 'x=%zz', '%', '=&=&', 'contextId=1e3&userId=0x3'];
const METHODS = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS'];
const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/json; charset=utf-16', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', '', 'application/json, text/plain'];

/** Every `METHOD path` the node's router holds: recorded while the node builds its app. */
export async function withRecordedRoutes<T>(start: () => Promise<T>): Promise<{ value: T; routes: Array<[string, string]> }> {
  const routes: Array<[string, string]> = [];
  const on = Router.prototype.on;
  Router.prototype.on = function (this: Router, method: string, path: string, handler) {
    routes.push([method, path]);
    return on.call(this, method, path, handler);
  };
  try {
    return { value: await start(), routes };
  } finally {
    Router.prototype.on = on;
  }
}

function body(rng: Random, path: string): Buffer {
  const sample = SAMPLES[path] ?? { a: 1 };
  switch (rng.int(8)) {
    case 0:
      return randomBytes(rng, 64);
    case 1:
      return Buffer.alloc(0);
    case 2:
      // Over the 1 MiB limit, or just under it.
      return Buffer.from(JSON.stringify({ ...(sample as object), pad: 'x'.repeat(rng.pick([(1 << 20) + 10, (1 << 20) - 200])) }));
    case 3:
      return mutateBytes(rng, Buffer.from(JSON.stringify(sample)));
    default:
      return mutatedJsonText(rng, sample, 1 << 16);
  }
}

function generate(rng: Random, routes: Array<[string, string]>): FuzzInput {
  const [routeMethod, routePath] = rng.pick(routes);
  const method = rng.next() < 0.75 ? routeMethod : rng.pick(METHODS);
  let path = routePath;
  if (rng.next() < 0.15) path = rng.pick([`${routePath}/`, `${routePath}/${oddString(rng, 2000)}`, routePath.toUpperCase(), `/${randomText(rng, 12)}`, `${routePath}%00`, `/api/../${routePath}`, '/ws/demo', '/socket.io/appsuite/']);
  const query = rng.next() < 0.6 ? rng.pick(QUERIES) : `${percentEncode(randomText(rng, 6), /[A-Za-z0-9_.-]/)}=${percentEncode(oddString(rng, 4000), /[A-Za-z0-9_.-]/)}`;
  const auth = rng.pick(['none', 'admin', 'admin', 'wrong', 'session', 'basic']);
  const contentType = rng.next() < 0.7 ? 'application/json' : rng.pick(CONTENT_TYPES);
  const encoded = percentEncode(path, /[A-Za-z0-9_.~!$&'()*+,;=:@/%-]/);
  return { meta: { method, path: `${encoded}${query ? '?' : ''}${query}`, auth, contentType }, parts: [body(rng, routePath)] };
}

function headersOf(node: FuzzNode, input: FuzzInput): Record<string, string> {
  const headers: Record<string, string> = {};
  if (input.meta.contentType) headers['content-type'] = input.meta.contentType;
  if (input.meta.auth === 'admin') headers.authorization = `Bearer ${ADMIN_TOKEN}`;
  if (input.meta.auth === 'wrong') headers.authorization = `Bearer ${ADMIN_TOKEN}x`;
  if (input.meta.auth === 'basic') headers.authorization = 'Basic YWxpY2U6d29uZGVybGFuZA==';
  if (input.meta.auth === 'session') headers.cookie = node.auth.cookie;
  return headers;
}

async function send(node: FuzzNode, input: FuzzInput): Promise<Verdict> {
  const path = input.meta.path.replace('SESSION', node.auth.session);
  try {
    const answer = await httpCall(node.port, input.meta.method, path, headersOf(node, input), Buffer.concat(input.parts));
    if (input.meta.method === 'HEAD') return { answer: `http ${answer.status} (HEAD)` };
    const onEngineIo = path.startsWith('/socket.io/');
    const verdict = judgeHttp(answer, { engineIoPath: onEngineIo, readiness: path.startsWith('/readyz') });
    return { answer: verdict.label, problem: verdict.problem };
  } catch (error) {
    // Node's client refuses some paths before sending: nothing reached the server.
    if ((error as NodeJS.ErrnoException).code === 'ERR_UNESCAPED_CHARACTERS') return { answer: 'not sent (client refused the path)' };
    return { answer: 'no answer', problem: (error as Error).message };
  }
}

export const http: FuzzTarget = {
  name: 'http',
  summary: 'HTTP bodies, content types, queries and credentials on every route',
  counts: { test: 250, run: 4000 },
  async start() {
    const { value: node, routes } = await withRecordedRoutes(() => startFuzzNode());
    const all = [...new Map([...routes, ...PREFIX_ROUTES].map((r) => [r.join(' '), r])).values()];
    return {
      generate: (rng) => generate(rng, all),
      send: (input) => send(node, input),
      alive: node.alive,
      settle: node.settle,
      stop: node.stop,
    };
  },
};
