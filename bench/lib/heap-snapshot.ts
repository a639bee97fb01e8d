/**
 * Profiling aid: with `BENCH_HEAP_SNAPSHOT=<dir>` a bench asks the wsmesh child for
 * a heap snapshot once its sockets are open (the child must run with
 * `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=<dir>`, which
 * `BENCH_SERVER_NODE_ARGS` passes), and waits until it is written. Read it with
 * bench/heap-top.ts. Off unless asked for: it stops the server for seconds.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { sleep } from './pool.ts';

const POLL_MS = 250;
const MAX_WAIT_MS = 120_000;

export async function heapSnapshotIfAsked(pid: number, log: (line: string) => void): Promise<void> {
  const dir = process.env.BENCH_HEAP_SNAPSHOT;
  if (!dir) return;
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  log(`heap snapshot of pid ${pid} requested into ${dir}`);
  let last = -1;
  for (let waited = 0; waited < MAX_WAIT_MS; waited += POLL_MS) {
    await sleep(POLL_MS);
    const file = readdirSync(dir).find((name) => !before.has(name) && name.endsWith('.heapsnapshot'));
    if (!file) continue;
    const size = statSync(path.join(dir, file)).size;
    // Written in one go: a size that stopped growing is a finished file.
    if (size > 0 && size === last) return log(`heap snapshot written: ${path.join(dir, file)} (${(size / 1024 / 1024).toFixed(0)} MiB)`);
    last = size;
  }
  throw new Error(`no heap snapshot in ${dir} after ${MAX_WAIT_MS / 1000} s: was the server started with --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}?`);
}
