/**
 * Many client sockets from one process, kept cheap: ws without permessage-deflate,
 * no per-socket closure once open (the listeners are module-level functions that
 * find their owner through a symbol, as src/actors/socket-events.ts does), and the
 * source address and port chosen per socket, so that more sockets than one address
 * has ports reach one server port. Also the open-file limit such a run meets.
 *
 * Why explicit source ports: a socket bound to an address with port 0 makes Linux
 * search that address's bound ports for a free one, which costs O(ports in use):
 * measured here, ~1.1 ms of system CPU per connect with 5k sockets on the address
 * against ~0.04 ms with an explicit port (the kernel's IP_BIND_ADDRESS_NO_PORT
 * avoids it, but Node cannot set it). The client's cost would then grow with the
 * number of open sockets, which is what the bench measures on the server.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import WebSocket from 'ws';

const HANDSHAKE_TIMEOUT_MS = 30_000;
/** Source ports handed out, on each source address; below are the well-known and registered ports of local services. */
const FIRST_PORT = 10_000;
const LAST_PORT = 65_535;
/**
 * Sockets planned per source address: well under its ports, so the round-robin
 * allocation reuses a port only long after it was released (its connection may be
 * in TIME_WAIT on the server for a minute).
 */
const SOCKETS_PER_ADDRESS = 24_000;
/** A port some listener holds (EADDRINUSE), or a connection still known (EADDRNOTAVAIL): try the next one, this many times. */
const BIND_RETRIES = 20;
const RETRIED = new Set(['EADDRINUSE', 'EADDRNOTAVAIL']);

const OWNER = Symbol('bench.leanSockets');
/** `address index * 65536 + port` of the socket's source. */
const SOURCE = Symbol('bench.source');
type OwnedSocket = WebSocket & { [OWNER]?: LeanSockets; [SOURCE]?: number };

/** The open-file limit of this process (children inherit it), from /proc; undefined elsewhere. */
export function openFileLimit(): { soft: number; hard: number } | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const match = line && /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(line);
    if (!match) return undefined;
    const value = (text: string) => (text === 'unlimited' ? Infinity : Number(text));
    return { soft: value(match[1]), hard: value(match[2]) };
  } catch {
    return undefined;
  }
}

/** 127.0.0.2, 127.0.0.3, ...: enough loopback source addresses for `sockets` client sockets at once. */
export function sourceAddresses(sockets: number): string[] {
  const count = Math.max(1, Math.ceil(sockets / SOCKETS_PER_ADDRESS));
  if (count > 250) throw new Error(`${sockets} sockets need ${count} source addresses of ${SOCKETS_PER_ADDRESS} sockets each; at most 250 are used`);
  return Array.from({ length: count }, (_, i) => `127.0.0.${i + 2}`);
}

/** Source ports per address, handed out round-robin (a released port comes back last), O(1) amortised. */
export class SourcePorts {
  private readonly inUse: Uint8Array[];
  private readonly next: number[];

  constructor(readonly addresses: readonly string[]) {
    this.inUse = addresses.map(() => new Uint8Array(LAST_PORT + 1));
    this.next = addresses.map(() => FIRST_PORT);
  }

  /** A free port of address `a`; throws when every port of the range is taken. */
  take(a: number): number {
    const inUse = this.inUse[a];
    for (let tries = 0; tries <= LAST_PORT - FIRST_PORT; tries++) {
      const port = this.next[a];
      this.next[a] = port === LAST_PORT ? FIRST_PORT : port + 1;
      if (!inUse[port]) {
        inUse[port] = 1;
        return port;
      }
    }
    throw new Error(`every source port ${FIRST_PORT}-${LAST_PORT} of ${this.addresses[a]} is in use`);
  }

  release(a: number, port: number): void {
    this.inUse[a][port] = 0;
  }
}

/** Fails with advice when `address` cannot be bound (Linux routes all of 127/8 to lo; other systems need an alias). */
export function checkBindable(address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (error) => {
      reject(
        new Error(
          `cannot use ${address} as a source address (${(error as Error).message}); on Linux all of 127.0.0.0/8 is local, ` +
            `elsewhere add an alias (macOS: sudo ifconfig lo0 alias ${address}) or lower the levels to need one address only`,
        ),
      );
    });
    server.listen(0, address, () => server.close(() => resolve()));
  });
}

/** A set of open client sockets; notices any that the server closes while they are ours. */
export class LeanSockets {
  /** Sockets of the server that closed while open (not closed by us), and the first one's reason. */
  unexpected = 0;
  private firstUnexpected: string | undefined;
  private readonly live = new Set<WebSocket>();
  /** Sockets whose handshake is under way. */
  private readonly pending = new Set<WebSocket>();
  /** Sockets we asked to close, until their close event. */
  private readonly closing = new Set<WebSocket>();
  private closingDone: (() => void) | undefined;

  constructor(private readonly ports: SourcePorts) {}

  get size(): number {
    return this.live.size;
  }

  /** The first socket the server closed on its own, as an error. */
  get error(): Error | undefined {
    return this.firstUnexpected ? new Error(`${this.unexpected} socket(s) were closed by the server while open; the first: ${this.firstUnexpected}`) : undefined;
  }

  /**
   * Opens a socket from source address `a` (an index into the addresses) and a port
   * of its own; rejects with the server's status and body when the handshake is refused.
   */
  async open(url: string, cookie: string, a: number): Promise<WebSocket> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.openFrom(url, cookie, a);
      } catch (error) {
        if (!RETRIED.has((error as { code?: string }).code ?? '') || attempt > BIND_RETRIES) throw error;
      }
    }
  }

  private openFrom(url: string, cookie: string, a: number): Promise<WebSocket> {
    const localAddress = this.ports.addresses[a];
    const localPort = this.ports.take(a);
    const ws = new WebSocket(url, { headers: { cookie }, perMessageDeflate: false, handshakeTimeout: HANDSHAKE_TIMEOUT_MS, skipUTF8Validation: true, localAddress, localPort });
    (ws as OwnedSocket)[OWNER] = this;
    (ws as OwnedSocket)[SOURCE] = a * 65_536 + localPort;
    this.pending.add(ws);
    return new Promise((resolve, reject) => {
      const settle = (error?: Error) => {
        if (!this.pending.delete(ws)) return;
        ws.removeListener('open', onOpen);
        ws.removeListener('error', onError);
        ws.removeListener('unexpected-response', onRefused);
        ws.on('error', onLeanError);
        ws.on('close', onLeanClose);
        if (error) {
          ws.terminate();
          return reject(error);
        }
        this.live.add(ws);
        resolve(ws);
      };
      const onOpen = () => settle();
      const onError = (error: Error) => settle(Object.assign(new Error(`handshake from ${localAddress}:${localPort}: ${error.message}`), { code: (error as { code?: string }).code }));
      const onRefused = (_req: unknown, res: import('node:http').IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => settle(new Error(`handshake refused with HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString('utf8') || '(no body)'}`)));
      };
      ws.once('open', onOpen);
      ws.once('error', onError);
      ws.once('unexpected-response', onRefused);
    });
  }

  /**
   * Starts the close handshake of each socket (all at once) and resolves when every
   * one reported its close, or after `timeoutMs` (the rest are terminated then).
   * One batch at a time.
   */
  close(sockets: readonly WebSocket[], timeoutMs: number): Promise<void> {
    if (this.closingDone) throw new Error('LeanSockets.close: the previous batch is still closing');
    for (const ws of sockets) {
      if (!this.live.delete(ws)) continue;
      this.closing.add(ws);
      ws.close(1000, 'bench probe done');
    }
    if (this.closing.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        for (const ws of this.closing) ws.terminate();
      }, timeoutMs);
      this.closingDone = () => {
        clearTimeout(timer);
        this.closingDone = undefined;
        resolve();
      };
    });
  }

  /** Drops every socket at once (no close handshake): the quick way out on cleanup. Idempotent. */
  terminateAll(): void {
    for (const ws of [...this.pending, ...this.live, ...this.closing]) ws.terminate();
    this.live.clear();
  }

  /** @internal the module-level close listener. */
  closed(ws: OwnedSocket, code: number, reason: Buffer): void {
    const source = ws[SOURCE]!;
    this.ports.release(Math.floor(source / 65_536), source % 65_536);
    if (this.closing.delete(ws)) {
      if (this.closing.size === 0) this.closingDone?.();
      return;
    }
    if (!this.live.delete(ws)) return;
    this.unexpected++;
    this.firstUnexpected ??= `code ${code}${reason.length ? ` (${reason.toString('utf8')})` : ''}`;
  }
}

function onLeanClose(this: OwnedSocket, code: number, reason: Buffer): void {
  this[OWNER]!.closed(this, code, reason);
}

/** ws emits 'close' after an 'error'; the close listener records it. Without a listener, an error would crash us. */
function onLeanError(): void {}
