/**
 * What the fuzz targets may see, read from the documentation itself (docs/api.md's
 * error catalogue and close-code table, docs/protocol.md's Engine.IO answer), and
 * the checks after a run: `/healthz` answers and `/metrics` shows no open socket.
 */
import { readFileSync } from 'node:fs';
import { ERRORS } from '../../../src/errors.ts';
import { eventually } from '../../support/client.ts';

const API_DOC = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8');

/** `code -> status` from docs/api.md's "Error catalogue" table. */
export const DOCUMENTED_ERRORS: ReadonlyMap<string, number> = new Map(
  [...section(API_DOC, '## Error catalogue').matchAll(/^\| `(ERR_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]),
);

/** The close codes of docs/api.md's "Close codes" table. */
export const DOCUMENTED_CLOSE_CODES: ReadonlySet<number> = new Set([...section(API_DOC, '### Close codes').matchAll(/^\| (\d{4}) \|/gm)].map((m) => Number(m[1])));

/** Statuses an API call may answer with besides the catalogue's (docs/api.md per route). */
export const SUCCESS_STATUSES: ReadonlySet<number> = new Set([200, 202, 204]);

function section(doc: string, heading: string): string {
  const start = doc.indexOf(`${heading}\n`);
  if (start < 0) throw new Error(`docs/api.md has no "${heading}" section`);
  const rest = doc.slice(start + heading.length);
  const end = rest.search(/^#{2,3} /m);
  return end < 0 ? rest : rest.slice(0, end);
}

if (DOCUMENTED_ERRORS.size !== Object.keys(ERRORS).length || DOCUMENTED_CLOSE_CODES.size < 10) {
  throw new Error(`fuzz oracle: read ${DOCUMENTED_ERRORS.size} catalogue rows and ${DOCUMENTED_CLOSE_CODES.size} close codes from docs/api.md; has its layout changed?`);
}

export interface HttpAnswer {
  status: number;
  /** The body as received (at most the first bytes of a long one). */
  body: Buffer;
  contentType?: string;
}

/** Where the answer came from, for the exceptions the docs make. */
export interface AnswerContext {
  /** A Socket.IO path without an upgrade: Engine.IO's own `{code,message}` 400 (docs/protocol.md). */
  engineIoPath?: boolean;
  /** `/readyz`: `{ready:false,...}` with 503 while not ready. */
  readiness?: boolean;
}

/** Judges one HTTP answer: a label to count it under, and a problem if the docs do not allow it. */
export function judgeHttp(answer: HttpAnswer, context: AnswerContext = {}): { label: string; problem?: string } {
  const { status } = answer;
  if (SUCCESS_STATUSES.has(status) || status === 101) return { label: `http ${status}` };
  if (status < 400) return { label: `http ${status}`, problem: `undocumented status ${status}` };
  let body: unknown;
  try {
    body = JSON.parse(answer.body.toString('utf8'));
  } catch {
    return { label: `http ${status} (not JSON)`, problem: `status ${status} with a body that is not JSON: ${JSON.stringify(answer.body.subarray(0, 120).toString('latin1'))}` };
  }
  const fields = body as { error?: unknown; message?: unknown; code?: unknown; ready?: unknown };
  if (context.engineIoPath && status === 400 && (fields.code === 0 || fields.code === 3) && typeof fields.message === 'string') return { label: `http 400 engine.io code ${fields.code}` };
  if (context.readiness && status === 503 && fields.ready === false) return { label: 'http 503 not ready' };
  if (typeof fields.error !== 'string' || typeof fields.message !== 'string') return { label: `http ${status} (no error/message)`, problem: `status ${status} without {error,message}: ${JSON.stringify(body).slice(0, 120)}` };
  const label = `http ${status} ${fields.error}`;
  const documented = DOCUMENTED_ERRORS.get(fields.error);
  if (documented === undefined) return { label, problem: `error ${fields.error} is not in the catalogue` };
  if (documented !== status) return { label, problem: `error ${fields.error} answered with ${status}, the catalogue says ${documented}` };
  if (status === 500) return { label, problem: `500 ERR_INTERNAL: a bug (see the node's log)` };
  return { label };
}

/**
 * Judges a close code seen by a client. `echoed`: codes the client itself sent in a
 * close frame, which RFC 6455 section 5.5.1 has the server echo back.
 */
export function judgeClose(code: number | undefined, echoed: ReadonlySet<number> = new Set()): { label: string; problem?: string } {
  if (code === undefined) return { label: 'close without code (1005)' };
  if (echoed.has(code)) return { label: `close ${code} (echo)` };
  if (DOCUMENTED_CLOSE_CODES.has(code)) return { label: `close ${code}` };
  return { label: `close ${code}`, problem: `close code ${code} is not in docs/api.md` };
}

/** Whether `GET /healthz` answers 200 within `timeoutMs`. */
export async function healthy(baseUrl: string, timeoutMs = 3000): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** The sum of `wsmesh_sockets_open` over its prefixes, from `/metrics`. */
export async function openSockets(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(/^wsmesh_sockets_open(?:\{[^}]*\})? (\d+(?:\.\d+)?)$/gm)) sum += Number(m[1]);
  return sum;
}

/** The end-of-run check: `/metrics` shows `expected` open sockets (0 once the fuzz clients are gone) within 5 s. */
export async function socketsSettled(baseUrl: string, expected = 0): Promise<string[]> {
  try {
    await eventually(async () => (await openSockets(baseUrl)) === expected, `wsmesh_sockets_open to be ${expected}`, 5000);
    return [];
  } catch {
    return [`${baseUrl}/metrics shows ${await openSockets(baseUrl)} open sockets, expected ${expected} once the fuzz clients are gone`];
  }
}
