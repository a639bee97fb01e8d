/**
 * Soak: two wsmesh nodes and a broker under a steady mix for N minutes, sampled
 * every few seconds; fails on heap growth, lost or repeated frames, or errors.
 *
 *   npm run soak -- [--minutes N] [--interval S] [--broker embedded|mosquitto] [--out DIR]
 *
 * The nodes are child processes run as `npm start` runs them (dist/, built first),
 * each with its inspector on a loopback port (for a full GC before each heap
 * sample). The mix is bench/soak/driver.ts; the rule is bench/soak/verdict.ts;
 * docs/operations.md, "Soak", says what it checks. Exit status 0 on a pass, 1 on a
 * failure (the reasons on stderr and in summary.json).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasMosquitto } from '../spec/support/broker.ts';
import { startBenchBroker } from './lib/brokers.ts';
import { buildWsmesh } from './lib/build.ts';
import { freePort } from './lib/children.ts';
import { benchUsers } from './lib/directory.ts';
import { optionsOrStatus } from './lib/flags.ts';
import { NodePair } from './lib/node-pair.ts';
import { sleep } from './lib/pool.ts';
import { Cleanup, logLine, runScript } from './lib/script.ts';
import { Driver } from './soak/driver.ts';
import { InspectorHeap } from './soak/inspector.ts';
import { parseOptions, usage, type SoakOptions } from './soak/options.ts';
import { plotPng } from './soak/plot.ts';
import { Reloads } from './soak/reloads.ts';
import { csv, nodeFigures, progressLine, summaryLines, type Row } from './soak/report.ts';
import { sampleNode } from './soak/sampler.ts';
import { verdict, type NodeSample } from './soak/verdict.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEDUP_WINDOW_MS = 300_000;
const TRACE_SIZE = 10_000;
const SESSION_MAX_AGE_MS = 3_600_000;
/** A session must outlive its client (retired after clients / churn minutes, then drained) by this factor. */
const SESSION_MARGIN = 4;

const cleanup = new Cleanup();

/**
 * Retention: every bounded store that fills with traffic (the dedup window, the
 * history's ttl, the trace ring, and the ended sessions each node remembers until
 * they would have expired) is shortened so that it is full by T/8, in the first
 * quarter. Growth after that is a leak, not a store filling up to its bound.
 * `session.maxAge` goes in the config files (the reloads switch it between this and
 * twice this), and never below a few client lifetimes: a session must not expire
 * under its open socket.
 */
function retention(options: SoakOptions): { flags: string[]; sessionMaxAgeMs: number } {
  const fillMs = ((options.minutes * 60) / 8) * 1000;
  const window = Math.min(DEDUP_WINDOW_MS, Math.floor(fillMs));
  const traceSize = Math.min(TRACE_SIZE, Math.floor((options.rate * fillMs) / 1000));
  const clientLifetimeMs = options.churn > 0 ? (options.clients / options.churn) * 60_000 : Infinity;
  const sessionMaxAgeMs = Math.min(SESSION_MAX_AGE_MS, Math.max(Math.floor(fillMs / 2), SESSION_MARGIN * clientLifetimeMs));
  return {
    flags: ['--websockets.dedupWindow', String(window), '--websockets.history.ttl', String(Math.max(1000, window)), '--trace.size', String(traceSize)],
    sessionMaxAgeMs,
  };
}

async function main(): Promise<number> {
  const defaultBroker = hasMosquitto() ? 'mosquitto' : 'embedded';
  const parsed = optionsOrStatus(process.argv.slice(2), (argv) => parseOptions(argv, defaultBroker), usage(defaultBroker));
  if (typeof parsed === 'number') return parsed;
  const options = parsed;
  const out = path.resolve(options.out);
  const durationS = options.minutes * 60;
  await mkdir(out, { recursive: true });
  logLine(`soak: ${options.minutes} min, a sample every ${options.interval} s, broker ${options.broker}, ${options.clients} clients of ${options.users} users, ${options.churn} replaced a minute, ${options.rate} pushes/s, a reload every ${options.reloadEvery} s; output in ${out}`);

  buildWsmesh(REPO_ROOT, logLine);
  const users = benchUsers(options.users);
  const { flags: retentionFlags, sessionMaxAgeMs } = retention(options);
  logLine(`retention: ${retentionFlags.join(' ')}; session.maxAge ${sessionMaxAgeMs} and ${2 * sessionMaxAgeMs} ms in turn (config files)`);
  const reloads = await Reloads.create(out, users, sessionMaxAgeMs);
  const configFiles = { A: await reloads.configFile(out, 'A'), B: await reloads.configFile(out, 'B') };
  const broker = await startBenchBroker(options.broker, logLine);
  cleanup.add(() => broker.stop());
  const inspectPorts = { A: await freePort(), B: await freePort() };
  const pair = await NodePair.start({
    repoRoot: REPO_ROOT,
    directoryFile: reloads.directoryFile,
    flagsA: ['--config', configFiles.A, ...retentionFlags],
    flagsB: ['--config', configFiles.B, ...retentionFlags],
    maxSockets: 64,
    log: logLine,
    onCleanup: (step) => cleanup.add(step),
    broker: broker.external,
    nodeArgs: (name) => [`--inspect=127.0.0.1:${inspectPorts[name]}`],
  });
  const nodes = [pair.a, pair.b];
  const heaps = await Promise.all(nodes.map((node) => InspectorHeap.connect(inspectPorts[node.name as 'A' | 'B'])));
  cleanup.add(() => heaps.forEach((heap) => heap.close()));

  const driver = new Driver({ pair, users, clients: options.clients, churn: options.churn, rate: options.rate, reloadEvery: options.reloadEvery, reloads, configFiles, log: logLine });
  await driver.warmUp();
  driver.start();
  cleanup.add(() => driver.stop());

  const samples: NodeSample[] = [];
  const rows: Row[] = [];
  const exits: string[] = [];
  const started = Date.now();
  for (let k = 0; k * options.interval <= durationS; k++) {
    await sleep(Math.max(0, started + k * options.interval * 1000 - Date.now()));
    const dead = nodes.filter((node) => node.child.exitReason());
    if (dead.length) {
      for (const node of dead) exits.push(`node ${node.name} exited (${node.child.exitReason()})\n${node.child.output()}`);
      break;
    }
    const t = (Date.now() - started) / 1000;
    const taken = await Promise.all(nodes.map((node, i) => sampleNode(node, heaps[i], t)));
    samples.push(...taken);
    for (const sample of taken) rows.push({ sample, counts: { ...driver.counts } });
    logLine(progressLine(t, taken, driver.counts));
    await writeFile(path.join(out, 'soak.csv'), csv(rows));
  }

  logLine('stopping the mix: every client retired once its pushes arrived');
  await driver.stop();
  const final = { ...driver.counts };
  const names = nodes.map((node) => node.name);
  const result = verdict(names, samples, durationS, options.maxGrowth, final, exits);
  const figures = names.map((node) => nodeFigures(node, samples, durationS));
  const lines = summaryLines(figures, final, result, options.maxGrowth);
  const title = `wsmesh soak: ${options.minutes} min, broker ${options.broker}, ${options.clients} clients, ${options.rate} pushes/s, ${final.pushes} pushes, ${final.lost} lost, ${final.errors} errors: ${result.ok ? 'PASS' : 'FAIL'}`;
  await writeFile(path.join(out, 'soak.png'), plotPng(title, names, samples, durationS));
  await writeFile(path.join(out, 'summary.json'), JSON.stringify({ options, retention: { flags: retentionFlags, sessionMaxAgeMs }, durationS, ok: result.ok, failures: result.failures, heap: result.heap, figures, counts: final, errors: driver.errorMessages }, null, 2) + '\n');
  for (const line of lines) logLine(line);
  logLine(`wrote ${path.join(out, 'soak.csv')}, ${path.join(out, 'soak.png')}, ${path.join(out, 'summary.json')}`);
  if (!result.ok) process.stderr.write(`soak: FAIL\n${result.failures.map((f) => `  - ${f}`).join('\n')}\n`);
  return result.ok ? 0 : 1;
}

void runScript(cleanup, main);
