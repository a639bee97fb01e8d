/**
 * Server child processes: spawn on a free port, wait for the health route, read
 * their resident memory, stop them (SIGTERM, then SIGKILL after a grace period).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { waitForOk } from './http.ts';

const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
const TAIL_LINES = 30;
/** The tick of /proc's CPU times: USER_HZ, fixed at 100 by Linux's user-space ABI. */
const USER_HZ = 100;
/**
 * `BENCH_SERVER_OUTPUT=FILE` appends every server's output to FILE, each line after
 * its name and pid: for `--trace-gc` and other flags that print (BENCH_SERVER_NODE_ARGS).
 */
const OUTPUT_FILE = process.env.BENCH_SERVER_OUTPUT;

/** A port the kernel just handed out; free unless someone takes it in between. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * CPU time process `pid` has used so far, user and system, all threads (Linux
 * /proc/<pid>/stat, in the kernel's USER_HZ ticks, 100 per second on Linux's ABI:
 * a 10 ms resolution), or undefined where unavailable.
 */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), from field 3 on: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * (1000 / USER_HZ);
  } catch {
    return undefined;
  }
}

export interface ServerSpec {
  name: string;
  /** Arguments after the node binary. */
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  port: number;
  healthPath: string;
}

export class ServerChild {
  readonly baseUrl: string;
  private readonly child: ChildProcess;
  private readonly tail: string[] = [];
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;

  private constructor(readonly spec: ServerSpec) {
    this.baseUrl = `http://127.0.0.1:${spec.port}`;
    this.child = spawn(process.execPath, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', 'pipe', 'pipe'] });
    // Drain both pipes (a full pipe would block the child) and keep the last lines for errors.
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => {
        this.remember(text);
        if (OUTPUT_FILE) appendFileSync(OUTPUT_FILE, text.replace(/^(?=.)/gm, `[${spec.name} ${this.child.pid}] `));
      });
    }
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve();
      });
      this.child.once('error', (error) => {
        this.remember(`spawn failed: ${error.message}\n`);
        this.exit ??= { code: null, signal: null };
        resolve();
      });
    });
  }

  /** Spawns the server and resolves once `healthPath` answers 200. */
  static async start(spec: ServerSpec): Promise<ServerChild> {
    const server = new ServerChild(spec);
    try {
      await waitForOk(server.baseUrl, spec.healthPath, START_TIMEOUT_MS, () => (server.exit ? `${spec.name} exited during start (${server.describeExit()})` : undefined));
    } catch (error) {
      await server.stop();
      throw new Error(`${(error as Error).message}\n${server.output()}`);
    }
    return server;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Undefined while running; else why it ended. */
  exitReason(): string | undefined {
    return this.exit ? this.describeExit() : undefined;
  }

  /** VmRSS of the child in KiB (Linux /proc), or undefined where unavailable. */
  rssKiB(): number | undefined {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
      return match ? Number(match[1]) : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * CPU time the child has used so far (`processCpuMs`). A rate on a shared machine
   * moves with its neighbours; the CPU a phase cost the server moves much less.
   */
  cpuMs(): number | undefined {
    return processCpuMs(this.pid);
  }

  /** Like `exitReason`, after waiting up to `ms` for the exit (a reset socket is often seen before the child's exit). */
  async exitReasonWithin(ms: number): Promise<string | undefined> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
    return this.exitReason();
  }

  /** The child's last output lines, indented, for an error message. */
  output(): string {
    const lines = this.tail.join('').trimEnd();
    return lines ? `  last output of ${this.spec.name}:\n${lines.replace(/^/gm, '    ')}` : `  (${this.spec.name} printed nothing)`;
  }

  /** SIGTERM, then SIGKILL if it has not exited after a grace period. Idempotent. */
  async stop(): Promise<void> {
    if (!this.exit) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(timer);
    }
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
  }

  private remember(text: string): void {
    this.tail.push(...text.split(/(?<=\n)/));
    if (this.tail.length > TAIL_LINES) this.tail.splice(0, this.tail.length - TAIL_LINES);
  }

  private describeExit(): string {
    const { code, signal } = this.exit!;
    return signal ? `signal ${signal}` : `exit status ${code}`;
  }
}
