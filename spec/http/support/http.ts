/**
 * Helpers of the HTTP integration suites: plain `node:http` requests (so a test can
 * pick its source address), raw TCP exchanges (for requests `fetch` and `ws` refuse
 * to send), cookie parsing, and a pool of sockets that a suite terminates after
 * each test so none leaks.
 */
import http from 'node:http';
import net from 'node:net';
import { expect } from 'chai';
import { eventually, TestSocket, type Login } from '../../support/client.ts';
import { ADMIN_TOKEN, type TestNode } from '../../support/node.ts';

/** A second loopback address: Linux routes all of 127/8 to `lo`, so the server sees it as the peer. */
export const OTHER_LOOPBACK = '127.0.0.2';

export const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` } as const;

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  setCookies: string[];
  text: string;
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  body: any;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string | number>;
  /** A string or Buffer body, written at once. */
  body?: string | Buffer;
  /** Chunks written one by one with `Transfer-Encoding: chunked` (no Content-Length). */
  chunks?: Buffer[];
  /** The source address of the TCP connection. */
  localAddress?: string;
}

/** One HTTP request on its own connection (no agent, no keep-alive left behind). */
export function request(url: string, options: RequestOptions = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, localAddress: options.localAddress, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, headers: res.headers, setCookies: res.headers['set-cookie'] ?? [], text, body: parseJson(text) });
      });
    });
    req.on('error', reject);
    if (options.chunks) {
      for (const chunk of options.chunks) req.write(chunk);
      req.end();
    } else {
      req.end(options.body);
    }
  });
}

/** A JSON POST. */
export function postJson(url: string, body: unknown, headers: Record<string, string> = {}, localAddress?: string): Promise<HttpAnswer> {
  return request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), localAddress });
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: any;
  raw: string;
}

/** Writes `text` on a fresh TCP connection and reads until the server closes it. */
export function rawExchange(url: string, text: string, timeoutMs = 3000): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close from the server within ${timeoutMs} ms; read so far: ${Buffer.concat(chunks).toString('utf8')}`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(text));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseRaw(Buffer.concat(chunks).toString('utf8')));
    });
  });
}

function parseRaw(raw: string): RawAnswer {
  const end = raw.indexOf('\r\n\r\n');
  const head = end === -1 ? raw : raw.slice(0, end);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = end === -1 ? '' : raw.slice(end + 4);
  // Koa answers a JSON body with Content-Length; chunked framing would need decoding.
  if (headers['transfer-encoding'] === 'chunked') body = body.replace(/^[0-9a-f]+\r\n|\r\n[0-9a-f]+\r\n|\r\n0\r\n\r\n$/gi, '');
  return { status: Number(statusLine.split(' ')[1]), headers, body: parseJson(body), raw };
}

export interface SetCookie {
  name: string;
  value: string;
  /** Attribute names lower-cased; flags (HttpOnly) map to ''. */
  attributes: Map<string, string>;
}

export function parseSetCookie(line: string): SetCookie {
  const [pair = '', ...attrs] = line.split(';').map((part) => part.trim());
  const eq = pair.indexOf('=');
  const attributes = new Map<string, string>();
  for (const attr of attrs) {
    const at = attr.indexOf('=');
    attributes.set((at === -1 ? attr : attr.slice(0, at)).toLowerCase(), at === -1 ? '' : attr.slice(at + 1));
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

/** The Set-Cookie of `name`; fails the test when there is none or several. */
export function setCookie(setCookies: string[], name: string): SetCookie {
  const found = setCookies.map(parseSetCookie).filter((cookie) => cookie.name === name);
  expect(found, `Set-Cookie ${name} in ${JSON.stringify(setCookies)}`).to.have.length(1);
  return found[0]!;
}

/** A `Cookie` header from `name=value` pairs. */
export function cookieHeader(pairs: Record<string, string>): string {
  return Object.entries(pairs)
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');
}

/** The cookies of a login as a name -> value map (secret, its signature, JSESSIONID). */
export function cookiesOf(login: Pick<Login, 'cookie'>): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const pair of login.cookie.split('; ')) {
    const eq = pair.indexOf('=');
    cookies[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return cookies;
}

/** What a refused handshake answered. */
export interface Refusal {
  status: number;
  body: any;
  headers: http.IncomingHttpHeaders;
}

export interface SocketRequest {
  /** Sent as `?session=`; omit to send no session parameter. */
  session?: string;
  /** The `Cookie` header; omit to send none. */
  cookie?: string;
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  localAddress?: string;
}

/** The request of a logged-in client: its session id and cookie. */
export function as(auth: Pick<Login, 'session' | 'cookie'>, more: Omit<SocketRequest, 'session' | 'cookie'> = {}): SocketRequest {
  return { session: auth.session, cookie: auth.cookie, ...more };
}

/**
 * Every socket a test opens or tries to open; `terminateAll()` (in `afterEach`) ends
 * them, so a failing test leaks nothing into the next one.
 */
export class SocketPool {
  private readonly sockets: TestSocket[] = [];

  constructor(private readonly wsUrl: () => string) {}

  private create(request: SocketRequest): TestSocket {
    const params = new URLSearchParams(request.query);
    if (request.session !== undefined) params.set('session', request.session);
    const query = params.size ? `?${params}` : '';
    const headers = { ...(request.cookie === undefined ? {} : { cookie: request.cookie }), ...request.headers };
    const socket = new TestSocket(`${this.wsUrl()}${request.path ?? '/ws/demo'}${query}`, { headers, localAddress: request.localAddress });
    this.sockets.push(socket);
    return socket;
  }

  /** Opens a socket; fails when the handshake is refused. */
  async open(request: SocketRequest): Promise<TestSocket> {
    const socket = this.create(request);
    try {
      await socket.opened();
    } catch (error) {
      const { status, body } = error as Partial<Refusal>;
      throw new Error(`expected the handshake to succeed, got ${status} ${JSON.stringify(body)}`);
    }
    return socket;
  }

  /** Tries to open a socket that must be refused; answers the refusal. */
  async refused(request: SocketRequest): Promise<Refusal> {
    const socket = this.create(request);
    try {
      await socket.opened();
    } catch (error) {
      const refusal = error as Partial<Refusal>;
      if (refusal.status === undefined) throw error;
      return refusal as Refusal;
    } finally {
      // A refused client stays CONNECTING until told otherwise; end it now.
      if (socket.closeCode === undefined) socket.close();
    }
    throw new Error('expected the handshake to be refused, but the socket opened');
  }

  terminateAll(): void {
    for (const socket of this.sockets.splice(0)) socket.close();
  }
}

/** Fails unless `refusal` is an HTTP answer with this status and code, closing the connection. */
export function expectRefusal(refusal: Refusal, status: number, code: string): void {
  expect({ status: refusal.status, error: refusal.body?.error }).to.deep.equal({ status, error: code });
  expect(refusal.body.message).to.be.a('string').that.is.not.empty;
  expect(refusal.headers.connection).to.equal('close');
  expect(refusal.headers['content-type']).to.match(/^application\/json/);
}

/** The node still answers HTTP. */
export async function expectHealthy(node: TestNode): Promise<void> {
  const answer = await request(`${node.url}/healthz`);
  expect(answer.status).to.equal(200);
}

/** Waits until the node's index holds exactly `count` sockets (closes are seen asynchronously). */
export async function untilLocalSockets(node: TestNode, count: number): Promise<void> {
  await eventually(() => node.node.index.size === count, `${count} local sockets (have ${node.node.index.size})`);
}

/** The admin listing of a user's sockets. */
export async function listSockets(node: TestNode, query = ''): Promise<any[]> {
  const answer = await request(`${node.url}/api/admin/sockets${query}`, { headers: ADMIN });
  expect(answer.status, answer.text).to.equal(200);
  return answer.body;
}

/** The demo directory with `edit` applied to its parsed JSON. */
export function editDirectory(text: string, edit: (data: any) => void): string {
  const data = JSON.parse(text);
  edit(data);
  return JSON.stringify(data);
}
