/**
 * The driver's view of the client workers (client-worker.ts): spreads the sockets
 * over K processes, sums their progress, and gathers what each saw of the storm.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Channel } from './channel.ts';
import type { WorkerCommand, WorkerReport } from './messages.ts';

const ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'client-worker.ts');

type Back = Extract<WorkerReport, { type: 'back' }>;

type Init = Extract<WorkerCommand, { type: 'init' }>;

/** What each worker's `init` says, bar its share of the sockets, and how many workers share them. */
export interface WorkerSetup extends Omit<Init, 'type' | 'from' | 'count'> {
  workers: number;
  sockets: number;
}

/** What every worker saw from the drop until its last socket was open again. */
export interface StormOutcome {
  /** Per socket, ms from its worker's drop to its socket's open. */
  reconnectMs: Float64Array;
  /** Per socket, handshakes it tried since the drop (the successful one included). */
  attempts: Uint16Array;
  failures: Record<string, number>;
  /** Connections each node port received from the balancers (the first opening included). */
  forwarded: Record<string, number>;
}

export class Workers {
  private readonly channels: Array<Channel<WorkerCommand, WorkerReport>>;
  private readonly progress: Array<{ open: number; back: number; failures: Record<string, number> }>;

  constructor(private readonly setup: WorkerSetup) {
    this.channels = Array.from({ length: setup.workers }, (_, w) => new Channel<WorkerCommand, WorkerReport>(`client worker ${w + 1}`, ENTRY));
    this.progress = this.channels.map(() => ({ open: 0, back: 0, failures: {} }));
    this.channels.forEach((channel, w) => channel.on('progress', (report) => (this.progress[w] = report)));
  }

  /** Opens every socket (through each worker's balancer, to `before`). */
  async open(): Promise<void> {
    const { workers, sockets } = this.setup;
    const ready = this.channels.map((channel, w) => {
      const from = Math.floor((w * sockets) / workers);
      const to = Math.floor(((w + 1) * sockets) / workers);
      const answer = channel.next('ready');
      channel.send({ type: 'init', from, count: to - from, ...this.pick() });
      return answer;
    });
    await Promise.all(ready);
  }

  /** Sockets open and sockets back since the drop, over all workers; failed attempts by reason. */
  totals(): { open: number; back: number; failures: Record<string, number> } {
    const failures: Record<string, number> = {};
    let open = 0, back = 0;
    for (const p of this.progress) {
      open += p.open;
      back += p.back;
      for (const [why, n] of Object.entries(p.failures)) failures[why] = (failures[why] ?? 0) + n;
    }
    return { open, back, failures };
  }

  /** Cuts every worker's connections at once; resolves with the outcome once every socket is back. */
  drop(): Promise<StormOutcome> {
    const answers = this.channels.map((channel) => channel.next('back'));
    for (const channel of this.channels) channel.send({ type: 'drop' });
    return Promise.all(answers).then(merge);
  }

  /** Forgets the frames counted so far. */
  mark(): void {
    for (const channel of this.channels) channel.send({ type: 'mark' });
  }

  /** Sockets with exactly one frame since the mark, none, and more than one. */
  async frames(): Promise<{ exactlyOne: number; none: number; more: number }> {
    const answers = await Promise.all(
      this.channels.map((channel) => {
        const answer = channel.next('frames');
        channel.send({ type: 'frames' });
        return answer;
      }),
    );
    return answers.reduce((sum, a) => ({ exactlyOne: sum.exactlyOne + a.exactlyOne, none: sum.none + a.none, more: sum.more + a.more }), { exactlyOne: 0, none: 0, more: 0 });
  }

  /** Closes every socket (1000) and ends the workers; the sockets the server closed on its own before the drop. */
  async close(): Promise<number> {
    const answers = this.channels.map((channel) => channel.next('closed'));
    for (const channel of this.channels) channel.send({ type: 'close' });
    const closed = await Promise.all(answers);
    await this.stop();
    return closed.reduce((sum, c) => sum + c.closedByServer, 0);
  }

  /** Ends the worker processes (their sockets die with them). Idempotent. */
  async stop(): Promise<void> {
    await Promise.all(this.channels.map((channel) => channel.stop()));
  }

  private pick() {
    const { logins, before, after, path, backoff, concurrency, handshakeTimeoutMs, nice } = this.setup;
    return { logins, before, after, path, backoff, concurrency, handshakeTimeoutMs, nice };
  }
}

function merge(backs: Back[]): StormOutcome {
  const reconnectMs = Float64Array.from(backs.flatMap((b) => b.reconnectMs));
  const attempts = Uint16Array.from(backs.flatMap((b) => b.attempts));
  const failures: Record<string, number> = {};
  const forwarded: Record<string, number> = {};
  for (const b of backs) {
    for (const [why, n] of Object.entries(b.failures)) failures[why] = (failures[why] ?? 0) + n;
    for (const [port, n] of Object.entries(b.forwarded)) forwarded[port] = (forwarded[port] ?? 0) + n;
  }
  return { reconnectMs, attempts, failures, forwarded };
}
