/**
 * A small JSON-over-HTTP client on a keep-alive agent: the push phase reuses
 * connections, so it measures the server's request handling, not TCP setup.
 */
import http from 'node:http';

export interface JsonResponse {
  status: number;
  body: unknown;
  /** `name=value` of every Set-Cookie, joined as a Cookie header. */
  cookie: string;
}

export interface JsonRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

const REQUEST_TIMEOUT_MS = 30_000;

export class JsonClient {
  private readonly agent: http.Agent;

  /** `agentOptions` are added to the agent's, e.g. `{ localAddress }` to send from another loopback address. */
  constructor(
    readonly baseUrl: string,
    maxSockets: number,
    agentOptions: http.AgentOptions = {},
  ) {
    this.agent = new http.Agent({ ...agentOptions, keepAlive: true, maxSockets });
  }

  /**
   * A kept-alive connection the server closed while idle (its keepAliveTimeout, 5 s)
   * can take a request in the same instant and answer ECONNRESET; as Node's docs
   * advise (http, `request.reusedSocket`), that request is sent once more on a fresh
   * connection. It never reached the server, so nothing is sent twice.
   */
  async request(request: JsonRequest): Promise<JsonResponse> {
    try {
      return await this.once(request);
    } catch (error) {
      if ((error as { reusedSocket?: boolean }).reusedSocket && (error as NodeJS.ErrnoException).code === 'ECONNRESET') return this.once(request);
      throw error;
    }
  }

  private once({ method, path, body, headers = {} }: JsonRequest): Promise<JsonResponse> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const url = new URL(path, this.baseUrl);
    return new Promise((resolve, reject) => {
      const req = http.request(
        url,
        {
          method,
          agent: this.agent,
          headers: payload ? { ...headers, 'content-type': 'application/json', 'content-length': String(payload.length) } : headers,
          timeout: REQUEST_TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // Not JSON: keep the text, the caller reports it.
            }
            const cookie = (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
            resolve({ status: res.statusCode ?? 0, body: parsed, cookie });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', (error) => reject(Object.assign(error, { reusedSocket: req.reusedSocket })));
      req.end(payload);
    });
  }

  /** Closes the kept-alive connections, so nothing holds the event loop open. */
  close(): void {
    this.agent.destroy();
  }
}

/** `GET path` until it answers 200, the deadline passes, or `gaveUp()` says to stop. */
export async function waitForOk(baseUrl: string, path: string, deadlineMs: number, gaveUp: () => string | undefined): Promise<void> {
  const client = new JsonClient(baseUrl, 1);
  const start = Date.now();
  try {
    for (;;) {
      const reason = gaveUp();
      if (reason) throw new Error(reason);
      try {
        const res = await client.request({ method: 'GET', path });
        if (res.status === 200) return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() - start > deadlineMs) throw new Error(`${baseUrl}${path} did not answer 200 within ${deadlineMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    client.close();
  }
}
