/**
 * A TCP balancer in front of the nodes, as a load balancer or a reverse proxy would
 * be: each new connection goes to the next of the current targets (round-robin);
 * `drop()` cuts every open connection at once, both ways, as a proxy restart or a
 * network change does. The storm's fault: the clients see their sockets die without
 * a close frame (1006) and reconnect by themselves, the node sees the TCP
 * connections end. One per client worker, in that worker's process (two descriptors
 * per connection).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export class Balancer {
  private readonly server: Server;
  private readonly open = new Set<Socket>();
  private targets: number[];
  private next = 0;
  port = 0;
  /** Connections forwarded so far, per target port. */
  readonly forwarded = new Map<number, number>();

  constructor(targets: number[]) {
    this.targets = targets;
    this.server = createServer(this.accept);
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', 4096, resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** Where new connections go from now on; open ones stay where they are. */
  retarget(targets: number[]): void {
    this.targets = targets;
    this.next = 0;
  }

  /** Cuts every open connection at once (no close frame reaches either side). */
  drop(): void {
    for (const socket of this.open) socket.destroy();
  }

  async close(): Promise<void> {
    this.drop();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private readonly accept = (client: Socket): void => {
    const target = this.targets[this.next++ % this.targets.length];
    this.forwarded.set(target, (this.forwarded.get(target) ?? 0) + 1);
    const upstream = connect(target, '127.0.0.1');
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    for (const socket of [client, upstream]) {
      this.open.add(socket);
      socket.on('error', ignore);
      socket.on('close', () => {
        this.open.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  };
}

/** A reset or a refused upstream ends both sides through 'close'; nothing more to do. */
function ignore(): void {}
