/**
 * Local fan-out benchmark: N authenticated sockets on one wsmesh node, M messages
 * pushed over HTTP, each reaching the N/K sockets of one of K users; the same load
 * in the same run on a plain `ws` server (bench/baseline-server.ts) and on a
 * Socket.IO 4 server (bench/socketio-server.ts, a room per user). Prints
 * handshakes/s, delivered frames/s, push requests/s and resident memory per socket,
 * and each as a ratio wsmesh / plain ws and wsmesh / Socket.IO 4.
 *
 *   npm run bench:local-fanout -- [--quick] [--sockets N --users K --messages M ...]
 *
 * The servers run one after the other as child processes (never two at once, so
 * they do not compete for the cores); the client load runs in this process.
 * Exit status 0 on success, 1 with a message on failure or interruption.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWsmesh } from './lib/build.ts';
import { freePort, ServerChild } from './lib/children.ts';
import { benchUsers, writeDirectory } from './lib/directory.ts';
import { optionsOrStatus } from './lib/flags.ts';
import { FanoutPlan, runLoad, type RunResult } from './lib/load.ts';
import { parseOptions, USAGE, type BenchOptions } from './lib/options.ts';
import { resultTable, roundsTable } from './lib/report.ts';
import { Cleanup, logLine, runScript } from './lib/script.ts';
import { actorFloor, plainWs, socketIo, wsmesh, wsmeshExtraArgs, type Target } from './lib/targets.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Below this growth of RSS while the sockets open, GC noise dominates the per-socket figure. */
const RSS_NOISE_KIB = 8 * 1024;

const cleanup = new Cleanup();

async function measure(target: Target, options: BenchOptions, directoryFile: string, users: ReturnType<typeof benchUsers>, round: number): Promise<RunResult> {
  const adminToken = randomBytes(24).toString('base64url');
  const port = await freePort();
  const log = options.rounds > 1 ? (line: string) => logLine(`round ${round}: ${line}`) : logLine;
  log(`${target.name}: starting on port ${port}`);
  const repoRoot = target === wsmesh && options.wsmeshRoot ? path.resolve(options.wsmeshRoot) : REPO_ROOT;
  const server = await ServerChild.start(target.serverSpec({ port, directoryFile, adminToken, repoRoot }));
  cleanup.add(() => server.stop());
  log(`${target.name}: up (pid ${server.pid}, RSS ${((server.rssKiB() ?? NaN) / 1024).toFixed(1)} MiB)`);
  try {
    return await runLoad({ target, server, users, options, adminToken, log, onCleanup: (step) => cleanup.add(step) });
  } catch (error) {
    const exit = await server.exitReasonWithin(1000);
    const context = exit ? `\n  the server exited (${exit})\n${server.output()}` : '';
    throw new Error(`${target.name}: ${(error as Error).message}${context}`, { cause: error });
  } finally {
    await server.stop();
  }
}

async function main(argv: string[]): Promise<number> {
  const options = optionsOrStatus(argv, parseOptions, USAGE);
  if (typeof options === 'number') return options;
  const plan = new FanoutPlan(options.sockets, options.users, options.messages);
  console.log(`local fan-out bench: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'})`);
  console.log(
    `N=${options.sockets} sockets, K=${options.users} users (${(options.sockets / options.users).toFixed(1)} sockets each), ` +
      `M=${options.messages} messages of ${options.payload} B -> ${plan.expectedFrames()} frames; ` +
      `${options.concurrency} handshakes and ${options.inflight} pushes in flight`,
  );

  const [load] = os.loadavg();
  if (load > 0.5) {
    console.log(`note: load average ${load.toFixed(2)} on ${os.cpus().length} CPUs before the start: other processes compete for the cores; expect noise (--rounds 3)`);
  }

  buildWsmesh(options.wsmeshRoot ? path.resolve(options.wsmeshRoot) : REPO_ROOT, logLine);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wsmesh-bench-'));
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  logLine(`directory: ${options.users} users in ${dir} (hashing the password once)`);
  const users = benchUsers(options.users);
  const directoryFile = await writeDirectory(dir, users);

  // Rounds alternate the order, so no server always runs on the warmer (or the quieter) turn.
  const targets: Target[] = options.baselineFirst ? [plainWs, socketIo, actorFloor, wsmesh] : [wsmesh, plainWs, socketIo, actorFloor];
  const results = new Map<Target, RunResult[]>(targets.map((t) => [t, []]));
  for (let round = 1; round <= options.rounds; round++) {
    const order = round % 2 === 1 ? targets : [...targets].reverse();
    for (const target of order) results.get(target)!.push(await measure(target, options, directoryFile, users, round));
  }
  const subject = results.get(wsmesh)!;
  const baselines = [results.get(plainWs)!, results.get(socketIo)!, results.get(actorFloor)!];

  console.log('');
  console.log(
    `node ${process.version}, N=${options.sockets}, K=${options.users}, M=${options.messages} (${plan.expectedFrames()} frames of ${options.payload} B), ` +
      `warm-up ${options.warmup}, ${options.rounds} round(s), order ${targets.map((t) => t.name).join(', ')}` +
      (options.wsmeshRoot ? `, wsmesh from ${options.wsmeshRoot}` : '') +
      (wsmeshExtraArgs().length ? `, wsmesh flags ${wsmeshExtraArgs().join(' ')}` : ''),
  );
  console.log(resultTable(subject, baselines));
  console.log('ratio = wsmesh / the other: above 1 is better for the rates, worse for memory and for CPU per handshake or frame.');
  console.log(`the floor: "${actorFloor.name}" is plain ws with one empty XState actor per socket and one event per frame (bench/baseline-server.ts --actors).`);
  const smallest = Math.min(...[...results.values()].flat().map((r) => (r.rssAfterKiB ?? 0) - (r.rssBeforeKiB ?? 0)));
  if (smallest < RSS_NOISE_KIB) {
    console.log(`note: a server grew by ${(smallest / 1024).toFixed(1)} MiB only; garbage collection moves RSS by a few MiB, so "RSS per socket" needs more sockets to mean much.`);
  }
  if (options.rounds > 1) {
    console.log(`\nmedians of ${options.rounds} rounds; the ratios of each round:`);
    console.log(roundsTable(subject, baselines));
  }
  return 0;
}

await runScript(cleanup, () => main(process.argv.slice(2)));
