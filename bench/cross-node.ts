/**
 * Cross-node benchmark: two wsmesh nodes as child processes on each broker in turn:
 * the embedded one (hosted by A), Mosquitto, and a 3-server NATS cluster (A on
 * server 1, B on server 2). K users log in on A; each opens one socket on B (once
 * its session has been replicated there); messages are pushed on A over HTTP and
 * travel A -> broker -> B -> socket.
 *
 *   npm run bench:cross-node -- [--quick] [--brokers embedded,mosquitto,nats] [--rates 1000,5000] ...
 *
 * Phase 1 (A with websockets.remote.delayDuration 0, nothing coalesced): latency per
 * message from just before the push request to the frame's arrival on B (p50, p90,
 * p99, max), first one message at a time, then M messages with F pushes in flight,
 * then paced at each offered rate for a few seconds (latency from the moment each
 * push was due, so a push that had to wait for a free request counts its wait);
 * delivered messages/s; every message exactly once on its user's socket.
 * Phase 2 (a fresh pair, default buffering: delay 1000, max 3000, tick 500 ms): a
 * burst of B pushes for one user and path filter with D distinct strings must
 * leave A as one broker publish (or a few) and arrive as D frames, in order; the
 * same burst spread over U users makes one publish per user's coalesced entry.
 *
 * The client load runs in this process; the two nodes compete with it for the cores.
 * Exit status 0 on success, 1 with a message on failure or interruption.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startBenchBroker } from './lib/brokers.ts';
import { buildWsmesh } from './lib/build.ts';
import { parseCrossOptions, USAGE, type BenchBroker, type CrossOptions } from './lib/cross-options.ts';
import { benchUsers, CONTEXT_ID, writeDirectory, type BenchUser } from './lib/directory.ts';
import { ClientFleet } from './lib/fleet.ts';
import { optionsOrStatus } from './lib/flags.ts';
import { BurstRun, FrameRouter, LatencyRun, type BurstCheck } from './lib/frame-runs.ts';
import { logInUsers } from './lib/load.ts';
import { NodePair, type AdminStats, type ExternalBroker } from './lib/node-pair.ts';
import { progressEvery, runPool, sleep } from './lib/pool.ts';
import { pace } from './lib/pacer.ts';
import { format, percentile, render } from './lib/report.ts';
import { Cleanup, logLine, runScript } from './lib/script.ts';
import { SOCKET_PATH } from './lib/targets.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** After the expected frames: how long to keep listening for late duplicates. */
const QUIET_MS = 300;
const OPEN_CONCURRENCY = 10;
/** The defaults phase 2 runs with (src/config/schema.ts), printed with the results. */
const BUFFER_DEFAULTS = { delayDuration: 1000, maxDelayDuration: 3000, timerFrequency: 500 };

const cleanup = new Cleanup();
/** Frames of an unexpected size, or whose tag names no run, over both phases. */
let foreignFrames = 0;

/** One cluster session of a phase: the pair, every user logged in on A with a socket on B. */
interface Setup {
  pair: NodePair;
  users: readonly BenchUser[];
  fleet: ClientFleet;
  router: FrameRouter;
  options: CrossOptions;
}

interface LatencyRow {
  run: string;
  /** Paced runs: the offered rate, messages/s. */
  offered?: number;
  messages: number;
  inflight: number;
  sorted: Float64Array;
  answers: Float64Array;
  perSecond: number;
  publishes: number;
  duplicates: number;
  missing: number;
  misrouted: number;
}

interface BurstRow {
  burst: string;
  users: number;
  pushes: number;
  pushMs: number;
  publishes: number;
  sent: number;
  coalesced: number;
  totalMs: number;
  check: BurstCheck;
}

/** Starts a pair, logs every user in on A, waits for the sessions on B, opens one socket per user on B. */
async function setUp(label: string, options: CrossOptions, directoryFile: string, users: readonly BenchUser[], flagsA: string[], broker?: ExternalBroker): Promise<Setup> {
  const log = (line: string) => logLine(`${label}: ${line}`);
  const pair = await NodePair.start({
    repoRoot: REPO_ROOT,
    directoryFile,
    flagsA,
    broker,
    maxSockets: Math.max(options.inflight, options.loginConcurrency, options.pacedInflight),
    log,
    onCleanup: (step) => cleanup.add(step),
  });
  log(`A and B see each other (broker: ${pair.brokerWhere})`);

  try {
    const logins = await logInUsers(pair.a.http, users, options.loginConcurrency, (done) => log(`logged in on A ${done}/${users.length}`));
    await runPool(logins.length, OPEN_CONCURRENCY, (u) => pair.sessionKnown(pair.b, logins[u]));
    log(`all ${logins.length} sessions replicated to B`);

    const fleet = new ClientFleet(users.length, options.payload);
    cleanup.add(() => fleet.close());
    const router = new FrameRouter();
    fleet.onFrame = (index, data, at) => router.frame(index, data, at);
    const wsBase = pair.b.child.baseUrl.replace(/^http/, 'ws') + SOCKET_PATH;
    await runPool(users.length, OPEN_CONCURRENCY, (u) => fleet.open(u, `${wsBase}?session=${encodeURIComponent(logins[u].session)}`, logins[u].cookie));
    log(`${users.length} sockets open on B`);
    await pair.until(`A to see the ${users.length} sockets on B`, async () => (await pair.stats(pair.a)).sockets.cluster === users.length);
    log(`A sees the ${users.length} sockets on B`);
    return { pair, users, fleet, router, options };
  } catch (error) {
    throw await pair.explain(error);
  }
}

async function tearDown({ pair, fleet, router }: Setup): Promise<void> {
  foreignFrames += fleet.foreign + router.unknown;
  await fleet.close();
  await pair.stop();
}

// ---- phase 1: latency and throughput, nothing buffered -------------------------------

/** Pushes `total` messages (message i to user i mod K), `inflight` at a time; 1 means one at a time, each waiting for its frame. */
async function latencyRun(setup: Setup, tag: string, total: number, inflight: number, log: (line: string) => void): Promise<LatencyRow> {
  const { pair, users, fleet, router, options } = setup;
  const run = new LatencyRun(tag, total, (seq) => seq % users.length);
  router.add(tag, run);
  const [before, beforeB] = await Promise.all([pair.stats(pair.a), pair.stats(pair.b)]);
  const framesBefore = fleet.total;
  fleet.expect(framesBefore + total);
  // Where the messages are: answered by A, published by A, delivered by B, received here (a lag shows the backlog's place).
  const progress = progressEvery(total, 4, (done) => {
    const received = run.received;
    void Promise.all([pair.stats(pair.a), pair.stats(pair.b)]).then(
      ([a, b]) =>
        log(
          `${tag}: ${done}/${total} pushes answered, ${a.counters.remote.publishes - before.counters.remote.publishes} published by A, ` +
            `${b.counters.messages.delivered - beforeB.counters.messages.delivered} written by B, ${received} frames received`,
        ),
      () => undefined,
    );
  });
  let answered = 0;
  const badAnswers: string[] = [];
  const start = performance.now();
  await runPool(total, inflight, async (seq) => {
    const u = seq % users.length;
    const sentAt = performance.now();
    const arrived = inflight === 1 ? run.arrival(seq) : undefined;
    const answer = await pair.push(pair.a, { contextId: CONTEXT_ID, userId: users[u].id, message: run.message(seq, sentAt, options.payload) });
    run.answered(seq, sentAt, performance.now());
    if ((answer.local !== 0 || answer.remote !== 1) && badAnswers.length < 3) badAnswers.push(`push ${seq}: ${JSON.stringify(answer)}`);
    if (arrived) await withTimeout(arrived, options.timeout * 1000, () => `message ${seq} did not arrive on B within ${options.timeout} s`);
    progress(++answered);
    if (fleet.error) throw fleet.error;
  });
  await fleet.waitForFrames(options.timeout * 1000, () => `run ${tag}: ${run.missing()} messages missing`);
  await sleep(QUIET_MS);
  const after = await pair.stats(pair.a);
  if (badAnswers.length) throw new Error(`run ${tag}: A answered pushes with other than {local: 0, remote: 1}: ${badAnswers.join('; ')}`);
  const elapsed = run.lastArrival - start;
  log(`${tag}: ${run.received}/${total} messages on B in ${elapsed.toFixed(0)} ms`);
  return {
    run: tag,
    messages: total,
    inflight,
    sorted: run.sorted(),
    answers: run.sortedAnswers(),
    perSecond: run.received / (elapsed / 1000),
    publishes: after.counters.remote.publishes - before.counters.remote.publishes,
    duplicates: run.duplicates,
    missing: run.missing(),
    misrouted: run.misrouted,
  };
}

/**
 * Offers `rate` pushes/s for `options.rateSeconds` (message i to user i mod K): push i
 * is due at start + i / rate, and goes out then if fewer than `pacedInflight` are in
 * flight, else as soon as one answers. Latency is counted from the due time, so a
 * node that cannot keep up shows it in the percentiles instead of slowing the offer.
 */
async function pacedRun(setup: Setup, tag: string, rate: number, log: (line: string) => void): Promise<LatencyRow> {
  const { pair, users, fleet, router, options } = setup;
  const total = rate * options.rateSeconds;
  const run = new LatencyRun(tag, total, (seq) => seq % users.length);
  router.add(tag, run);
  const before = await pair.stats(pair.a);
  fleet.expect(fleet.total + total);
  let badAnswer: string | undefined;
  const { start, late } = await pace({
    total,
    rate,
    inflight: options.pacedInflight,
    send: (seq, due) =>
      pair.push(pair.a, { contextId: CONTEXT_ID, userId: users[seq % users.length].id, message: run.message(seq, due, options.payload) }).then((answer) => {
        run.answered(seq, due, performance.now());
        if ((answer.local !== 0 || answer.remote !== 1) && !badAnswer) badAnswer = `push ${seq}: ${JSON.stringify(answer)}`;
      }),
  });
  const sentFor = performance.now() - start;
  log(`${tag}: ${total} pushes offered at ${rate}/s answered in ${sentFor.toFixed(0)} ms (${late} went out more than 1 ms late)`);
  await fleet.waitForFrames(options.timeout * 1000, () => `run ${tag}: ${run.missing()} messages missing`);
  await sleep(QUIET_MS);
  const after = await pair.stats(pair.a);
  if (badAnswer) throw new Error(`run ${tag}: A answered a push with other than {local: 0, remote: 1}: ${badAnswer}`);
  return {
    run: tag,
    offered: rate,
    messages: total,
    inflight: options.pacedInflight,
    sorted: run.sorted(),
    answers: run.sortedAnswers(),
    perSecond: run.received / ((run.lastArrival - start) / 1000),
    publishes: after.counters.remote.publishes - before.counters.remote.publishes,
    duplicates: run.duplicates,
    missing: run.missing(),
    misrouted: run.misrouted,
  };
}

async function phase1(options: CrossOptions, directoryFile: string, users: readonly BenchUser[], broker?: ExternalBroker): Promise<LatencyRow[]> {
  const log = (line: string) => logLine(`phase 1: ${line}`);
  const setup = await setUp('phase 1', options, directoryFile, users, ['--websockets.remote.delayDuration', '0'], broker);
  try {
    if (options.warmup > 0) {
      log(`warm-up: ${options.warmup} messages, ${options.inflight} in flight (not reported)`);
      await latencyRun(setup, 'warmup', options.warmup, options.inflight, () => {});
    }
    log(`sequential: ${options.sequential} messages, each waits for its frame`);
    const sequential = await latencyRun(setup, 'sequential', options.sequential, 1, log);
    log(`loaded: ${options.messages} messages, ${options.inflight} in flight`);
    const loaded = await latencyRun(setup, 'loaded', options.messages, options.inflight, log);
    const paced: LatencyRow[] = [];
    for (const rate of options.rates) {
      log(`paced: ${rate} messages/s for ${options.rateSeconds} s, at most ${options.pacedInflight} in flight`);
      paced.push(await pacedRun(setup, `paced-${rate}`, rate, log));
    }
    return [sequential, loaded, ...paced];
  } catch (error) {
    throw await setup.pair.explain(error);
  } finally {
    await tearDown(setup);
  }
}

// ---- phase 2: coalescing with the default buffer settings ------------------------------

/**
 * Pushes `options.burst` messages: message i to user `i mod U` (U = `burstUsers`)
 * with distinct string `floor(i / U) mod floor(D / U)`, all with the same path
 * filter, F in flight; then waits until A's buffer is empty and B delivered all A sent.
 */
async function burst(setup: Setup, tag: string, burstUsers: number, log: (line: string) => void): Promise<BurstRow> {
  const { pair, users, fleet, router, options } = setup;
  const run = new BurstRun(tag);
  router.add(tag, run);
  const perUser = Math.floor(options.distinct / burstUsers);
  const [a0, b0] = await Promise.all([pair.stats(pair.a), pair.stats(pair.b)]);

  await runPool(options.burst, options.inflight, async (i) => {
    const socket = i % burstUsers;
    const k = Math.floor(i / burstUsers) % perUser;
    const sentAt = performance.now();
    const answer = await pair.push(pair.a, { contextId: CONTEXT_ID, userId: users[socket].id, message: run.message(k, options.payload), pathFilter: SOCKET_PATH });
    if (answer.remote !== 1) throw new Error(`burst ${tag}: push ${i} answered ${JSON.stringify(answer)}, not queued for B`);
    run.pushed({ socket, k, sentAt, answeredAt: performance.now() });
    if (fleet.error) throw fleet.error;
  });
  const pushMs = run.pushes.reduce((last, p) => Math.max(last, p.answeredAt), 0) - run.firstSentAt;
  log(`${tag}: ${options.burst} pushes answered in ${pushMs.toFixed(0)} ms; waiting for A's buffer to flush`);

  // Flushed when A's buffer is empty and B received every payload A sent; then the frames reach the sockets.
  const limit = BUFFER_DEFAULTS.maxDelayDuration + BUFFER_DEFAULTS.timerFrequency + options.timeout * 1000;
  let a1: AdminStats = a0;
  let b1: AdminStats = b0;
  await pair.until(`A to flush burst ${tag} and B to receive it`, async () => {
    [a1, b1] = await Promise.all([pair.stats(pair.a), pair.stats(pair.b)]);
    const sent = a1.counters.remote.sent - a0.counters.remote.sent;
    // With cluster.fastPath (NATS) each payload comes twice; B drops the second copy as a duplicate.
    const duplicates = (b1.counters.messages.dropped.duplicate ?? 0) - (b0.counters.messages.dropped.duplicate ?? 0);
    return a1.bufferedMessages === 0 && sent > 0 && b1.counters.remote.received - b0.counters.remote.received - duplicates === sent;
  }, limit);
  const delivered = () => b1.counters.messages.delivered - b0.counters.messages.delivered;
  await pair.until(() => `the ${delivered()} frames B wrote to reach the sockets (${run.frames} so far)`, async () => run.frames >= delivered());
  await sleep(QUIET_MS);
  if (fleet.error) throw fleet.error;
  const row: BurstRow = {
    burst: tag,
    users: burstUsers,
    pushes: options.burst,
    pushMs,
    publishes: a1.counters.remote.publishes - a0.counters.remote.publishes,
    sent: a1.counters.remote.sent - a0.counters.remote.sent,
    coalesced: (a1.counters.messages.dropped.coalesced ?? 0) - (a0.counters.messages.dropped.coalesced ?? 0),
    totalMs: run.lastFrameAt - run.firstSentAt,
    check: run.check(),
  };
  log(`${tag}: ${row.publishes} broker publish(es), ${row.check.frames} frames on B (expected ${row.check.expected}), last frame ${row.totalMs.toFixed(0)} ms after the first push`);
  return row;
}

async function phase2(options: CrossOptions, directoryFile: string, users: readonly BenchUser[], broker?: ExternalBroker): Promise<BurstRow[]> {
  const log = (line: string) => logLine(`phase 2: ${line}`);
  const setup = await setUp('phase 2', options, directoryFile, users, [], broker);
  try {
    log(`burst of ${options.burst} messages for one user, ${options.distinct} distinct, ${options.inflight} in flight`);
    const one = await burst(setup, 'one-user', 1, log);
    log(`burst of ${options.burst} messages over ${options.burstUsers} users, ${Math.floor(options.distinct / options.burstUsers)} distinct each`);
    const spread = await burst(setup, 'spread', options.burstUsers, log);
    return [one, spread];
  } catch (error) {
    throw await setup.pair.explain(error);
  } finally {
    await tearDown(setup);
  }
}

// ---- report -------------------------------------------------------------------------------

function latencyTable(rows: LatencyRow[]): string {
  const ms = (row: LatencyRow, p: number) => format(percentile(row.sorted, p), 2);
  return render([
    ['run', 'offered/s', 'messages', 'in flight', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'messages/s', 'push answer p50 ms', 'publishes on A', 'duplicates', 'missing', 'misrouted'],
    ...rows.map((r) => [
      r.run,
      r.offered === undefined ? '-' : String(r.offered),
      String(r.messages),
      String(r.inflight),
      ms(r, 50),
      ms(r, 90),
      ms(r, 99),
      ms(r, 100),
      format(r.perSecond, 0),
      format(percentile(r.answers, 50), 2),
      String(r.publishes),
      String(r.duplicates),
      String(r.missing),
      String(r.misrouted),
    ]),
  ]);
}

function burstTable(rows: BurstRow[]): string {
  const order = (c: BurstCheck) => (c.orderViolations ? `NO (${c.orderViolations} inversions)` : c.reordered ? `kept (${c.reordered} reordered among concurrent pushes)` : 'kept');
  return render([
    ['burst', 'users', 'pushes', 'pushes ms', 'publishes on A', 'payloads sent', 'coalesced', 'frames on B', 'expected', 'dup/missing', 'first push -> last frame ms', 'order'],
    ...rows.map((r) => [
      r.burst,
      String(r.users),
      String(r.pushes),
      format(r.pushMs, 0),
      String(r.publishes),
      String(r.sent),
      String(r.coalesced),
      String(r.check.frames),
      String(r.check.expected),
      `${r.check.duplicates}/${r.check.missing}`,
      format(r.totalMs, 0),
      order(r.check),
    ]),
  ]);
}

/** What the results must show; each problem is a line of the failure message. */
function problems(latency: LatencyRow[], bursts: BurstRow[], foreign: number): string[] {
  const found: string[] = [];
  for (const r of latency) {
    if (r.duplicates || r.missing || r.misrouted) found.push(`${r.run}: ${r.duplicates} duplicates, ${r.missing} missing, ${r.misrouted} misrouted`);
    if (r.publishes !== r.messages) found.push(`${r.run}: ${r.publishes} publishes on A for ${r.messages} messages with delayDuration 0 (expected one each)`);
  }
  for (const r of bursts) {
    const c = r.check;
    // Several flushes (a burst longer than maxDelayDuration) each coalesce only their own entry: repeats are then right.
    const duplicates = r.publishes > 1 ? 0 : c.duplicates;
    if (duplicates || c.missing || c.foreign) found.push(`burst ${r.burst}: ${c.duplicates} duplicate, ${c.missing} missing, ${c.foreign} foreign frames`);
    if (c.orderViolations) found.push(`burst ${r.burst}: arrival order not kept (${c.orderViolations} inversions)`);
    if (c.frames !== r.sent) found.push(`burst ${r.burst}: A sent ${r.sent} payloads, B's socket(s) got ${c.frames} frames`);
  }
  if (foreign) found.push(`${foreign} frames of an unexpected size or tag`);
  return found;
}

async function main(argv: string[]): Promise<number> {
  const options = optionsOrStatus(argv, parseCrossOptions, USAGE);
  if (typeof options === 'number') return options;
  const { users: k, messages: m, burst: b, distinct: d, burstUsers: u } = options;
  console.log(`cross-node bench: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), nodes A and B on ${options.brokers.join(', ')}`);
  console.log(
    `K=${k} users (1 socket each on B), phase 1: ${options.warmup} warm-up, ${options.sequential} sequential, M=${m} with F=${options.inflight} in flight, paced at ${options.rates.join(', ')}/s for ${options.rateSeconds} s, ${options.payload} B each; ` +
      `phase 2: B=${b} pushes, D=${d} distinct, U=${u} users`,
  );
  const [load] = os.loadavg();
  if (load > 0.5) console.log(`note: load average ${load.toFixed(2)} on ${os.cpus().length} CPUs before the start: other processes compete for the cores; expect noise`);

  buildWsmesh(REPO_ROOT, logLine);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wsmesh-bench-'));
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  logLine(`directory: ${k} users in ${dir}`);
  const users = benchUsers(k);
  const directoryFile = await writeDirectory(dir, users);

  const results: Array<{ broker: BenchBroker; latency: LatencyRow[]; bursts: BurstRow[] }> = [];
  for (const kind of options.brokers) {
    logLine(`broker ${kind}: starting`);
    const broker = await startBenchBroker(kind, (line) => logLine(`broker ${kind}: ${line}`));
    cleanup.add(() => broker.stop());
    try {
      const latency = await phase1(options, directoryFile, users, broker.external);
      const bursts = await phase2(options, directoryFile, users, broker.external);
      results.push({ broker: kind, latency, bursts });
    } finally {
      await broker.stop();
    }
  }

  console.log('');
  console.log(`node ${process.version}, ${os.cpus().length} CPUs; K=${k}, M=${m}, F=${options.inflight}, payload ${options.payload} B; B=${b}, D=${d}, U=${u}`);
  for (const { broker, latency, bursts } of results) {
    console.log(`\n== broker: ${broker}`);
    console.log('phase 1: push on A -> frame on B, websockets.remote.delayDuration 0 on A (one broker publish per message)');
    console.log(latencyTable(latency));
    console.log(`phase 2: coalescing, default buffering (delayDuration ${BUFFER_DEFAULTS.delayDuration}, maxDelayDuration ${BUFFER_DEFAULTS.maxDelayDuration}, timerFrequency ${BUFFER_DEFAULTS.timerFrequency} ms)`);
    console.log(burstTable(bursts));
  }
  console.log('\nsummary: push on A -> frame on B (paced runs: latency from the moment each push was due)');
  console.log(
    render([
      ['broker', 'run', 'offered/s', 'delivered/s', 'p50 ms', 'p99 ms', 'max ms'],
      ...results.flatMap(({ broker, latency }) =>
        latency.map((r) => [broker, r.run, r.offered === undefined ? '-' : String(r.offered), format(r.perSecond, 0), format(percentile(r.sorted, 50), 2), format(percentile(r.sorted, 99), 2), format(percentile(r.sorted, 100), 2)]),
      ),
    ]),
  );
  console.log(
    `\nphase 2 expected: 1 publish per coalesced entry (one per user; a few if the burst outlasts a tick boundary or maxDelayDuration), frames = distinct strings per user (${d} in all), ` +
      `last frame ~ burst + ${BUFFER_DEFAULTS.delayDuration} ms (+ up to ${BUFFER_DEFAULTS.timerFrequency} ms tick).`,
  );
  console.log(`order "kept": no string arrived ahead of one whose push was answered before the other's was sent (pushes in flight together may land either way).`);
  const found = results.flatMap(({ broker, latency, bursts }) => problems(latency, bursts, 0).map((p) => `${broker}: ${p}`));
  if (foreignFrames) found.push(`${foreignFrames} frames of an unexpected size or tag`);
  if (found.length) throw new Error(`the results show ${found.length} problem(s):\n  ${found.join('\n  ')}`);
  return 0;
}

function withTimeout(promise: Promise<void>, ms: number, message: () => string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((_, reject) => (timer = setTimeout(() => reject(new Error(message())), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

await runScript(cleanup, () => main(process.argv.slice(2)));
