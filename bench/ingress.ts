/**
 * MQTT ingress benchmark: simulated devices publish to users' ingress topics
 * (`<cluster.name>/ingress/1/<user>`) and every user has one socket on each of two
 * wsmesh nodes (child processes); the baseline, in the same run, sends the same
 * messages through `POST /api/push`. On each broker in turn: the embedded one
 * (hosted by A), Mosquitto, and optionally a 3-server NATS cluster.
 *
 *   npm run bench:ingress -- [--quick] [--brokers embedded,mosquitto] [--rates 1000,5000] ...
 *
 * Devices are mqtt.js clients in this process, each with its own client id, all on
 * one device account: `device-1`, the one the shipped Mosquitto ACL example and NATS
 * accounts.conf define (the embedded broker gets it from an accounts file the bench
 * writes, for context 1 and all its users). HTTP pushes of device d go to A when d
 * is even, to B when odd. Both nodes run with websockets.remote.delayDuration 0: a
 * push's frame for the other node is published at once, not held for coalescing.
 *
 * Paced runs: each rate for a few seconds, latency from the moment each message was
 * due to its frame. All-out run: each device sends N messages, each after the
 * previous one was acknowledged (PUBACK; the push's 202): messages/s. Each step runs
 * both paths, the order alternating from step to step. Every message must arrive
 * exactly once on each of its user's sockets; lost, duplicated and reordered frames
 * are counted.
 *
 * The clients run in this process, and compete with the nodes for the cores.
 * Exit status 0 on success, 1 with a message on failure or interruption.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { hashPassword } from '../src/directory/password.ts';
import { BENCH_DEVICE, startBenchBroker, type StartedBroker } from './lib/brokers.ts';
import { buildWsmesh } from './lib/build.ts';
import type { BenchBroker } from './lib/cross-options.ts';
import { HttpPushes, MqttDevices, type Sender } from './lib/devices.ts';
import { benchUsers, CONTEXT_ID, writeDirectory, type BenchUser } from './lib/directory.ts';
import { ClientFleet } from './lib/fleet.ts';
import { optionsOrStatus } from './lib/flags.ts';
import { pace } from './lib/pacer.ts';
import { FrameRouter } from './lib/frame-runs.ts';
import { IngressPlan, IngressRun } from './lib/ingress-frames.ts';
import { parseIngressOptions, USAGE, type IngressOptions } from './lib/ingress-options.ts';
import { cpuTable, latencyTable, problems, summaryTable, type RunRow } from './lib/ingress-report.ts';
import { logInUsers } from './lib/load.ts';
import { NodePair, type AdminStats } from './lib/node-pair.ts';
import { progressEvery, runPool, sleep } from './lib/pool.ts';
import { Cleanup, logLine, runScript } from './lib/script.ts';
import { SOCKET_PATH } from './lib/targets.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** After a run's expected frames: how long to keep listening for late duplicates. */
const QUIET_MS = 300;
const OPEN_CONCURRENCY = 10;
const POLL_MS = 20;

const cleanup = new Cleanup();

/** One broker's cluster: the pair, K users with a socket on A (index u) and one on B (K+u), D devices. */
interface Setup {
  broker: BenchBroker;
  started: StartedBroker;
  pair: NodePair;
  users: readonly BenchUser[];
  fleet: ClientFleet;
  router: FrameRouter;
  plan: IngressPlan;
  senders: { http: HttpPushes; mqtt: MqttDevices };
  options: IngressOptions;
  log: (line: string) => void;
}

async function setUp(broker: BenchBroker, started: StartedBroker, options: IngressOptions, directoryFile: string, accountsFile: string, users: readonly BenchUser[]): Promise<Setup> {
  const log = (line: string) => logLine(`${broker}: ${line}`);
  const flags = ['--websockets.remote.delayDuration', '0', '--mqtt.accountsFile', accountsFile];
  const pair = await NodePair.start({
    repoRoot: REPO_ROOT,
    directoryFile,
    flagsA: flags,
    flagsB: flags,
    broker: started.external,
    maxSockets: Math.max(options.pacedInflight, options.devices, options.loginConcurrency),
    log,
    onCleanup: (step) => cleanup.add(step),
  });
  log(`A and B see each other (broker: ${pair.brokerWhere})`);
  try {
    const logins = await logInUsers(pair.a.http, users, options.loginConcurrency, (done) => log(`logged in on A ${done}/${users.length}`));
    await runPool(logins.length, OPEN_CONCURRENCY, (u) => pair.sessionKnown(pair.b, logins[u]));
    log(`all ${logins.length} sessions replicated to B`);

    const k = users.length;
    const fleet = new ClientFleet(k * 2, options.payload);
    cleanup.add(() => fleet.close());
    const router = new FrameRouter();
    fleet.onFrame = (index, data, at) => router.frame(index, data, at);
    for (const [offset, node] of [[0, pair.a], [k, pair.b]] as const) {
      const wsBase = node.child.baseUrl.replace(/^http/, 'ws') + SOCKET_PATH;
      await runPool(k, OPEN_CONCURRENCY, (u) => fleet.open(offset + u, `${wsBase}?session=${encodeURIComponent(logins[u].session)}`, logins[u].cookie));
      log(`${k} sockets open on ${node.name}`);
    }
    let seen = '';
    await pair.until(
      () => `A and B to see the ${2 * k} sockets (they see ${seen})`,
      async () => {
        const counts = [(await pair.stats(pair.a)).sockets.cluster, (await pair.stats(pair.b)).sockets.cluster];
        seen = counts.join(' and ');
        return counts.every((n) => n === 2 * k);
      },
      // On NATS the registry records of sockets opened while JetStream consumers were being created come late.
      broker === 'nats' ? 60_000 : undefined,
    );
    log(`A and B see the ${2 * k} sockets`);

    const urls = started.deviceUrls ?? [pair.embeddedBrokerUrl!];
    log(`connecting ${options.devices} devices as ${BENCH_DEVICE.username} to ${urls.join(', ')}`);
    const mqtt = await MqttDevices.connect({ urls, count: options.devices, ...BENCH_DEVICE, topicPrefix: `${pair.clusterName}/ingress/${CONTEXT_ID}/`, log });
    cleanup.add(() => mqtt.close());
    const plan = new IngressPlan(k, options.devices, options.usersPerDevice);
    return { broker, started, pair, users, fleet, router, plan, senders: { http: new HttpPushes(pair), mqtt }, options, log };
  } catch (error) {
    throw await pair.explain(error);
  }
}

async function tearDown(setup: Setup): Promise<number> {
  await setup.senders.mqtt.close();
  await setup.fleet.close();
  await setup.pair.stop();
  return setup.fleet.foreign + setup.router.unknown;
}

// ---- one run, measured ---------------------------------------------------------------

interface Drive {
  run: string;
  offered?: number;
  qos?: 0 | 1;
  total: number;
  /** Sends every message of `run`; resolves once every send was acknowledged. Returns the paced run's late sends. */
  send(run: IngressRun, sender: Sender): Promise<number | undefined>;
}

/** Runs `drive` through `sender`, waits for its frames, and reads what it cost from the nodes' counters and /proc. */
async function measure(setup: Setup, sender: Sender, drive: Drive): Promise<RunRow> {
  const { pair, fleet, router, plan, started, options, log } = setup;
  const tag = `${sender.path}-${drive.run}${drive.offered === undefined ? '' : `-${drive.offered}`}`;
  const run = new IngressRun(tag, drive.total, plan);
  router.add(tag, run);
  const before = await Promise.all([pair.stats(pair.a), pair.stats(pair.b)]);
  const cpu0 = { a: pair.a.child.cpuMs(), b: pair.b.child.cpuMs(), broker: started.cpuMs(), bench: process.cpuUsage() };
  const start = performance.now();
  const late = await drive.send(run, sender);
  const deadline = performance.now() + options.timeout * 1000;
  while (run.frames < run.expected) {
    if (fleet.error) throw fleet.error;
    if (sender.error) throw sender.error;
    if (performance.now() > deadline) {
      log(`${tag}: ${run.missing} of ${run.expected} frames still missing ${options.timeout} s after the last send was acknowledged; counted as lost`);
      break;
    }
    await sleep(POLL_MS);
  }
  const wallMs = performance.now() - start;
  const cpu1 = { a: pair.a.child.cpuMs(), b: pair.b.child.cpuMs(), broker: started.cpuMs(), bench: process.cpuUsage(cpu0.bench) };
  await sleep(QUIET_MS);
  const after = await Promise.all([pair.stats(pair.a), pair.stats(pair.b)]);
  const diff = (x?: number, y?: number) => (x === undefined || y === undefined ? undefined : y - x);
  const row: RunRow = {
    broker: setup.broker,
    path: sender.path,
    run: drive.run,
    offered: drive.offered,
    qos: sender.path === 'mqtt' ? drive.qos : undefined,
    messages: drive.total,
    perSecond: run.frames / 2 / ((run.lastArrival - start) / 1000),
    all: run.sorted(),
    onA: run.sorted('A'),
    onB: run.sorted('B'),
    acks: run.sortedAcks(),
    frames: run.frames,
    missing: run.missing,
    duplicates: run.duplicates,
    misrouted: run.misrouted,
    reordered: run.reordered,
    late,
    wallMs,
    cpu: { a: diff(cpu0.a, cpu1.a), b: diff(cpu0.b, cpu1.b), broker: diff(cpu0.broker, cpu1.broker), bench: (cpu1.bench.user + cpu1.bench.system) / 1000 },
    problems: counterProblems(sender, drive.total, before, after),
  };
  log(`${tag}: ${run.frames}/${run.expected} frames in ${wallMs.toFixed(0)} ms, ${row.perSecond.toFixed(0)} msgs/s${late === undefined ? '' : `, ${late} sends more than 1 ms late`}${row.problems.length ? `; ${row.problems.join('; ')}` : ''}`);
  return row;
}

/** What the nodes counted of the run, against what it sent: each ingress message received once by each node, nothing dropped; each push one broker publish. */
function counterProblems(sender: Sender, total: number, before: AdminStats[], after: AdminStats[]): string[] {
  const found: string[] = [];
  const names = ['A', 'B'];
  if (sender instanceof HttpPushes) {
    if (sender.badAnswer) found.push(sender.badAnswer);
    sender.badAnswer = undefined;
    const publishes = after.reduce((sum, s, i) => sum + s.counters.remote.publishes - before[i].counters.remote.publishes, 0);
    if (publishes !== total) found.push(`${publishes} broker publishes by A and B for ${total} pushes (expected one each, delayDuration 0)`);
    return found;
  }
  after.forEach((s, i) => {
    const now = s.counters.ingress;
    const then = before[i].counters.ingress;
    if (!now || !then) return void found.push(`node ${names[i]} has no ingress counters (a wsmesh without MQTT ingress?)`);
    const received = now.received - then.received;
    if (received !== total) found.push(`node ${names[i]} received ${received} ingress messages of ${total}`);
    for (const [reason, count] of Object.entries(now.dropped)) {
      const dropped = count - (then.dropped[reason] ?? 0);
      if (dropped) found.push(`node ${names[i]} dropped ${dropped} as ${reason}`);
    }
    for (const [action, count] of Object.entries(s.counters.brokerRefused ?? {})) {
      const refused = count - (before[i].counters.brokerRefused?.[action] ?? 0);
      if (refused) found.push(`the broker in ${names[i]} refused ${refused} ${action}(s)`);
    }
  });
  return found;
}

// ---- what is sent ------------------------------------------------------------------------

/**
 * Offers `rate` messages/s for `options.rateSeconds`: message i is due at start + i / rate,
 * and goes out then if fewer than `pacedInflight` sends are unacknowledged, else as soon
 * as one is. Latency counts from the due time, so a path that cannot keep up shows it
 * in the percentiles instead of slowing the offer.
 */
function paced(setup: Setup, rate: number): Drive {
  const { users, plan, options, log } = setup;
  const total = rate * options.rateSeconds;
  const qos = options.pacedQos as 0 | 1;
  return {
    run: 'paced',
    offered: rate,
    qos,
    total,
    send: (run, sender) => {
      const progress = progressEvery(total, 4, (done) => log(`${run.tag}: ${done}/${total} sent, ${run.frames}/${run.expected} frames`));
      let acknowledged = 0;
      return pace({
        total,
        rate,
        inflight: options.pacedInflight,
        send: (seq, due) =>
          sender.send(plan.deviceOf(seq), users[plan.userOf(seq)].id, run.message(seq, due, options.payload), qos).then(() => {
            run.acknowledged(seq, due, performance.now());
            progress(++acknowledged);
          }),
      }).then(({ late }) => late);
    },
  };
}

/** Each device sends `perDevice` messages (QoS 1), each once the previous one was acknowledged. */
function allOut(setup: Setup, run: string, perDevice: number): Drive {
  const { users, plan, options, log } = setup;
  const total = perDevice * options.devices;
  return {
    run,
    qos: 1,
    total,
    send: async (ingress, sender) => {
      let done = 0;
      const progress = progressEvery(total, 4, (n) => log(`${ingress.tag}: ${n}/${total} acknowledged, ${ingress.frames}/${ingress.expected} frames`));
      await runPool(options.devices, options.devices, async (device) => {
        for (let k = 0; k < perDevice; k++) {
          const seq = plan.seqOf(device, k);
          const sentAt = performance.now();
          await sender.send(device, users[plan.userOf(seq)].id, ingress.message(seq, sentAt, options.payload), 1);
          ingress.acknowledged(seq, sentAt, performance.now());
          progress(++done);
        }
      });
      return undefined;
    },
  };
}

async function runBroker(setup: Setup): Promise<{ rows: RunRow[]; warmup: RunRow[] }> {
  const { options, senders, log } = setup;
  const warmup: RunRow[] = [];
  if (options.warmup > 0) {
    const perDevice = Math.ceil(options.warmup / options.devices);
    log(`warm-up: ${perDevice * options.devices} messages through each path (not reported)`);
    for (const sender of [senders.http, senders.mqtt]) warmup.push(await measure(setup, sender, allOut(setup, 'warmup', perDevice)));
  }
  const steps = [...options.rates.map((rate) => paced(setup, rate)), allOut(setup, 'all-out', options.messages)];
  const rows: RunRow[] = [];
  for (const [i, drive] of steps.entries()) {
    // Alternating which path goes first, so a machine that slows down over the run does not favour one.
    const order = i % 2 === 0 ? [senders.http, senders.mqtt] : [senders.mqtt, senders.http];
    const what = drive.offered === undefined ? `${options.messages} per device, each after the previous one's ack` : `${drive.offered}/s for ${options.rateSeconds} s, QoS ${drive.qos}`;
    for (const sender of order) {
      log(`${sender.path} ${drive.run}: ${drive.total} messages, ${what}`);
      rows.push(await measure(setup, sender, drive));
    }
  }
  return { rows, warmup };
}

// ---- main ------------------------------------------------------------------------------------

async function main(argv: string[]): Promise<number> {
  const options = optionsOrStatus(argv, parseIngressOptions, USAGE);
  if (typeof options === 'number') return options;
  const { users: k, devices: d, usersPerDevice: u } = options;
  const cpus = os.cpus();
  const header =
    `ingress bench: node ${process.version}, ${cpus.length} CPUs (${cpus[0]?.model ?? 'unknown'}), nodes A and B on ${options.brokers.join(', ')}; ` +
    `K=${k} users (a socket on A and one on B each), D=${d} devices on the shared account ${BENCH_DEVICE.username}, U=${u} users per device; ` +
    `paced at ${options.rates.join(', ')}/s for ${options.rateSeconds} s (QoS ${options.pacedQos}, at most ${options.pacedInflight} in flight), all-out N=${options.messages} per device (QoS 1); ${options.payload} B`;
  console.log(header);
  const [load] = os.loadavg();
  if (load > 0.5) console.log(`note: load average ${load.toFixed(2)} on ${cpus.length} CPUs before the start: other processes compete for the cores; expect noise`);

  buildWsmesh(REPO_ROOT, logLine);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wsmesh-bench-'));
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  const users = benchUsers(k);
  const directoryFile = await writeDirectory(dir, users);
  // The embedded broker's device account (Mosquitto's and NATS's come with their example configs): context 1, all its users.
  const accountsFile = path.join(dir, 'accounts.json');
  const device = { id: BENCH_DEVICE.username, kind: 'device', password: await hashPassword(BENCH_DEVICE.password), context: CONTEXT_ID, users: '*' };
  await writeFile(accountsFile, JSON.stringify({ accounts: [device] }, null, 1));
  logLine(`directory: ${k} users, accounts file: ${BENCH_DEVICE.username}, in ${dir}`);

  const rows: RunRow[] = [];
  const warmups: RunRow[] = [];
  let foreign = 0;
  for (const kind of options.brokers) {
    logLine(`broker ${kind}: starting`);
    const started = await startBenchBroker(kind, (line) => logLine(`broker ${kind}: ${line}`));
    cleanup.add(() => started.stop());
    try {
      const setup = await setUp(kind, started, options, directoryFile, accountsFile, users);
      try {
        const result = await runBroker(setup);
        rows.push(...result.rows);
        warmups.push(...result.warmup);
      } catch (error) {
        throw await setup.pair.explain(error);
      } finally {
        foreign += await tearDown(setup);
      }
    } finally {
      await started.stop();
    }
  }

  console.log(`\n${header}`);
  for (const kind of options.brokers) {
    const mine = rows.filter((r) => r.broker === kind);
    console.log(`\n== broker: ${kind}`);
    console.log('latency from the moment a message was due (paced) or sent (all-out) to its frame, over both sockets of its user; ack: PUBACK, or the push\'s 202');
    console.log(latencyTable(mine));
    console.log(`CPU per message, from /proc (10 ms ticks)${kind === 'embedded' ? '; the broker runs in A' : kind === 'nats' ? '; the NATS servers\' own CPU not measured' : ''}`);
    console.log(cpuTable(mine));
  }
  console.log('\nsummary: MQTT ingress against HTTP push, the same messages (servers: A + B + the broker process where measured)');
  console.log(summaryTable(rows));
  console.log('reordered: frames that arrived after a later message of the same device on the same socket (the HTTP path promises no order between pushes in flight together).');

  const found = problems([...warmups.map((r) => ({ ...r, run: 'warm-up' })), ...rows]);
  if (foreign) found.push(`${foreign} frames of an unexpected size or tag`);
  if (found.length) throw new Error(`the results show ${found.length} problem(s):\n  ${found.join('\n  ')}`);
  return 0;
}

await runScript(cleanup, () => main(process.argv.slice(2)));
