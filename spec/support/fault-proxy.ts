/**
 * A TCP proxy for network faults between a node and its broker (test only). One per
 * node, so one node can be split off while the others stay connected:
 * - `cut()`: every open connection is reset, as when a NAT or a firewall forgets it;
 * - `blackhole()`: traffic stops in both directions without a close, as when packets
 *   are dropped: bytes and closes are held (TCP would retransmit them) and new
 *   connections are accepted but go nowhere; `heal()` lets everything through, in
 *   order, so each end then sees what its peer did meanwhile (a keepalive that timed
 *   out, a close);
 * - `latency(ms)`: each chunk is held `ms` in each direction, order kept.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

type Item = { at: number; chunk: Buffer } | { at: number; end: true };

/** One direction of one connection: what `from` sent, on its way to `to`. */
class Lane {
  private readonly queue: Item[] = [];
  private timer: NodeJS.Timeout | undefined;
  to: Socket | undefined;

  constructor(private readonly proxy: FaultProxy) {}

  push(item: Item): void {
    this.queue.push(item);
    this.pump();
  }

  pump(): void {
    if (this.timer || !this.to || this.proxy.mode === 'blackhole') return;
    while (this.queue.length) {
      const wait = this.queue[0].at + this.proxy.delayMs - Date.now();
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      const item = this.queue.shift()!;
      if ('end' in item) {
        this.to.destroy();
        return;
      }
      if (!this.to.destroyed) this.to.write(item.chunk);
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }
}

interface Pair {
  client: Socket;
  upstream?: Socket;
  up: Lane;
  down: Lane;
}

export class FaultProxy {
  mode: 'pass' | 'blackhole' = 'pass';
  delayMs = 0;
  port = 0;
  /** Connections accepted so far, and resets made by cut(). */
  connections = 0;
  resets = 0;
  private readonly server: Server;
  private readonly pairs = new Set<Pair>();

  constructor(private readonly targetPort: number) {
    this.server = createServer((client) => this.accept(client));
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  cut(): void {
    for (const pair of this.pairs) this.destroy(pair);
    this.resets++;
  }

  blackhole(): void {
    this.mode = 'blackhole';
  }

  heal(): void {
    this.mode = 'pass';
    for (const pair of this.pairs) {
      if (pair.client.destroyed && !pair.upstream) {
        this.destroy(pair); // opened and given up while black-holed: the broker never heard of it
        continue;
      }
      this.connectUpstream(pair);
      pair.up.pump();
      pair.down.pump();
    }
  }

  latency(ms: number): void {
    this.delayMs = ms;
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) this.destroy(pair);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.connections++;
    const pair: Pair = { client, up: new Lane(this), down: new Lane(this) };
    pair.down.to = client;
    this.pairs.add(pair);
    client.on('error', () => undefined);
    client.on('data', (chunk) => pair.up.push({ at: Date.now(), chunk }));
    client.on('close', () => pair.up.push({ at: Date.now(), end: true }));
    if (this.mode === 'pass') this.connectUpstream(pair);
  }

  private connectUpstream(pair: Pair): void {
    if (pair.upstream || pair.client.destroyed) return;
    const upstream = (pair.upstream = connect(this.targetPort, '127.0.0.1'));
    upstream.on('error', () => undefined);
    upstream.on('data', (chunk) => pair.down.push({ at: Date.now(), chunk }));
    upstream.on('close', () => {
      pair.down.push({ at: Date.now(), end: true });
      this.pairs.delete(pair);
    });
    upstream.on('connect', () => pair.up.pump());
    pair.up.to = upstream;
  }

  private destroy(pair: Pair): void {
    pair.up.stop();
    pair.down.stop();
    pair.client.destroy();
    pair.upstream?.destroy();
    this.pairs.delete(pair);
  }
}
