/**
 * The client sockets of one run: opened with the login's cookie, counting the frames
 * each one receives, and noticing any socket the server closes during the run.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { plainFrames, type ClientProtocol } from './client-protocol.ts';

const HANDSHAKE_TIMEOUT_MS = 30_000;
const CLOSE_WAIT_MS = 5_000;

export class ClientFleet {
  /** Frames received, per socket index. */
  readonly counts: Uint32Array;
  /** Frames whose size was not the payload size (a frame we did not push). */
  foreign = 0;
  total = 0;
  /** `performance.now()` when `total` reached the expected count. */
  reachedAt: number | undefined;
  /** Called for every frame with its arrival time (`performance.now()`), for benches that read the frames. */
  onFrame: ((index: number, data: Buffer, at: number) => void) | undefined;
  private target = Infinity;
  private readonly sockets: WebSocket[] = [];
  private closing = false;
  private failure: Error | undefined;
  private waiter: (() => void) | undefined;

  private readonly frameBytes: number;

  constructor(
    size: number,
    payloadBytes: number,
    private readonly protocol: ClientProtocol = plainFrames,
  ) {
    this.counts = new Uint32Array(size);
    this.frameBytes = protocol.frameBytes(payloadBytes);
  }

  /**
   * Opens socket `index` (for Socket.IO: until the namespace's CONNECT ack); rejects
   * with the server's status and body when the handshake is refused.
   */
  open(index: number, url: string, cookie: string): Promise<void> {
    const ws = new WebSocket(url, { headers: { cookie }, perMessageDeflate: false, handshakeTimeout: HANDSHAKE_TIMEOUT_MS, skipUTF8Validation: true });
    this.sockets.push(ws);
    const { connect } = this.protocol;
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        let ready = !connect;
        ws.on('message', (data: Buffer) => {
          if (!ready && connect!.ready(data)) {
            ready = true;
            return resolve();
          }
          this.frame(ws, index, data);
        });
        ws.once('close', (code, reason) => {
          if (!ready) reject(new Error(`socket ${index}: closed by the server before the protocol's connect ack: code ${code}`));
          this.closed(index, code, reason);
        });
        if (connect) ws.send(connect.frame);
        else resolve();
      });
      ws.once('unexpected-response', (req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          reject(new Error(`socket ${index}: handshake refused with HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString('utf8') || '(no body)'}`));
          req.destroy();
        });
      });
      ws.on('error', (error) => reject(new Error(`socket ${index}: ${error.message}`)));
    });
  }

  get size(): number {
    return this.sockets.length;
  }

  /** The first unexpected event (a socket closed by the server), if any. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** Sets the total number of frames the run expects; `reachedAt` is stamped when the last one arrives. */
  expect(target: number): void {
    this.target = target;
    this.reachedAt = this.total >= target ? performance.now() : undefined;
  }

  /** Resolves once the expected frames arrived; rejects when a socket fails or after `timeoutMs`. */
  waitForFrames(timeoutMs: number, describeShortfall: () => string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.reachedAt !== undefined) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        clearInterval(poll);
        this.waiter = undefined;
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(
        () => done(new Error(`only ${this.total} of ${this.target} frames arrived within ${timeoutMs / 1000} s after the last push was answered; ${describeShortfall()}`)),
        timeoutMs,
      );
      const poll = setInterval(() => this.failure && done(this.failure), 100);
      this.waiter = () => done();
    });
  }

  /** Closes every socket (close handshake, then terminate what is left). Idempotent. */
  async close(): Promise<void> {
    this.closing = true;
    const pending = this.sockets.filter((ws) => ws.readyState !== WebSocket.CLOSED);
    const allClosed = Promise.all(pending.map((ws) => new Promise<void>((resolve) => ws.once('close', () => resolve()))));
    for (const ws of pending) {
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'bench done');
      else ws.terminate();
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([allClosed, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
    for (const ws of this.sockets) if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
  }

  private frame(ws: WebSocket, index: number, data: Buffer): void {
    const reply = this.protocol.control(data);
    if (reply !== undefined) {
      if (reply) ws.send(reply);
      return;
    }
    this.onFrame?.(index, data, performance.now());
    this.counts[index]++;
    this.total++;
    if (data.length !== this.frameBytes) this.foreign++;
    if (this.total === this.target) {
      this.reachedAt = performance.now();
      this.waiter?.();
    }
  }

  private closed(index: number, code: number, reason: Buffer): void {
    if (this.closing) return;
    this.failure ??= new Error(`socket ${index} was closed by the server during the run: code ${code}${reason.length ? ` (${reason.toString('utf8')})` : ''}`);
  }
}
