/**
 * Reconnect storm: N authenticated sockets on one node lose their connections at
 * once and come back with the browser client's backoff, to the same node or split
 * between it and a second one. `npm run storm -- --help` for the options.
 *
 * The fault is a network one: each client worker (a child process; the sockets need
 * more descriptors than one process may hold) sends its sockets through a TCP
 * balancer of its own, and every balancer cuts all its connections at the same
 * moment; the clients see their sockets die (1006) and reconnect by themselves
 * (lib/storm/client-worker.ts). A prober process reads each node's /healthz every
 * 50 ms over a kept-alive connection. The node's event-loop lag over the storm is
 * its prom-client histogram, reset by a scrape at the drop and read when the last
 * client is back. Leaks: each node's counts before any socket opened against the
 * same counts after every socket closed (lib/storm/readings.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { buildWsmesh } from './lib/build.ts';
import { benchUsers, CONTEXT_ID, writeDirectory } from './lib/directory.ts';
import { optionsOrStatus } from './lib/flags.ts';
import { JsonClient } from './lib/http.ts';
import { openFileLimit } from './lib/lean-sockets.ts';
import { logInUsers, type LoggedIn } from './lib/load.ts';
import { runPool, sleep } from './lib/pool.ts';
import { format } from './lib/report.ts';
import { Cleanup, logLine, runScript } from './lib/script.ts';
import { SOCKET_IO_BACKOFF } from './lib/storm/backoff.ts';
import { Channel } from './lib/storm/channel.ts';
import { checks, renderFigures, type Gathered } from './lib/storm/figures.ts';
import type { ProberCommand, ProberReport } from './lib/storm/messages.ts';
import { StormNodes, type StormNode } from './lib/storm/nodes.ts';
import { parseStormOptions, USAGE, type StormOptions } from './lib/storm/options.ts';
import { differences, lagSinceLastScrape, readNode, type Lag, type Reading } from './lib/storm/readings.ts';
import { Workers, type StormOutcome } from './lib/storm/workers.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PROBER = path.join(REPO_ROOT, 'bench/lib/storm/prober.ts');
const SOCKET_PATH = '/ws/storm';
/** Descriptors a process needs besides its sockets (node's own, the broker's, logs). */
const FD_MARGIN = 300;
/** socket.io-client's connect timeout (its `timeout` option, 20 s). */
const HANDSHAKE_TIMEOUT_MS = 20_000;
/** How long the storm may run before the script gives up waiting for the last clients. */
const GIVE_UP_FACTOR = 4;
const DELIVERY_TIMEOUT_MS = 20_000;
const SETTLE_TIMEOUT_MS = 30_000;
const LOGIN_CONCURRENCY = 4;

const cleanup = new Cleanup();

function checkLimits(options: StormOptions): void {
  const limit = openFileLimit()?.soft ?? Infinity;
  const perWorker = 2 * Math.ceil(options.sockets / options.clients) + FD_MARGIN;
  const perNode = options.sockets + FD_MARGIN;
  if (perWorker > limit) throw new Error(`each of ${options.clients} client workers would hold about ${perWorker} descriptors (2 per socket) over the open-file limit ${limit}: raise --clients`);
  if (perNode > limit) throw new Error(`node A would hold about ${perNode} descriptors, over the open-file limit ${limit} (ulimit -n): lower --sockets`);
}

/** Waits until `node` (B) accepts every login: the sessions replicated there. */
async function sessionsKnown(cluster: StormNodes, node: StormNode, logins: LoggedIn[]): Promise<void> {
  const client = new JsonClient(node.child.baseUrl, 8);
  try {
    await runPool(logins.length, 8, (u) =>
      cluster.until(`session of user ${u + 1} on node ${node.name}`, async () => {
        const res = await client.request({ method: 'GET', path: `/api/session?session=${encodeURIComponent(logins[u].session)}`, headers: { cookie: logins[u].cookie } });
        return res.status === 200;
      }),
    );
  } finally {
    client.close();
  }
}

/** Logs the workers' totals every second until `done` settles; gives up after `giveUpMs`. */
async function watch<T>(done: Promise<T>, line: () => string, giveUpMs: number, gaveUp: () => string): Promise<T> {
  const ticker = setInterval(() => logLine(line()), 1000);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([done, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(gaveUp())), giveUpMs)))]);
  } finally {
    clearInterval(ticker);
    clearTimeout(timer);
  }
}

/** Polls until every node's counts equal its baseline (or the timeout); the last readings. */
async function settledReadings(cluster: StormNodes, baseline: Reading[]): Promise<Reading[]> {
  const deadline = performance.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const now = await Promise.all(cluster.nodes.map((node) => readNode(cluster, node)));
    if (now.every((reading, i) => differences(baseline[i], reading).length === 0) || performance.now() > deadline) return now;
    await sleep(500);
  }
}

async function main(argv: string[]): Promise<number> {
  const options = optionsOrStatus(argv, parseStormOptions, USAGE);
  if (typeof options === 'number') return options;
  checkLimits(options);
  const [load1] = os.loadavg();
  console.log(
    `reconnect storm: node ${process.version}, ${os.cpus().length} CPUs, load average ${load1.toFixed(2)}, open-file limit ${openFileLimit()?.soft ?? 'unknown'}; ` +
      `${format(options.sockets, 0)} sockets of ${options.users} users in ${options.clients} worker(s), reconnecting to ${options.nodes === 1 ? 'A' : 'A and B in turn'}`,
  );
  if (!options.fromSource) buildWsmesh(REPO_ROOT, logLine);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wsmesh-storm-'));
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  const users = benchUsers(options.users);
  const directoryFile = await writeDirectory(dir, users);
  const cluster = await StormNodes.start({ count: options.nodes, repoRoot: REPO_ROOT, directoryFile, fromSource: options.fromSource, log: logLine, onCleanup: (step) => cleanup.add(step) });
  const { a } = cluster;

  const loginClient = new JsonClient(a.child.baseUrl, LOGIN_CONCURRENCY);
  const logins = await logInUsers(loginClient, users, LOGIN_CONCURRENCY, (done) => logLine(`logged in ${done}/${users.length} users on A`));
  loginClient.close();
  for (const node of cluster.nodes.slice(1)) {
    await sessionsKnown(cluster, node, logins);
    logLine(`every session known on node ${node.name}`);
  }

  const prober = new Channel<ProberCommand, ProberReport>('prober', PROBER, [String(options.probeInterval), String(options.healthzLimit), ...cluster.nodes.map((n) => `${n.name}=${n.child.baseUrl}`)]);
  cleanup.add(() => prober.stop());
  await prober.next('started');
  const phase = (name: string) => prober.send({ type: 'phase', name });
  // The servers' idle keep-alive connections of the logins close after 5 s: the baseline is read after them.
  await sleep(6000);
  const baseline = await settledReadings(cluster, await Promise.all(cluster.nodes.map((node) => readNode(cluster, node))));

  phase('opening');
  const ports = cluster.nodes.map((n) => n.port);
  const workers = new Workers({
    workers: options.clients,
    sockets: options.sockets,
    logins,
    before: [a.port],
    after: ports,
    path: SOCKET_PATH,
    backoff: SOCKET_IO_BACKOFF,
    concurrency: options.concurrency,
    handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
    nice: options.clientNice,
  });
  cleanup.add(() => workers.stop());
  const opening = performance.now();
  await watch(workers.open(), () => `sockets open ${format(workers.totals().open, 0)}/${format(options.sockets, 0)}`, 10 * 60_000, () => 'the sockets did not open within 10 minutes');
  logLine(`${format(options.sockets, 0)} sockets open on A in ${format((performance.now() - opening) / 1000, 1)} s`);
  await cluster.until(`A to hold ${options.sockets} sockets`, async () => (await cluster.get<{ sockets: { local: number } }>(a, '/api/admin/stats')).sockets.local === options.sockets);
  await sleep(2000);

  // The storm.
  const atDrop = new Map<string, Lag>();
  for (const node of cluster.nodes) atDrop.set(node.name, await lagSinceLastScrape(node));
  phase('storm');
  logLine(`drop: every balancer cuts its connections; clients reconnect with backoff ${JSON.stringify(SOCKET_IO_BACKOFF)}`);
  const dropped = performance.now();
  const outcome: StormOutcome = await watch(
    workers.drop(),
    () => {
      const t = workers.totals();
      const failed = Object.entries(t.failures);
      return `back ${format(t.back, 0)}/${format(options.sockets, 0)} after ${format((performance.now() - dropped) / 1000, 1)} s${failed.length ? `; failed attempts: ${failed.map(([w, n]) => `${w} ${n}`).join(', ')}` : ''}`;
    },
    options.within * 1000 * GIVE_UP_FACTOR,
    () => `only ${workers.totals().back} of ${options.sockets} clients were back ${options.within * GIVE_UP_FACTOR} s after the drop${cluster.exited() ? `; ${cluster.exited()}` : ''}`,
  );
  const stormSeconds = (performance.now() - dropped) / 1000;
  const lag = await Promise.all(
    cluster.nodes.map(async (node) => {
      const reading = await lagSinceLastScrape(node);
      return { node: node.name, lag: reading, coreShare: (reading.cpuSeconds - atDrop.get(node.name)!.cpuSeconds) / stormSeconds };
    }),
  );
  phase('after');
  logLine(`every client back; last after ${format(Math.max(...outcome.reconnectMs) / 1000, 2)} s`);

  let split: Array<{ node: string; sockets: number }> = [];
  await cluster.until(`the nodes to hold ${options.sockets} sockets between them`, async () => {
    split = await Promise.all(cluster.nodes.map(async (node) => ({ node: node.name, sockets: (await cluster.get<{ sockets: { local: number } }>(node, '/api/admin/stats')).sockets.local })));
    return split.reduce((n, s) => n + s.sockets, 0) === options.sockets;
  });

  // Every socket works: one push per user on A reaches each of the user's sockets once, wherever it is.
  workers.mark();
  await runPool(users.length, 1, async (u) => {
    const res = await cluster.request(a, { method: 'POST', path: '/api/push', body: { contextId: CONTEXT_ID, userId: users[u].id, message: `storm check ${u}` } });
    if (res.status !== 202) throw new Error(`push to user ${users[u].id} answered HTTP ${res.status} ${JSON.stringify(res.body)}`);
  });
  let delivery = await workers.frames();
  const deliveryDeadline = performance.now() + DELIVERY_TIMEOUT_MS;
  while (delivery.exactlyOne + delivery.more < options.sockets && performance.now() < deliveryDeadline) {
    await sleep(250);
    delivery = await workers.frames();
  }
  await sleep(300); // a duplicate would come right after
  delivery = await workers.frames();
  logLine(`delivery check: ${delivery.exactlyOne} sockets got their user's push once, ${delivery.none} none, ${delivery.more} more than once`);

  phase('closing');
  const closedByServer = await workers.close();
  logLine('every socket closed; waiting for the counts to return to their baseline');
  const after = await settledReadings(cluster, baseline);
  prober.send({ type: 'stop' });
  const { summaries } = await prober.next('summary');

  const gathered: Gathered = {
    sockets: options.sockets,
    withinMs: options.within * 1000,
    healthzLimitMs: options.healthzLimit,
    outcome,
    lag,
    split,
    delivery,
    probes: summaries,
    leaks: cluster.nodes.map((node, i) => ({ node: node.name, before: baseline[i], after: after[i] })),
    closedByServer,
  };
  const list = checks(gathered);
  console.log('');
  console.log(renderFigures(gathered, list));
  return list.every((c) => c.ok) ? 0 : 1;
}

await runScript(cleanup, () => main(process.argv.slice(2)));
