/**
 * A client of a node's admin API (docs/api.md, "Pushing" and "Operating"): one
 * method per route. Failures become `CliError`s whose message says what to do next:
 * exit 3 when no node answers, exit 1 when the node answers with an HTTP error.
 */
import type { RemoteSocketRow } from '../delivery/remote.ts';
import type { ClusterTrace } from '../trace/assemble.ts';
import { CliError } from './cli-error.ts';
import { ExitCode } from './io.ts';

export const DEFAULTS = {
  url: 'http://127.0.0.1:8009',
  /** A node answers in milliseconds; past this it is wedged or the address is wrong. */
  timeoutMs: 10_000,
} as const;

/** Where the node is and how to authenticate to it. */
export interface AdminTarget {
  /** The node's base URL, without a trailing slash (it may have a path, behind a proxy). */
  readonly url: string;
  readonly token: string;
}

/** One row of `GET /api/admin/sockets`: the node answers the rows its delivery service lists. */
export type SocketRow = RemoteSocketRow;

/** `GET /api/admin/stats`. Fields a node may lack (older nodes) are optional. */
export interface NodeStatsBody {
  node: { id: string; route: string };
  sockets: { local: number; cluster?: number };
  nodes?: number;
  bufferedMessages: number;
  sessions: number;
  counters: {
    handshakes: { accepted: number; rejected: Record<string, number> };
    messages: { delivered: number; received: number; dropped: Record<string, number> };
    slowConsumerCloses: number;
    remote?: { publishes: number; sent: number; received: number };
  };
}

/** The body of `POST /api/push`. */
export interface PushBody {
  contextId: number;
  userId: number;
  message: unknown;
  pathFilter?: string;
  sourceToken?: string;
}

export interface PushResult {
  /** Sockets on the node written to. */
  local: number;
  /** Other nodes the message was queued for. */
  remote: number;
}

/** The advice for every "no node there" failure. */
const UNREACHABLE_ADVICE = 'is it running? set --url or WSMESH_URL';
/** Errors of a connection that never got an HTTP answer. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);

export class AdminClient {
  constructor(
    private readonly target: AdminTarget,
    private readonly timeoutMs: number = DEFAULTS.timeoutMs,
  ) {}

  listSockets(filter: { contextId?: number; userId?: number; cluster?: boolean }): Promise<SocketRow[]> {
    const query = new URLSearchParams();
    if (filter.contextId !== undefined) query.set('contextId', String(filter.contextId));
    if (filter.userId !== undefined) query.set('userId', String(filter.userId));
    if (filter.cluster) query.set('scope', 'cluster');
    return this.request('GET', 'api/admin/sockets', query) as Promise<SocketRow[]>;
  }

  /** Closes the user's matching sockets (close code 4403) cluster-wide; how many. */
  async closeSockets(filter: { contextId: number; userId: number; pathFilter?: string }): Promise<number> {
    const query = new URLSearchParams({ contextId: String(filter.contextId), userId: String(filter.userId) });
    if (filter.pathFilter !== undefined) query.set('pathFilter', filter.pathFilter);
    const body = (await this.request('DELETE', 'api/admin/sockets', query)) as { closed: number };
    return body.closed;
  }

  stats(): Promise<NodeStatsBody> {
    return this.request('GET', 'api/admin/stats') as Promise<NodeStatsBody>;
  }

  push(body: PushBody): Promise<PushResult> {
    return this.request('POST', 'api/push', undefined, body) as Promise<PushResult>;
  }

  /** What became of one message over the cluster (`GET /api/admin/trace/<id>`). */
  trace(messageId: string): Promise<ClusterTrace> {
    return this.request('GET', `api/admin/trace/${encodeURIComponent(messageId)}`) as Promise<ClusterTrace>;
  }

  private async request(method: string, path: string, query?: URLSearchParams, body?: unknown): Promise<unknown> {
    // Relative to the base, so a node behind a proxy prefix (https://host/wsmesh) works.
    const url = new URL(path, `${this.target.url}/`);
    if (query) url.search = query.toString();
    const headers: Record<string, string> = { authorization: `Bearer ${this.target.token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'manual',
      });
      text = await res.text();
    } catch (err) {
      throw this.unreachable(err);
    }
    if (!res.ok) throw this.refused(res.status, parseJson(text));
    const parsed = parseJson(text);
    if (parsed === undefined) throw this.notWsmesh(`answered HTTP ${res.status} with a body that is not JSON`);
    return parsed;
  }

  private unreachable(err: unknown): CliError {
    const error = err as Error & { cause?: { code?: string; message?: string } };
    if (error.name === 'TimeoutError') {
      return new CliError(`no answer from ${this.target.url} within ${this.timeoutMs / 1000} s: ${UNREACHABLE_ADVICE}`, ExitCode.UNREACHABLE);
    }
    const code = error.cause?.code;
    if (code !== undefined && UNREACHABLE_CODES.has(code)) {
      return new CliError(`no node answers at ${this.target.url}: ${UNREACHABLE_ADVICE}`, ExitCode.UNREACHABLE);
    }
    // TLS failures and the like: say what happened, it is not a missing node.
    const reason = error.cause?.message ?? error.message;
    return new CliError(`cannot reach ${this.target.url}: ${reason}`, ExitCode.UNREACHABLE);
  }

  private refused(status: number, body: unknown): CliError {
    if (status === 401) {
      return new CliError("the admin token was refused: set WSMESH_ADMIN_TOKEN to the node's admin.token", ExitCode.FAILURE);
    }
    const { error, message } = (body ?? {}) as { error?: unknown; message?: unknown };
    if (typeof error !== 'string' || typeof message !== 'string') return this.notWsmesh(`answered HTTP ${status} without a wsmesh error body`);
    return new CliError(`${message} (HTTP ${status} ${error})`, ExitCode.FAILURE);
  }

  private notWsmesh(what: string): CliError {
    return new CliError(`${this.target.url} ${what}: is --url a wsmesh node?`, ExitCode.FAILURE);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
