/**
 * One soak client: a login and one socket, raw `/ws` (the `ws` package) or
 * Socket.IO (the real socket.io-client 4). It keeps the ids of the pushes it must
 * receive (`expect`) and reports each frame: expected, a repeat on this socket
 * (a duplicate), or one it was not told about (a push sent while it was opening:
 * fine). Its socket is closed by `close()` or by the server after a logout (4401,
 * Socket.IO: a server disconnect); any other end is an error.
 */
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import type { LoggedIn } from '../lib/load.ts';

export type SocketKind = 'ws' | 'sio';

export const RAW_PATH = '/ws/soak';
export const SIO_PATH = '/socket.io/soak';
const OPEN_TIMEOUT_MS = 15_000;

export interface ClientEvents {
  frame(kind: 'expected' | 'duplicate' | 'unannounced'): void;
  /** The socket ended in a way the driver did not ask for. */
  error(message: string): void;
}

export class SoakClient {
  /** Push ids this socket must still receive. */
  readonly expected = new Set<string>();
  /** Push ids this socket received (for duplicates): it lives seconds, so this stays small. */
  private readonly seen = new Set<string>();
  private ending = false;
  private loggedOut = false;
  private waiters: Array<() => void> = [];
  private raw?: WebSocket;
  private sio?: Socket;
  private markEnded!: () => void;
  private readonly ended = new Promise<void>((resolve) => (this.markEnded = resolve));

  constructor(
    readonly connectionId: string,
    readonly userId: number,
    readonly kind: SocketKind,
    /** `http://127.0.0.1:<port>` of the node the socket opens on. */
    readonly base: string,
    readonly login: LoggedIn,
    private readonly events: ClientEvents,
  ) {}

  /** Opens the socket; resolves once it is open (Socket.IO: connected). */
  open(): Promise<void> {
    return this.kind === 'ws' ? this.openRaw() : this.openSio();
  }

  /** Marks a push this socket must receive (before the push is sent). */
  expect(id: string): void {
    this.expected.add(id);
  }

  /** Forgets a push whose request failed. */
  unexpect(id: string): void {
    this.expected.delete(id);
  }

  /** Resolves when every expected push arrived, or after `timeoutMs`; returns how many are missing. */
  async drained(timeoutMs: number): Promise<number> {
    if (this.expected.size === 0) return 0;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const check = () => {
        if (this.expected.size === 0) done();
      };
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.waiters.push(check);
    });
    this.waiters = [];
    return this.expected.size;
  }

  /** A logout of this client's session is under way: the server must close the socket (raw: 4401; Socket.IO: a server disconnect). */
  expectLogoutClose(): void {
    this.ending = true;
    this.loggedOut = true;
  }

  /** Resolves once the socket has ended (after `close()`, or the server's close after a logout). */
  closed(): Promise<void> {
    return bounded(this.ended, `socket ${this.connectionId} to close`);
  }

  /** Closes the socket from the client side; resolves once it is closed. */
  async close(): Promise<void> {
    this.ending = true;
    const ws = this.raw;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      ws.close(1000);
      // A peer that does not answer the close frame: drop the TCP connection.
      setTimeout(() => ws.terminate(), 5000).unref();
    } else if (this.sio?.connected) {
      this.sio.close();
    } else {
      this.markEnded();
    }
    await this.closed();
  }

  private received(id: string): void {
    if (this.seen.has(id)) return this.events.frame('duplicate');
    this.seen.add(id);
    if (this.expected.delete(id)) {
      this.events.frame('expected');
      if (this.expected.size === 0) for (const waiter of this.waiters) waiter();
    } else {
      this.events.frame('unannounced');
    }
  }

  private openRaw(): Promise<void> {
    const params = new URLSearchParams({ session: this.login.session, connection: this.connectionId });
    const ws = new WebSocket(`${this.base.replace(/^http/, 'ws')}${RAW_PATH}?${params}`, { headers: { cookie: this.login.cookie } });
    this.raw = ws;
    ws.on('message', (data) => this.received(data.toString()));
    ws.on('close', (code) => {
      this.markEnded();
      if (!this.ending) this.events.error(`raw socket ${this.connectionId} closed with ${code} by the server, unasked`);
      else if (this.loggedOut && code !== 4401) this.events.error(`raw socket ${this.connectionId} closed with ${code} after its logout, not 4401`);
    });
    return bounded(
      new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('unexpected-response', (_req, res) => reject(new Error(`raw socket refused: HTTP ${res.statusCode}`)));
        ws.on('error', reject);
      }),
      `raw socket ${this.connectionId} to open`,
    );
  }

  private openSio(): Promise<void> {
    const socket = io(this.base, {
      path: SIO_PATH,
      transports: ['websocket'],
      query: { session: this.login.session, connection: this.connectionId },
      extraHeaders: { cookie: this.login.cookie },
      transportOptions: { websocket: { extraHeaders: { cookie: this.login.cookie } } },
      forceNew: true,
      reconnection: false,
    });
    this.sio = socket;
    socket.on('message', (text: unknown) => this.received(String(text)));
    socket.on('disconnect', (reason: string) => {
      this.markEnded();
      if (!this.ending) this.events.error(`Socket.IO socket ${this.connectionId} disconnected (${reason}), unasked`);
      else if (this.loggedOut && reason !== 'io server disconnect') this.events.error(`Socket.IO socket ${this.connectionId} disconnected (${reason}) after its logout, not by the server`);
    });
    return bounded(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', (error: Error) => reject(new Error(`Socket.IO connect_error: ${error.message}`)));
      }),
      `Socket.IO socket ${this.connectionId} to connect`,
    );
  }
}

function bounded(promise: Promise<void>, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${OPEN_TIMEOUT_MS} ms waiting for ${what}`)), OPEN_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
