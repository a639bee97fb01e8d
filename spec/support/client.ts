/**
 * Real clients: HTTP with a cookie jar, and `ws` sockets that record every frame and
 * the close code. Waits are bounded; a timeout names what was awaited.
 */
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { ADMIN_TOKEN } from './node.ts';

export interface Login {
  session: string;
  userId: number;
  contextId: number;
  route: string;
  /** The `Cookie` header to send: secret, its signature, JSESSIONID. */
  cookie: string;
  setCookies: string[];
}

export async function login(baseUrl: string, loginName = 'alice@demo', password = 'wonderland'): Promise<Login> {
  const res = await fetch(`${baseUrl}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: loginName, password }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const setCookies = res.headers.getSetCookie();
  const cookie = setCookies.map((c) => c.split(';')[0]).join('; ');
  return { ...(await res.json()), cookie, setCookies };
}

export async function push(baseUrl: string, body: unknown, token = ADMIN_TOKEN): Promise<{ status: number; body: any }> {
  const res = await fetch(`${baseUrl}/api/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: res.status === 204 ? undefined : await res.json() };
}

export async function admin(baseUrl: string, method: string, path: string, token = ADMIN_TOKEN): Promise<{ status: number; body: any }> {
  const res = await fetch(`${baseUrl}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

export class TestSocket {
  readonly frames: string[] = [];
  readonly ws: WebSocket;
  closeCode: number | undefined;
  closeReason = '';
  private readonly closed: Promise<number>;
  private waiters: Array<() => void> = [];

  constructor(url: string, options: WebSocket.ClientOptions = {}) {
    this.ws = new WebSocket(url, options);
    this.ws.on('message', (data) => {
      this.frames.push(data.toString());
      this.notify();
    });
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.notify();
        resolve(code);
      });
    });
    this.ws.on('error', () => {});
  }

  /** Resolves on open; rejects with the HTTP status and body of a refused handshake. */
  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) return resolve();
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => {
          let parsed: unknown = body;
          try {
            parsed = JSON.parse(body || '{}');
          } catch {
            // not JSON (e.g. a proxy's HTML error page): keep the text
          }
          reject(Object.assign(new Error(`handshake refused: ${res.statusCode} ${body.slice(0, 200)}`), { status: res.statusCode, body: parsed, headers: res.headers }));
        });
      });
      this.ws.once('error', reject);
    });
  }

  async nextFrames(count: number, timeoutMs = 3000): Promise<string[]> {
    await this.until(() => this.frames.length >= count, `${count} frames (have ${this.frames.length})`, timeoutMs);
    return this.frames.slice(0, count);
  }

  async closedWith(timeoutMs = 3000): Promise<number> {
    await this.until(() => this.closeCode !== undefined, 'the close', timeoutMs);
    return this.closed;
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }

  private until(done: () => boolean, what: string, timeoutMs: number): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Opens `/ws/<path>` as the logged-in user; rejects with the refusal's status and body. */
export async function openSocket(wsUrl: string, auth: Pick<Login, 'session' | 'cookie'>, path = '/ws/demo', query: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<TestSocket> {
  const params = new URLSearchParams({ session: auth.session, ...query });
  const socket = new TestSocket(`${wsUrl}${path}?${params}`, { headers: { cookie: auth.cookie, ...headers } });
  await socket.opened();
  return socket;
}

/** Polls a condition; for state that changes on the server side. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The TCP socket under a test client: for bytes or a FIN that must go without ws (a burst in one write, no close frame). */
export function tcpOf(socket: TestSocket): Duplex {
  return (socket.ws as unknown as { _socket: Duplex })._socket;
}
