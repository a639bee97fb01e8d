/**
 * What every bench script does around its work: cleanup steps that run on success,
 * failure and SIGINT; exit status 0 or 1 with a message; a time-stamped log line.
 */
import { performance } from 'node:perf_hooks';

/** Cleanup steps, run last-registered first, each at most once, even after a failure. */
export class Cleanup {
  private readonly steps: Array<() => Promise<void> | void> = [];
  private running: Promise<void> | undefined;

  add(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      while (this.steps.length) {
        try {
          await this.steps.pop()!();
        } catch (error) {
          process.stderr.write(`bench: cleanup step failed: ${(error as Error).message}\n`);
        }
      }
    })();
    return this.running;
  }
}

const started = performance.now();

/** `[  12.3s] line` on stdout, the time since the script started. */
export function logLine(line: string): void {
  process.stdout.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}\n`);
}

/**
 * Runs `main` and exits with its status (1 if it throws, with the error's message on
 * stderr). `cleanup` runs in every case; SIGINT runs it too and exits with 1.
 */
export async function runScript(cleanup: Cleanup, main: () => Promise<number>): Promise<void> {
  let interrupted = false;
  // `on`, not `once`: Ctrl-C reaches the whole process group and tsx relays it too, so a
  // second SIGINT arrives at once; with the default handler back it would kill us mid-cleanup.
  process.on('SIGINT', () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write('\nbench: interrupted (SIGINT); stopping the servers\n');
    void cleanup.run().then(() => process.exit(1));
  });

  let status = 1;
  try {
    status = await main();
  } catch (error) {
    if (!interrupted) process.stderr.write(`bench: failed: ${(error as Error).message}\n`);
  } finally {
    await cleanup.run();
  }
  if (interrupted) return;
  process.exitCode = status;
  // Everything is closed; should a stray handle still hold the loop, do not hang.
  setTimeout(() => {
    process.stderr.write('bench: a handle stayed open after cleanup; exiting anyway\n');
    process.exit(status);
  }, 3000).unref();
}
