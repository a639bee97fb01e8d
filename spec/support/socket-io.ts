/**
 * The real Socket.IO clients for the integration suites: socket.io-client 4.x
 * (Engine.IO v4) and 2.x (Engine.IO v3), each connecting as the reference web client
 * does (websocket only, the session in the query, the cookie as a header) and
 * recording every event it sees, in order. `IoClientPool.closeAll()` (an `afterEach`
 * hook) closes every client a test opened.
 */
import { io } from 'socket.io-client';
import io2 from 'socket.io-client-v2';
import { eventually, type Login } from './client.ts';

/** What the specs use of a client socket; both versions have it. */
export interface IoSocket {
  readonly connected: boolean;
  readonly io: { on(event: string, listener: (...args: any[]) => void): unknown };
  on(event: string, listener: (...args: any[]) => void): unknown;
  emit(event: string, ...args: unknown[]): unknown;
  close(): unknown;
}

export interface ClientKind {
  name: string;
  eio: 3 | 4;
  open(url: string, options: Record<string, unknown>): IoSocket;
}

export const CLIENTS: readonly ClientKind[] = [
  { name: 'socket.io-client 4.x', eio: 4, open: (url, options) => io(url, options as Parameters<typeof io>[1]) },
  { name: 'socket.io-client 2.x', eio: 3, open: (url, options) => io2(url, options) },
];

/** The path the reference web client connects to. */
export const PATH = '/socket.io/appsuite';
/** Events every client records, in arrival order; manager events get an `io:` prefix. */
const SOCKET_EVENTS = ['connect', 'disconnect', 'connect_error', 'session:invalid', 'message'];
const MANAGER_EVENTS = ['reconnect_attempt', 'ping', 'pong'];

export interface IoClientOptions {
  /** Client options over the reference web client's, e.g. `{ reconnection: true }`. */
  client?: Record<string, unknown>;
  /** Socket events to record besides the usual ones (the names of pushed events). */
  events?: string[];
  /** Default `/`. */
  namespace?: string;
  /** How long `next()` and `connected()` wait unless told otherwise; default 3000 ms. */
  timeoutMs?: number;
}

let connectionCounter = 0;

/** A real client with the reference web client's options, recording what it sees. */
export class IoClient {
  readonly log: Array<{ event: string; args: unknown[] }> = [];
  readonly socket: IoSocket;
  private readonly timeoutMs: number;

  constructor(kind: ClientKind, origin: string, auth: Pick<Login, 'session' | 'cookie'>, options: IoClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.socket = kind.open(`${origin}${options.namespace ?? '/'}`, {
      path: PATH,
      transports: ['websocket'],
      query: { session: auth.session, connection: `sio-${++connectionCounter}` },
      extraHeaders: { cookie: auth.cookie },
      transportOptions: { websocket: { extraHeaders: { cookie: auth.cookie } } },
      forceNew: true,
      reconnection: false,
      ...options.client,
    });
    for (const event of [...SOCKET_EVENTS, ...(options.events ?? [])]) this.socket.on(event, (...args: unknown[]) => this.log.push({ event, args: this.appArgs(args) }));
    for (const event of MANAGER_EVENTS) this.socket.io.on(event, (...args: unknown[]) => this.log.push({ event: `io:${event}`, args }));
  }

  /** The offsets events carried (connection state recovery, history on), in arrival order. */
  readonly offsets: string[] = [];

  /**
   * The args as the app pushed them: with connection state recovery on (the server
   * gave a pid), Socket.IO appends the event's offset as a last string argument.
   */
  private appArgs(args: unknown[]): unknown[] {
    const last = args.at(-1);
    if (!(this.socket as unknown as { _pid?: string })._pid || typeof last !== 'string' || !/^1\.[0-9a-z]+(\.|$)/.test(last)) return args;
    this.offsets.push(last);
    return args.slice(0, -1);
  }

  count(event: string): number {
    return this.log.filter((entry) => entry.event === event).length;
  }

  /** The args of the `nth` (1-based) occurrence of `event`, once it arrived. */
  async next(event: string, nth = 1, timeoutMs = this.timeoutMs): Promise<unknown[]> {
    await eventually(() => this.count(event) >= nth, `${event} #${nth} (seen: ${this.log.map((e) => e.event).join(', ') || 'nothing'})`, timeoutMs);
    return this.log.filter((entry) => entry.event === event)[nth - 1].args;
  }

  async connected(timeoutMs = this.timeoutMs): Promise<this> {
    await this.next('connect', 1, timeoutMs);
    return this;
  }

  close(): void {
    this.socket.close();
  }
}

/** Every client a test opens; `closeAll()` closes them, so none outlives its test. */
export class IoClientPool {
  private readonly clients: IoClient[] = [];

  /** `defaults`: options every client of the pool gets unless `open` says otherwise. */
  constructor(private readonly defaults: IoClientOptions = {}) {}

  open(kind: ClientKind, origin: string, auth: Pick<Login, 'session' | 'cookie'>, options: IoClientOptions = {}): IoClient {
    const client = new IoClient(kind, origin, auth, { ...this.defaults, ...options });
    this.clients.push(client);
    return client;
  }

  closeAll(): void {
    for (const client of this.clients.splice(0)) client.close();
  }
}
