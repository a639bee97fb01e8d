/**
 * Handshake scaling benchmark: does the cost of a connect or a disconnect grow with
 * the number of sockets already open? (../shared/brief.md, "Measured pitfalls": with
 * 50k sockets open, handshakes/s must stay within 80% of the rate with 1k open.)
 *
 *   npm run bench:handshake-scaling -- [--quick] [--levels 1000,10000,25000,50000 --probe 2000 ...]
 *
 * One wsmesh node runs as a child process (embedded broker on a free port). At each
 * level, filler sockets are opened until that many are open; then a probe batch of P
 * sockets is opened (handshakes/s, C in flight) and closed (closes/s: all closes sent
 * at once, timed until GET /api/admin/stats shows the server's index dropped them),
 * R times. Before the first level's rounds the server is warmed up with W unmeasured
 * batches; after the highest level the fillers are closed and the first level is
 * measured again; each rate's baseline is the median of both sets of rounds.
 *
 * Probe sockets belong to users of their own (S each), so the per-user part of a
 * connect is the same at every level and only the number of open sockets changes.
 * Client sockets come from 127.0.0.2, .3, ... with explicit source ports (see
 * lib/lean-sockets.ts); each user logs in from the address its sockets use, so the
 * session IP check stays on.
 *
 * Exit status 0 when the requirement holds at the highest level; 1 when it does
 * not, and on failure or interruption (every child, socket and temp dir cleaned up).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type WebSocket from 'ws';
import { buildWsmesh } from './lib/build.ts';
import { freePort, ServerChild } from './lib/children.ts';
import { benchUsers, writeDirectory, type BenchUser } from './lib/directory.ts';
import { optionsOrStatus } from './lib/flags.ts';
import { JsonClient } from './lib/http.ts';
import { checkBindable, LeanSockets, openFileLimit, sourceAddresses, SourcePorts } from './lib/lean-sockets.ts';
import { logInUsers, type LoggedIn } from './lib/load.ts';
import type { AdminStats } from './lib/node-pair.ts';
import { runPool, sleep } from './lib/pool.ts';
import { format } from './lib/report.ts';
import { parseScalingOptions, USAGE, type ScalingOptions } from './lib/scaling-options.ts';
import { closes, handshakes, resultTable, verdict, type LevelRow, type Probe } from './lib/scaling-report.ts';
import { Cleanup, logLine, runScript } from './lib/script.ts';
import { SOCKET_PATH, wsmesh } from './lib/targets.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Descriptors besides the sockets: listeners, broker link, stdio, epoll, watchers, the stats client. */
const FD_MARGIN = 300;
const FILLER_PROGRESS_EVERY = 5000;
/** After the fillers open: let the server finish what the handshakes queued (registry publishes). */
const SETTLE_MS = 1000;
/**
 * Then the server's CPU is read over this long with nothing happening but keep-alive
 * pings. Sockets opened together ping together (every pingInterval, 25 s by
 * default), so a window that meets such a wave reads high and one between waves low.
 */
const IDLE_MS = 5000;
/** Between probe rounds: closed sockets' last packets. */
const ROUND_PAUSE_MS = 300;
const POLL_MS = 5;
const CLOCK_TICKS_PER_SEC = 100;

const cleanup = new Cleanup();

/** Who opens what: filler i belongs to filler user i mod K, probe j to probe user j mod (P/S). */
class Plan {
  readonly fillerUsers: number;
  readonly probeUsers: number;

  constructor(
    readonly options: ScalingOptions,
    readonly addresses: readonly string[],
  ) {
    this.fillerUsers = options.users;
    this.probeUsers = Math.ceil(options.probe / options.probePerUser);
  }

  get totalUsers(): number {
    return this.fillerUsers + this.probeUsers;
  }

  /** User index (0-based, fillers first) -> the index of its source address. */
  addressOf(user: number): number {
    return user % this.addresses.length;
  }

  fillerUser(i: number): number {
    return i % this.fillerUsers;
  }

  probeUser(j: number): number {
    return this.fillerUsers + (j % this.probeUsers);
  }
}

/** The node's admin stats, and waiting on them. */
class StatsProbe {
  constructor(
    private readonly http: JsonClient,
    private readonly adminToken: string,
    private readonly server: ServerChild,
  ) {}

  async stats(): Promise<AdminStats> {
    const res = await this.http.request({ method: 'GET', path: '/api/admin/stats', headers: { authorization: `Bearer ${this.adminToken}` } });
    if (res.status !== 200) throw new Error(`GET /api/admin/stats answered HTTP ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as AdminStats;
  }

  /** From GET /metrics (prom-client's default metrics): V8 heap in use and GC time so far, or undefined if absent. */
  async runtime(): Promise<{ heapUsedBytes?: number; gcSeconds?: number }> {
    const res = await this.http.request({ method: 'GET', path: '/metrics' });
    if (res.status !== 200 || typeof res.body !== 'string') return {};
    const heap = /^wsmesh_nodejs_heap_size_used_bytes (\S+)$/m.exec(res.body);
    const gc = [...res.body.matchAll(/^wsmesh_nodejs_gc_duration_seconds_sum\{[^}]*\} (\S+)$/gm)].map((m) => Number(m[1]));
    return { heapUsedBytes: heap ? Number(heap[1]) : undefined, gcSeconds: gc.length ? gc.reduce((a, b) => a + b, 0) : undefined };
  }

  /** Polls until the node's index holds exactly `count` sockets; throws after `timeoutMs`, or if the node died. */
  async untilLocal(count: number, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const local = (await this.stats()).sockets.local;
      if (local === count) return;
      const exit = this.server.exitReason();
      if (exit) throw new Error(`the node exited (${exit}) while waiting for ${count} sockets in its index\n${this.server.output()}`);
      if (performance.now() > deadline) throw new Error(`the node's index holds ${local} sockets, not ${count}, ${timeoutMs / 1000} s on`);
      await sleep(POLL_MS);
    }
  }
}

interface Bench {
  options: ScalingOptions;
  plan: Plan;
  logins: readonly LoggedIn[];
  urls: readonly string[];
  sockets: LeanSockets;
  /** The open filler sockets, in the order they were opened. */
  fillers: WebSocket[];
  stats: StatsProbe;
  server: ServerChild;
}

/** CPU time (user + system) of process `pid` in ms, from /proc (10 ms resolution); undefined elsewhere. */
function cpuMs(pid: number): number | undefined {
  try {
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SEC;
  } catch {
    return undefined;
  }
}

function checkFileLimit(options: ScalingOptions): void {
  const limit = openFileLimit();
  if (!limit) return;
  const top = options.levels.at(-1)!;
  const need = top + options.probe + FD_MARGIN;
  if (limit.soft >= need) return;
  const fits = Math.max(0, limit.soft - options.probe - FD_MARGIN);
  const fitting = [1000, 5000, 10_000, 25_000, 50_000].filter((level) => level < fits);
  if (Math.floor(fits / 500) * 500 > (fitting.at(-1) ?? 0)) fitting.push(Math.floor(fits / 500) * 500);
  throw new Error(
    `the open-file limit is ${limit.soft} (ulimit -n; hard limit ${limit.hard}), but ${top} open sockets need about ${need} ` +
      `descriptors in this process and as many in the server (${top} + ${options.probe} probe + ${FD_MARGIN} spare).\n` +
      `  Raise it in the shell that runs the bench: \`ulimit -n ${Math.ceil(need / 4096) * 4096 + 4096}\` ` +
      `(above the hard limit this needs root with CAP_SYS_RESOURCE, or: \`nofile\` in /etc/security/limits.conf, ` +
      `\`docker run --ulimit nofile=65536:65536\`, LimitNOFILE= in a systemd unit),\n` +
      `  or measure fewer open sockets: --levels up to ${fits}, e.g. --levels ${fitting.join(',')}`,
  );
}

/** Opens sockets until `target` fillers are open, C in flight, a progress line every 5k. */
async function openFillers(bench: Bench, target: number): Promise<void> {
  const { plan, options, logins, urls, sockets, fillers } = bench;
  const from = fillers.length;
  const count = target - from;
  if (count <= 0) return;
  logLine(`fillers: opening ${count} sockets (${from} -> ${target})`);
  const start = performance.now();
  let mark = start;
  let done = 0;
  await runPool(count, options.concurrency, async (k) => {
    const user = plan.fillerUser(from + k);
    fillers[from + k] = await sockets.open(urls[user], logins[user].cookie, plan.addressOf(user));
    const open = from + ++done;
    if (open % FILLER_PROGRESS_EVERY === 0 || done === count) {
      const now = performance.now();
      const step = open % FILLER_PROGRESS_EVERY || FILLER_PROGRESS_EVERY;
      logLine(`fillers: ${open}/${target} open (the last ${Math.min(step, done)} at ${format((Math.min(step, done) / (now - mark)) * 1000, 0)}/s)`);
      mark = now;
    }
    if (sockets.error) throw sockets.error;
  });
  logLine(`fillers: ${target} open in ${((performance.now() - start) / 1000).toFixed(1)} s`);
}

/** Closes fillers (all at once) until `target` are open, and waits for the node's index to agree. */
async function closeFillers(bench: Bench, target: number): Promise<void> {
  const { fillers, sockets, stats, options } = bench;
  const count = fillers.length - target;
  logLine(`fillers: closing ${count} sockets (${fillers.length} -> ${target})`);
  const start = performance.now();
  const clientsClosed = sockets.close(fillers.splice(target), options.timeout * 1000);
  await stats.untilLocal(target, options.timeout * 1000);
  logLine(`fillers: ${target} open; the node dropped ${count} in ${((performance.now() - start) / 1000).toFixed(1)} s (${format((count / (performance.now() - start)) * 1000, 0)}/s)`);
  await clientsClosed;
}

/** One probe batch at `level` open sockets: open P (timed), close them (timed until the index dropped them). */
async function probe(bench: Bench, level: number): Promise<Probe> {
  const { plan, options, logins, urls, sockets, stats, server } = bench;
  const batch: WebSocket[] = new Array(options.probe);
  const timeoutMs = options.timeout * 1000;

  const gc0 = (await stats.runtime()).gcSeconds;
  const cpu0 = cpuMs(server.pid);
  const client0 = process.cpuUsage();
  const openStart = performance.now();
  await runPool(options.probe, options.concurrency, async (j) => {
    const user = plan.probeUser(j);
    batch[j] = await sockets.open(urls[user], logins[user].cookie, plan.addressOf(user));
  });
  const openMs = performance.now() - openStart;
  const cpu1 = cpuMs(server.pid);
  const client1 = process.cpuUsage(client0);
  const gc1 = (await stats.runtime()).gcSeconds;
  // Not timed: every probe socket is in the index (an accepted handshake is indexed before its 101).
  await stats.untilLocal(level + options.probe, timeoutMs);

  const cpu2 = cpuMs(server.pid);
  const closeStart = performance.now();
  const clientsClosed = sockets.close(batch, timeoutMs);
  await stats.untilLocal(level, timeoutMs);
  const closeMs = performance.now() - closeStart;
  const cpu3 = cpuMs(server.pid);
  await clientsClosed;
  if (sockets.error) throw sockets.error;
  const perSocket = (a?: number, b?: number) => (a === undefined || b === undefined ? undefined : ((b - a) * 1000) / options.probe);
  return {
    handshakesPerSec: (options.probe / openMs) * 1000,
    closesPerSec: (options.probe / closeMs) * 1000,
    serverUsPerHandshake: perSocket(cpu0, cpu1),
    serverUsPerClose: perSocket(cpu2, cpu3),
    clientUsPerHandshake: (client1.user + client1.system) / options.probe,
    gcShareOfOpen: gc0 === undefined || gc1 === undefined ? undefined : ((gc1 - gc0) * 1000) / openMs,
  };
}

function describe(probe: Probe): string {
  return (
    `${format(probe.handshakesPerSec, 0)} handshakes/s, ${format(probe.closesPerSec, 0)} closes/s; ` +
    `CPU per handshake: server ${format(probe.serverUsPerHandshake, 0)} us, bench ${format(probe.clientUsPerHandshake, 0)} us; per close: server ${format(probe.serverUsPerClose, 0)} us; ` +
    `server GC ${format(probe.gcShareOfOpen === undefined ? undefined : probe.gcShareOfOpen * 100, 0)}% of the opening`
  );
}

async function measureLevel(bench: Bench, level: number, label: string, warmup: number): Promise<LevelRow> {
  const { options, server, stats } = bench;
  const prefix = `level ${label}`;
  await stats.untilLocal(level, options.timeout * 1000);
  await sleep(SETTLE_MS);
  const idle0 = cpuMs(server.pid);
  const idleStart = performance.now();
  await sleep(IDLE_MS);
  const idle1 = cpuMs(server.pid);
  const idleCpuShare = idle0 === undefined || idle1 === undefined ? undefined : (idle1 - idle0) / (performance.now() - idleStart);
  const rssKiB = server.rssKiB();
  const { heapUsedBytes } = await stats.runtime();
  for (let round = 1; round <= warmup; round++) {
    logLine(`${prefix}: warm-up ${round}/${warmup} (not counted): ${describe(await probe(bench, level))}`);
    await sleep(ROUND_PAUSE_MS);
  }
  const probes: Probe[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    const result = await probe(bench, level);
    probes.push(result);
    logLine(`${prefix}: round ${round}/${options.rounds}: ${describe(result)}`);
    await sleep(ROUND_PAUSE_MS);
  }
  const row: LevelRow = { level, label, probes, rssKiB, heapUsedBytes, idleCpuShare };
  logLine(
    `${prefix}: median ${format(handshakes(row), 0)} handshakes/s, ${format(closes(row), 0)} closes/s; ` +
      `server RSS ${format((rssKiB ?? NaN) / 1024, 1)} MiB, heap used ${format((heapUsedBytes ?? NaN) / 2 ** 20, 1)} MiB, ` +
      `idle CPU ${format((idleCpuShare ?? NaN) * 100, 1)}% of a core`,
  );
  return row;
}

/** One login per user, from the source address its sockets will use: the session's IP check stays on. */
async function logIn(server: ServerChild, plan: Plan, users: readonly BenchUser[], options: ScalingOptions): Promise<LoggedIn[]> {
  const logins: LoggedIn[] = new Array(users.length);
  let done = 0;
  for (const [a, address] of plan.addresses.entries()) {
    const indexes = users.map((_, u) => u).filter((u) => plan.addressOf(u) === a);
    const http = new JsonClient(server.baseUrl, options.loginConcurrency, { localAddress: address });
    try {
      const group = await logInUsers(http, indexes.map((u) => users[u]), options.loginConcurrency, () => {});
      group.forEach((login, k) => (logins[indexes[k]] = login));
    } finally {
      http.close();
    }
    done += indexes.length;
    logLine(`logged in ${done}/${users.length} users (${indexes.length} from ${address})`);
  }
  return logins;
}

async function main(argv: string[]): Promise<number> {
  const options = optionsOrStatus(argv, parseScalingOptions, USAGE);
  if (typeof options === 'number') return options;
  const top = options.levels.at(-1)!;
  const plan = new Plan(options, sourceAddresses(top + options.probe));
  for (const address of plan.addresses) await checkBindable(address);

  const limit = openFileLimit();
  console.log(`handshake scaling bench: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ${os.platform()} ${os.release()}`);
  console.log(
    `levels ${options.levels.join(', ')} open sockets; probe P=${options.probe} sockets, ${options.rounds} round(s) per level, ${options.warmup} warm-up round(s); ` +
      `C=${options.concurrency} handshakes in flight; filler users K=${plan.fillerUsers} (${format(top / plan.fillerUsers, 1)} sockets each at ${top}), ` +
      `probe users ${plan.probeUsers} (${options.probePerUser} sockets each); source addresses ${plan.addresses.join(', ')}; open-file limit ${limit?.soft ?? 'unknown'}`,
  );
  checkFileLimit(options);
  const [load] = os.loadavg();
  if (load > 0.5) console.log(`note: load average ${load.toFixed(2)} on ${os.cpus().length} CPUs before the start: other processes compete for the cores; expect noise (--rounds 5)`);

  buildWsmesh(REPO_ROOT, logLine);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wsmesh-bench-'));
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  const users = benchUsers(plan.totalUsers);
  const directoryFile = await writeDirectory(dir, users);
  logLine(`directory: ${users.length} users in ${dir}`);

  const adminToken = randomBytes(24).toString('base64url');
  const [port, brokerPort] = [await freePort(), await freePort()];
  const spec = wsmesh.serverSpec({ port, directoryFile, adminToken, repoRoot: REPO_ROOT });
  // Single node: the embedded broker on a port of its own, so parallel runs do not meet on 1883.
  spec.args.push('--broker', 'embedded', '--broker-port', String(brokerPort), ...options.serverArgs);
  logLine(`wsmesh: starting: node ${spec.args.join(' ')}`);
  const server = await ServerChild.start(spec);
  cleanup.add(() => server.stop());
  logLine(`wsmesh: up (pid ${server.pid}, RSS ${format((server.rssKiB() ?? NaN) / 1024, 1)} MiB)`);

  const sockets = new LeanSockets(new SourcePorts(plan.addresses));
  // Registered after the server's stop, so run before it: dropping every socket at once is quick.
  cleanup.add(() => sockets.terminateAll());
  const statsHttp = new JsonClient(server.baseUrl, 1);
  cleanup.add(() => statsHttp.close());

  const logins = await logIn(server, plan, users, options);
  const wsBase = server.baseUrl.replace(/^http/, 'ws') + SOCKET_PATH;
  const urls = logins.map((login) => `${wsBase}?session=${encodeURIComponent(login.session)}`);
  const bench: Bench = { options, plan, logins, urls, sockets, fillers: [], stats: new StatsProbe(statsHttp, adminToken, server), server };

  const rows: LevelRow[] = [];
  try {
    for (const [i, level] of options.levels.entries()) {
      await openFillers(bench, level);
      rows.push(await measureLevel(bench, level, format(level, 0), i === 0 ? options.warmup : 0));
    }
    if (options.levels.length > 1) {
      await closeFillers(bench, options.levels[0]);
      rows.push(await measureLevel(bench, options.levels[0], `${format(options.levels[0], 0)} (again)`, 0));
    }
  } catch (error) {
    const exit = await server.exitReasonWithin(1000);
    if (!exit) throw error;
    throw new Error(`${(error as Error).message}\n  the node exited (${exit})\n${server.output()}`, { cause: error });
  }

  console.log('');
  console.log(
    `node ${process.version}, ${os.cpus().length} CPUs; probe P=${options.probe}, ${options.rounds} round(s) per level (median, and min-max of the rounds), ` +
      `C=${options.concurrency}, ${options.warmup} warm-up round(s); K=${plan.fillerUsers} filler users, ${plan.probeUsers} probe users x ${options.probePerUser}; ` +
      `${plan.addresses.length} source address(es)${options.serverArgs.length ? `; server flags ${options.serverArgs.join(' ')}` : ''}`,
  );
  console.log(resultTable(rows));
  console.log('handshakes/s: P upgrades (101 received), C in flight. closes/s: P client closes sent at once, timed until the node\'s index dropped them');
  console.log(`(GET /api/admin/stats every ${POLL_MS} ms). ratio: to the median of all the lowest level\'s rounds (first, and again after the fillers closed).`);
  console.log('server CPU: user + system of the node process (all its threads) during the batch, per socket; GC: the share of the opening spent in GC;');
  console.log(`idle CPU: the node's CPU over ${IDLE_MS / 1000} s with the level's sockets open and no traffic but keep-alive pings, in % of one core`);
  console.log('(pings come in waves: sockets opened together ping together every pingInterval, so it depends on whether the window met one);');
  console.log('RSS and V8 heap used (GET /metrics, garbage included): with the level\'s sockets open, before its probes.');
  const { lines, holds } = verdict(rows);
  for (const line of lines) console.log(line);
  if (!holds) throw new Error('the requirement does not hold (see the table above)');
  return 0;
}

await runScript(cleanup, () => main(process.argv.slice(2)));
