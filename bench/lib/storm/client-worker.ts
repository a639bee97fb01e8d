/**
 * A client worker of the storm (a child process of bench/storm.ts, forked with tsx):
 * its share of the sockets, each a plain `ws` client of an authenticated session,
 * all through one Balancer of its own. A socket that dies reconnects by itself with
 * the browser client's backoff (backoff.ts), the way socket.io-client does: a
 * failed attempt waits longer, an open socket resets the count. The driver only
 * says when to cut (the balancer's `drop`), and reads what happened.
 *
 * Separate processes because the clients need two descriptors per socket here (the
 * socket and the balancer's upstream) and the open-file limit is per process.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { Balancer } from './balancer.ts';
import type { Login, WorkerCommand, WorkerReport } from './messages.ts';

const PROGRESS_MS = 500;
const CLOSE_WAIT_MS = 10_000;

type Init = Extract<WorkerCommand, { type: 'init' }>;

/** Where one client is in its life. */
type Phase = 'connecting' | 'open' | 'waiting' | 'closing' | 'closed';

class StormClient {
  ws: WebSocket | undefined;
  phase: Phase = 'connecting';
  /** Failed attempts since the socket was last open. */
  failedAttempts = 0;
  /** Attempts since the drop, the successful one included. */
  attemptsSinceDrop = 0;
  frames = 0;
  timer: NodeJS.Timeout | undefined;

  constructor(
    readonly index: number,
    readonly login: Login,
  ) {}
}

const send = (report: WorkerReport) => process.send!(report);

class Worker {
  private readonly clients: StormClient[];
  private readonly balancer: Balancer;
  private url = '';
  private open = 0;
  /** Sockets open again since the drop. */
  private back = 0;
  private droppedAt: number | undefined;
  private readonly reconnectMs: Float64Array;
  private readonly failures: Record<string, number> = {};
  private closedByServer = 0;
  private whenAllOpen: (() => void) | undefined;
  private whenAllClosed: (() => void) | undefined;
  /** Sockets asked to close that have not reported their close yet. */
  private closing = 0;
  private progressTimer: NodeJS.Timeout | undefined;

  constructor(private readonly init: Init) {
    this.clients = Array.from({ length: init.count }, (_, i) => new StormClient(init.from + i, init.logins[(init.from + i) % init.logins.length]));
    this.balancer = new Balancer(init.before);
    this.reconnectMs = new Float64Array(init.count).fill(NaN);
  }

  async start(): Promise<void> {
    await this.balancer.listen();
    this.url = `ws://127.0.0.1:${this.balancer.port}${this.init.path}?session=`;
    this.progressTimer = setInterval(() => this.progress(), PROGRESS_MS);
    // The first opening: C handshakes in flight, then every client is on its own.
    let next = 0;
    const allOpen = new Promise<void>((resolve) => (this.whenAllOpen = resolve));
    const startNext = () => {
      if (next < this.clients.length) this.connect(this.clients[next++]);
    };
    this.onOpenHook = startNext;
    for (let i = 0; i < Math.min(this.init.concurrency, this.clients.length); i++) startNext();
    await allOpen;
    this.onOpenHook = undefined;
    send({ type: 'ready', open: this.open, port: this.balancer.port });
  }

  private onOpenHook: (() => void) | undefined;

  drop(): void {
    this.balancer.retarget(this.init.after);
    this.back = 0;
    this.droppedAt = performance.now();
    for (const key of Object.keys(this.failures)) delete this.failures[key];
    for (const client of this.clients) client.attemptsSinceDrop = 0;
    this.balancer.drop();
  }

  mark(): void {
    for (const client of this.clients) client.frames = 0;
  }

  frames(): void {
    let exactlyOne = 0, none = 0, more = 0;
    for (const { frames } of this.clients) {
      if (frames === 1) exactlyOne++;
      else if (frames === 0) none++;
      else more++;
    }
    send({ type: 'frames', exactlyOne, none, more });
  }

  async close(): Promise<void> {
    clearInterval(this.progressTimer);
    const allClosed = new Promise<void>((resolve) => (this.whenAllClosed = resolve));
    for (const client of this.clients) {
      clearTimeout(client.timer);
      const { ws } = client;
      if (ws && ws.readyState !== WebSocket.CLOSED) {
        client.phase = 'closing';
        this.closing++;
        ws.close(1000, 'storm done');
      } else client.phase = 'closed';
    }
    if (this.closing > 0) {
      const timer = setTimeout(() => {
        for (const client of this.clients) if (client.phase === 'closing') client.ws?.terminate();
      }, CLOSE_WAIT_MS);
      await allClosed;
      clearTimeout(timer);
    }
    await this.balancer.close();
    send({ type: 'closed', closedByServer: this.closedByServer });
  }

  private connect(client: StormClient): void {
    client.phase = 'connecting';
    client.attemptsSinceDrop++;
    const ws = new WebSocket(this.url + encodeURIComponent(client.login.session), {
      headers: { cookie: client.login.cookie },
      perMessageDeflate: false,
      handshakeTimeout: this.init.handshakeTimeoutMs,
    });
    client.ws = ws;
    ws.on('open', () => this.opened(client));
    ws.on('message', () => client.frames++);
    // An error of an open socket is its loss, counted by the drop; only failed attempts count here.
    ws.on('error', (error) => client.phase === 'connecting' && this.count(reason(error)));
    ws.on('close', (code) => this.closed(client, code));
  }

  private opened(client: StormClient): void {
    client.phase = 'open';
    client.failedAttempts = 0;
    this.open++;
    this.onOpenHook?.();
    if (this.droppedAt === undefined) {
      if (this.open === this.clients.length) this.whenAllOpen?.();
      return;
    }
    this.reconnectMs[client.index - this.init.from] = performance.now() - this.droppedAt;
    if (++this.back === this.clients.length) this.reportBack();
  }

  private closed(client: StormClient, code: number): void {
    const wasOpen = client.phase === 'open';
    if (wasOpen) this.open--;
    if (client.phase === 'closing') {
      client.phase = 'closed';
      if (--this.closing === 0) this.whenAllClosed?.();
      return;
    }
    if (wasOpen && this.droppedAt === undefined) {
      // Closed by the server before any drop: the run is wrong, say so.
      this.closedByServer++;
      this.count(`closed while open, code ${code}`);
    }
    if (!wasOpen) client.failedAttempts++;
    client.phase = 'waiting';
    client.timer = setTimeout(() => this.connect(client), backoffDelay(client.failedAttempts, this.init.backoff, Math.random));
  }

  private count(what: string): void {
    this.failures[what] = (this.failures[what] ?? 0) + 1;
  }

  private progress(): void {
    send({ type: 'progress', open: this.open, back: this.back, failures: { ...this.failures } });
  }

  private reportBack(): void {
    this.progress();
    send({
      type: 'back',
      reconnectMs: Array.from(this.reconnectMs),
      attempts: this.clients.map((c) => c.attemptsSinceDrop),
      failures: { ...this.failures },
      forwarded: Object.fromEntries([...this.balancer.forwarded].map(([port, n]) => [String(port), n])),
    });
  }
}

/** A short, countable reason: the error code, or the status of a refused handshake. */
function reason(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code) return code;
  const status = /Unexpected server response: (\d+)/.exec(error.message);
  return status ? `HTTP ${status[1]}` : error.message.slice(0, 60);
}

let worker: Worker | undefined;
process.on('message', (command: WorkerCommand) => {
  const run = async () => {
    switch (command.type) {
      case 'init':
        // The clients stand in for browsers on other machines: at a lower priority they
        // take the CPU the node leaves, instead of a share of it (docs/operations.md).
        if (command.nice !== 0) os.setPriority(command.nice);
        worker = new Worker(command);
        return worker.start();
      case 'drop':
        return worker!.drop();
      case 'mark':
        return worker!.mark();
      case 'frames':
        return worker!.frames();
      case 'close':
        await worker!.close();
        process.disconnect();
        return;
    }
  };
  run().catch((error: Error) => send({ type: 'error', message: error.stack ?? error.message }));
});
process.on('disconnect', () => process.exit(0));
