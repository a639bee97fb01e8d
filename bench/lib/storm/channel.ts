/**
 * The driver's end of one forked child (a client worker, the prober): typed
 * commands out, reports in, a wait for the next report of a kind, and the child's
 * exit turned into an error for whoever waits.
 */
import { fork, type ChildProcess } from 'node:child_process';

type Typed = { type: string };

export class Channel<Command extends Typed, Report extends Typed> {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<string, Array<{ resolve: (report: Report) => void; reject: (error: Error) => void }>>();
  private readonly listeners = new Map<string, (report: Report) => void>();
  private exit: string | undefined;
  /** The first error the child reported; every later wait fails with it. */
  private failure: Error | undefined;

  constructor(
    readonly name: string,
    entry: string,
    args: string[] = [],
  ) {
    // tsx in the child as in this process; stdout and stderr shared, so a crash is seen.
    this.child = fork(entry, args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (report: Report) => this.receive(report));
    this.child.once('exit', (code, signal) => {
      this.exit = signal ? `signal ${signal}` : `exit status ${code}`;
      for (const waiters of this.waiting.values()) for (const { reject } of waiters) reject(new Error(`${this.name} exited (${this.exit}) before answering`));
      this.waiting.clear();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  send(command: Command): void {
    if (this.exit) throw new Error(`${this.name} exited (${this.exit})`);
    this.child.send(command);
  }

  /** Calls `listener` with every report of `type` (the last listener of a type wins). */
  on<T extends Report['type']>(type: T, listener: (report: Extract<Report, { type: T }>) => void): void {
    this.listeners.set(type, listener as (report: Report) => void);
  }

  /** The next report of `type`; rejects when the child reports an error or exits first. */
  next<T extends Report['type']>(type: T): Promise<Extract<Report, { type: T }>> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.exit) return Promise.reject(new Error(`${this.name} exited (${this.exit})`));
    return new Promise((resolve, reject) => {
      const list = this.waiting.get(type) ?? [];
      list.push({ resolve: resolve as (report: Report) => void, reject });
      this.waiting.set(type, list);
    });
  }

  /** Waits up to `ms` for the child to exit after its channel closed; then kills it. */
  async stop(ms = 5000): Promise<void> {
    if (this.exit) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), ms);
    await exited;
    clearTimeout(timer);
  }

  private receive(report: Report): void {
    if (report.type === 'error') {
      const error = (this.failure ??= new Error(`${this.name}: ${(report as unknown as { message: string }).message}`));
      for (const waiters of this.waiting.values()) for (const { reject } of waiters) reject(error);
      this.waiting.clear();
      return;
    }
    this.listeners.get(report.type)?.(report);
    const waiters = this.waiting.get(report.type);
    if (waiters?.length) waiters.shift()!.resolve(report);
  }
}
