/**
 * A TCP forwarder on a free loopback port, standing in for a sticky reverse proxy in
 * front of the nodes: each new connection goes to the current target, which a test
 * moves (the node a client was on died; the proxy now sends it elsewhere). `drop()`
 * cuts every open connection, as a network change does.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export class TcpForwarder {
  private readonly server: Server;
  private readonly open = new Set<Socket>();
  port = 0;
  /** Connections forwarded so far. */
  connections = 0;

  constructor(private target: number) {
    this.server = createServer((client) => {
      this.connections++;
      const upstream = connect(this.target, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.open.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          this.open.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  retarget(port: number): void {
    this.target = port;
  }

  drop(): void {
    for (const socket of this.open) socket.destroy();
  }

  async close(): Promise<void> {
    this.drop();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
