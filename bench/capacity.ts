/**
 * Capacity benchmark: one wsmesh node at the most sockets this machine allows (the
 * open-file limit of 20,000 leaves room for 19,000), and what a socket costs there.
 *
 *   npm run bench:capacity -- [--quick] [--levels 1000,5000,10000,19000 --rate 1000 --seconds 10 ...]
 *
 * 1. Memory: after a warm-up (the first level's sockets opened, pushed to, closed:
 *    the heap's and the allocator's one-time growth), sockets are opened level by
 *    level (socket j belongs to user j mod K); at each level the node's live memory
 *    after a full GC (lib/memory-probe.ts; RSS is printed beside it) gives the
 *    memory per socket, which should be flat (within 10% from the lowest level to
 *    the highest).
 * 2. Latency at the top level: pushes paced at R per second for S seconds, each to
 *    one user's sockets; each frame's latency is from its push's due time (so a
 *    backlog counts), p50 / p99 / max over every frame (goal: p99 <= 50 ms at 1k/s).
 * 3. The inspector: a burst of M pushes (F in flight), timed until the last frame,
 *    without the inspector, then three times with its event stream connected and
 *    read followed by one without; the ratio is the median with / the median
 *    without (goal: >= 0.8).
 *
 * Every frame is checked: each socket gets exactly its user's messages. One child
 * process (the node, embedded broker on a free port); the clients run here, from
 * 127.0.0.2 with explicit source ports (lib/lean-sockets.ts). Exit status 0 when
 * the run completed (the verdicts are printed, not enforced); 1 on failure.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type WebSocket from 'ws';
import { buildWsmesh } from './lib/build.ts';
import { freePort, ServerChild } from './lib/children.ts';
import { parseCapacityOptions, USAGE, type CapacityOptions } from './lib/capacity-options.ts';
import { benchUsers, writeDirectory } from './lib/directory.ts';
import { optionsOrStatus } from './lib/flags.ts';
import { JsonClient } from './lib/http.ts';
import { checkBindable, LeanSockets, openFileLimit, sourceAddresses, SourcePorts } from './lib/lean-sockets.ts';
import { logInUsers, message, type LoggedIn } from './lib/load.ts';
import { liveMemory, type LiveMemory } from './lib/memory-probe.ts';
import { progressEvery, runPool, sleep } from './lib/pool.ts';
import { format, percentile, render } from './lib/report.ts';
import { Cleanup, logLine, runScript } from './lib/script.ts';
import { SOCKET_PATH, wsmesh } from './lib/targets.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FD_MARGIN = 300;
const SETTLE_MS = 1500;
const FRAMES_TIMEOUT_MS = 60_000;
const FLAT_WITHIN = 0.1;
/** Bursts with the inspector, each between two without it. */
const INSPECTOR_ROUNDS = 3;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const cleanup = new Cleanup();

/** Frames received, per socket; the run's handler sees each with its message's sequence number. */
const INDEX = Symbol('bench.capacity.index');
type Client = WebSocket & { [INDEX]?: number };
let counts = new Uint32Array(0);
let onFrame: (seq: number, at: number) => void = () => {};

function frameListener(this: Client, data: Buffer): void {
  counts[this[INDEX]!]++;
  // `m<seq>|xxx...`: the digits after the m.
  let seq = 0;
  for (let i = 1; i < data.length && data[i] !== 0x7c; i++) seq = seq * 10 + (data[i] - 0x30);
  onFrame(seq, performance.now());
}

interface Run {
  server: ServerChild;
  options: CapacityOptions;
  logins: LoggedIn[];
  sockets: LeanSockets;
  clients: Client[];
  http: JsonClient;
  adminToken: string;
  users: ReturnType<typeof benchUsers>;
  /** Messages pushed so far: each run's sequence numbers are new, so a late frame of an earlier run is caught. */
  seq: number;
}

function socketsOfUser(run: Run, u: number): number {
  const n = run.clients.length;
  const k = run.options.users;
  return Math.floor(n / k) + (u < n % k ? 1 : 0);
}

async function openTo(run: Run, level: number): Promise<number> {
  const { options, logins, sockets, clients } = run;
  const wsBase = run.server.baseUrl.replace(/^http/, 'ws') + SOCKET_PATH;
  const from = clients.length;
  const grown = new Uint32Array(level);
  grown.set(counts);
  counts = grown;
  const progress = progressEvery(level - from, 4, (done) => logLine(`sockets: ${from + done}/${level} open`));
  let done = 0;
  const start = performance.now();
  await runPool(level - from, options.concurrency, async (i) => {
    const j = from + i;
    const login = logins[j % options.users];
    const ws = (await sockets.open(`${wsBase}?session=${encodeURIComponent(login.session)}`, login.cookie, 0)) as Client;
    ws[INDEX] = j;
    ws.on('message', frameListener);
    clients[j] = ws;
    progress(++done);
  });
  return ((level - from) / (performance.now() - start)) * 1000;
}

/** Pushes `count` messages (message k to user k mod K) via `send`, and resolves when each socket got exactly its own. */
function expectFrames(run: Run, count: number, timeoutMs: number): { frames: number; reachedAt: () => number | undefined; done: Promise<void> } {
  let expected = 0;
  for (let k = 0; k < count; k++) expected += socketsOfUser(run, (run.seq + k) % run.options.users);
  const before = counts.slice();
  let received = 0;
  let reachedAt: number | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    setTimeout(() => reject(new Error(`only ${received} of ${expected} frames arrived within ${timeoutMs / 1000} s`)), timeoutMs).unref();
  });
  const first = run.seq;
  const wrap = onFrame;
  let foreign = 0;
  onFrame = (seq, at) => {
    wrap(seq, at);
    if (seq < first || seq >= first + count) foreign++;
    else if (++received === expected) {
      reachedAt = at;
      resolveDone();
    }
  };
  const checked = done.then(async () => {
    await sleep(100); // a duplicate would come right after
    onFrame = wrap;
    if (foreign) throw new Error(`${foreign} frames of messages outside this run's ${first}..${first + count - 1}`);
    const perUser = new Map<number, number>();
    for (let k = 0; k < count; k++) perUser.set((first + k) % run.options.users, (perUser.get((first + k) % run.options.users) ?? 0) + 1);
    let wrong = 0;
    for (let j = 0; j < run.clients.length; j++) if (counts[j] - before[j] !== (perUser.get(j % run.options.users) ?? 0)) wrong++;
    if (wrong || received !== expected) throw new Error(`wrong delivery: ${received} frames for ${expected}, ${wrong} sockets with a wrong count`);
  });
  run.seq += count;
  return { frames: expected, reachedAt: () => reachedAt, done: checked };
}

function pushOne(run: Run, seq: number): Promise<void> {
  const user = run.users[seq % run.options.users];
  return run.http.request(wsmesh.pushRequest(user, message(seq, run.options.payload), run.adminToken)).then((res) => {
    if (res.status !== 202) throw new Error(`push ${seq} failed: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  });
}

/** R pushes per second for S seconds; latency per frame from its push's due time. */
async function paced(run: Run): Promise<{ latencies: Float64Array; frames: number; offered: number; achieved: number }> {
  const { rate, seconds } = run.options;
  const count = rate * seconds;
  const first = run.seq;
  const due = new Float64Array(count);
  const latencies = new Float64Array(1 << 20);
  let n = 0;
  const base = onFrame;
  onFrame = (seq, at) => {
    if (n < latencies.length) latencies[n++] = at - due[seq - first];
  };
  const expectation = expectFrames(run, count, FRAMES_TIMEOUT_MS);
  const start = performance.now() + 20;
  const pushes: Promise<void>[] = [];
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < count && start + (sent * 1000) / rate <= now) {
        due[sent] = start + (sent * 1000) / rate;
        pushes.push(pushOne(run, first + sent));
        sent++;
      }
      if (sent < count) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await Promise.all(pushes);
  await expectation.done;
  onFrame = base;
  const elapsed = (expectation.reachedAt()! - start) / 1000;
  return { latencies: latencies.slice(0, n).sort(), frames: expectation.frames, offered: rate, achieved: count / elapsed };
}

/** M pushes, F in flight, timed until the last frame arrived: frames per second. */
async function burst(run: Run, label: string): Promise<number> {
  const { messages, inflight } = run.options;
  const first = run.seq;
  const expectation = expectFrames(run, messages, FRAMES_TIMEOUT_MS);
  const start = performance.now();
  await runPool(messages, inflight, (k) => pushOne(run, first + k));
  await expectation.done;
  const perSec = (expectation.frames / (expectation.reachedAt()! - start)) * 1000;
  logLine(`burst ${label}: ${expectation.frames} frames in ${format(expectation.reachedAt()! - start, 0)} ms: ${format(perSec, 0)} frames/s`);
  return perSec;
}

/** The inspector's event stream, read as a browser would, until `close()`. */
function watchInspector(run: Run): Promise<{ close: () => void; batches: () => number }> {
  return new Promise((resolve, reject) => {
    let batches = 0;
    const req = http.get(`${run.server.baseUrl}/api/admin/inspector/events`, { headers: { authorization: `Bearer ${run.adminToken}` } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`the inspector's stream answered HTTP ${res.statusCode}`));
      res.setEncoding('utf8');
      let first = true;
      res.on('data', (text: string) => {
        batches += text.split('event: batch').length - 1;
        if (first && text.includes('event: snapshot')) {
          first = false;
          resolve({ close: () => req.destroy(), batches: () => batches });
        }
      });
    });
    req.on('error', (error) => reject(new Error(`the inspector's stream: ${error.message}`)));
  });
}

/** Least squares of kib = perSocket x sockets + perUser x users (no constant: the baseline was subtracted). */
function fitSocketsAndUsers(points: { sockets: number; users: number; kib: number }[]): { perSocket: number; perUser: number } {
  let ss = 0, su = 0, uu = 0, sk = 0, uk = 0;
  for (const { sockets, users, kib } of points) {
    ss += sockets * sockets;
    su += sockets * users;
    uu += users * users;
    sk += sockets * kib;
    uk += users * kib;
  }
  const det = ss * uu - su * su;
  // Every level with as many users as sockets (K >= every level): one unknown only.
  if (Math.abs(det) < 1e-9 * ss * uu) return { perSocket: sk / ss, perUser: 0 };
  return { perSocket: (sk * uu - uk * su) / det, perUser: (uk * ss - sk * su) / det };
}

function checkLimits(options: CapacityOptions): void {
  const limit = openFileLimit();
  const need = options.levels.at(-1)! + FD_MARGIN;
  if (!limit || limit.soft >= need) return;
  throw new Error(
    `the open-file limit is ${limit.soft} (ulimit -n), but ${options.levels.at(-1)} sockets need about ${need} descriptors in this process and as many in the node; ` +
      `raise it (\`ulimit -n ${need}\`) or pass --levels up to ${limit.soft - FD_MARGIN}`,
  );
}

async function main(argv: string[]): Promise<number> {
  const options = optionsOrStatus(argv, parseCapacityOptions, USAGE);
  if (typeof options === 'number') return options;
  checkLimits(options);
  const [address] = sourceAddresses(options.levels.at(-1)!);
  await checkBindable(address);
  console.log(`capacity bench: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}); open-file limit ${openFileLimit()?.soft ?? 'unknown'}`);
  console.log(`levels ${options.levels.join(', ')} sockets, K=${options.users} users; paced ${options.rate}/s for ${options.seconds} s; bursts of ${options.messages} pushes, ${options.inflight} in flight`);

  buildWsmesh(REPO_ROOT, logLine);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wsmesh-bench-'));
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  const users = benchUsers(options.users);
  const directoryFile = await writeDirectory(dir, users);
  const adminToken = randomBytes(24).toString('base64url');
  const [port, brokerPort, inspectPort] = [await freePort(), await freePort(), await freePort()];
  const spec = wsmesh.serverSpec({ port, directoryFile, adminToken, repoRoot: REPO_ROOT });
  spec.args.push('--broker', 'embedded', '--broker-port', String(brokerPort));
  // For the memory readings only (lib/memory-probe.ts): a full GC before each.
  spec.args.unshift(`--inspect=127.0.0.1:${inspectPort}`);
  const server = await ServerChild.start(spec);
  cleanup.add(() => server.stop());
  const rssStart = server.rssKiB();
  logLine(`wsmesh: up (pid ${server.pid}, RSS ${format((rssStart ?? NaN) / 1024, 1)} MiB)`);

  const loginHttp = new JsonClient(server.baseUrl, options.loginConcurrency, { localAddress: address });
  cleanup.add(() => loginHttp.close());
  const logins = await logInUsers(loginHttp, users, options.loginConcurrency, (done) => logLine(`logged in ${done}/${users.length} users`));
  loginHttp.close();

  const sockets = new LeanSockets(new SourcePorts([address]));
  cleanup.add(() => sockets.terminateAll());
  const pushHttp = new JsonClient(server.baseUrl, Math.max(options.inflight, 256));
  cleanup.add(() => pushHttp.close());
  const run: Run = { server, options, logins, sockets, clients: [], http: pushHttp, adminToken, users, seq: 0 };

  // Warm-up, not measured: the first thousand sockets grow the heap's spaces and the
  // allocator's pools once, a fixed cost that would read as memory per socket.
  const warm = options.levels[0];
  logLine(`warm-up: ${warm} sockets open, ${Math.min(options.messages, 500)} pushes, closed (not measured)`);
  await openTo(run, warm);
  const warmPushes = Math.min(options.messages, 500);
  const warmFirst = run.seq;
  const warmBurst = expectFrames(run, warmPushes, FRAMES_TIMEOUT_MS);
  await runPool(warmPushes, options.inflight, (k) => pushOne(run, warmFirst + k));
  await warmBurst.done;
  await sockets.close(run.clients, 10_000);
  run.clients.length = 0;
  counts = new Uint32Array(0);

  await sleep(SETTLE_MS * 2);
  const liveBefore = await liveMemory(inspectPort);
  const rssBefore = liveBefore.rssKiB;
  const live = (m: LiveMemory) => m.heapUsedKiB + m.externalKiB;
  const memory: string[][] = [
    ['sockets', 'handshakes/s', 'RSS (MiB)', 'RSS KiB per socket', 'live MiB (after GC)', 'live KiB per socket', 'live KiB per socket since the last level'],
  ];
  const perSocket: number[] = [];
  const rssPerSocket: number[] = [];
  let last = { level: 0, live: live(liveBefore) };
  for (const level of options.levels) {
    const rate = await openTo(run, level);
    await sleep(SETTLE_MS);
    if (sockets.error) throw sockets.error;
    const now = await liveMemory(inspectPort);
    const rss = now.rssKiB;
    const each = (live(now) - live(liveBefore)) / level;
    perSocket.push(each);
    rssPerSocket.push((rss - rssBefore) / level);
    memory.push([
      format(level, 0),
      format(rate, 0),
      format(rss / 1024, 1),
      format(rssPerSocket.at(-1)!, 2),
      format(live(now) / 1024, 1),
      format(each, 2),
      format((live(now) - last.live) / (level - last.level), 2),
    ]);
    logLine(`level ${level}: RSS ${format(rss / 1024, 1)} MiB; live after GC ${format(live(now) / 1024, 1)} MiB, ${format(each, 2)} KiB per socket`);
    last = { level, live: live(now) };
  }

  logLine(`paced: ${options.rate} pushes/s for ${options.seconds} s to ${format(run.clients.length, 0)} sockets`);
  const pace = await paced(run);
  // Alternating bursts, medians: one burst against one moved by 25% between two
  // identical bursts of one run on this host, more than the effect to measure.
  const without: number[] = [await burst(run, 'without the inspector')];
  const withInspector: number[] = [];
  let batches = 0;
  for (let round = 1; round <= INSPECTOR_ROUNDS; round++) {
    const inspector = await watchInspector(run);
    withInspector.push(await burst(run, `with the inspector streaming (${round}/${INSPECTOR_ROUNDS})`));
    batches += inspector.batches();
    inspector.close();
    without.push(await burst(run, `without the inspector (${round}/${INSPECTOR_ROUNDS})`));
  }
  if (sockets.error) throw sockets.error;

  console.log('');
  console.log(
    `node ${process.version}, ${os.cpus().length} CPUs; K=${options.users} users; RSS before any socket ${format(rssBefore / 1024, 1)} MiB (at start ${format((rssStart ?? NaN) / 1024, 1)} MiB); ` +
      `live before any socket ${format(live(liveBefore) / 1024, 1)} MiB (heap in use and external memory after a full GC)`,
  );
  console.log(render(memory));
  // Memory = s x sockets + u x users with a socket (a user's first socket adds its
  // index entry, delivery subscription and the broker's copy of it; socket j is user
  // j mod K, so the low levels add users as well as sockets). Fitted by least squares
  // over the levels; flat means each level's memory per socket, net of its users,
  // stays within 10% of the others.
  const fit = fitSocketsAndUsers(options.levels.map((level, i) => ({ sockets: level, users: Math.min(level, options.users), kib: perSocket[i] * level })));
  const net = options.levels.map((level, i) => (perSocket[i] * level - fit.perUser * Math.min(level, options.users)) / level);
  const spread = Math.max(...net) / Math.min(...net) - 1;
  const rssSpread = Math.max(...rssPerSocket) / Math.min(...rssPerSocket) - 1;
  console.log(
    `live memory: ${format(fit.perSocket, 2)} KiB per socket and ${format(fit.perUser, 2)} KiB per user with a socket (least squares over the levels); ` +
      `per socket net of users by level: ${net.map((x) => format(x, 2)).join(', ')} KiB, a spread of ${(spread * 100).toFixed(1)}% ` +
      `(goal: within ${FLAT_WITHIN * 100}%): ${spread <= FLAT_WITHIN ? 'met' : 'NOT met'}`,
  );
  console.log(
    `gross live KiB per socket ${format(Math.min(...perSocket), 2)}..${format(Math.max(...perSocket), 2)}; ` +
      `RSS per socket ${format(Math.min(...rssPerSocket), 2)}..${format(Math.max(...rssPerSocket), 2)} KiB (${(rssSpread * 100).toFixed(1)}%: the heap grows in chunks and keeps freed pages)`,
  );
  const p = (q: number) => format(percentile(pace.latencies, q), 1);
  console.log(
    render([
      ['paced run', 'offered/s', 'achieved/s', 'frames', 'p50 ms', 'p99 ms', 'max ms'],
      [`${format(run.clients.length, 0)} sockets`, format(pace.offered, 0), format(pace.achieved, 0), format(pace.frames, 0), p(50), p(99), p(100)],
    ]),
  );
  const p99 = percentile(pace.latencies, 99) ?? Infinity;
  console.log(`delivery p99 ${format(p99, 1)} ms at ${options.rate} pushes/s (goal: <= 50 ms): ${p99 <= 50 ? 'met' : 'NOT met'}`);
  const ratio = median(withInspector) / median(without);
  console.log(
    `bursts: ${without.map((x) => format(x, 0)).join(', ')} frames/s without the inspector, ${withInspector.map((x) => format(x, 0)).join(', ')} with its stream read (${batches} batches): ` +
      `ratio of the medians ${format(ratio, 2)} (goal: >= 0.8): ${ratio >= 0.8 ? 'met' : 'NOT met'}`,
  );
  return 0;
}

await runScript(cleanup, () => main(process.argv.slice(2)));
