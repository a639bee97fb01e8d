/**
 * What the helpers that run real processes (nodes, brokers, proxies) share: the set
 * of children still running, stopping one (a signal, then SIGKILL if it hangs),
 * reading its output line by line, and waiting until its port accepts TCP.
 */
import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';

/** How long a stopped child may take before it gets SIGKILL. */
const KILL_AFTER_MS = 10_000;

/** The children a helper started and that have not exited yet. */
export class ChildSet {
  private readonly running = new Set<ChildProcess>();

  /** Holds `child` until it exits; answers it. */
  track<T extends ChildProcess>(child: T): T {
    this.running.add(child);
    child.once('exit', () => this.running.delete(child));
    return child;
  }

  /** Stops every child still running (see `stopChild`). */
  async stopAll(signal: NodeJS.Signals): Promise<void> {
    await Promise.all([...this.running].map((child) => stopChild(child, signal)));
  }
}

/**
 * Sends `signal` and waits for the exit, sending SIGKILL after `killAfterMs`;
 * resolves at once for a child that has already exited.
 */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', killAfterMs = KILL_AFTER_MS): Promise<void> {
  if (hasExited(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  await exited;
  clearTimeout(timer);
}

/** Whether `child` has exited (its exit code or signal is known). */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Calls `onLine` with each non-empty line of `stream` (a child's stdout or stderr), without its newline. */
export function collectLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let rest = '';
  stream.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop()!;
    for (const line of lines) if (line) onLine(line);
  });
}

/**
 * Resolves to true once `127.0.0.1:port` accepts a TCP connection, trying every
 * 50 ms; to false when `giveUp()` says so after a failed try.
 */
export async function waitForPort(port: number, giveUp: () => boolean): Promise<boolean> {
  while (!(await canConnect(port))) {
    if (giveUp()) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
