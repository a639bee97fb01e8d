/**
 * History on the broker: what per-user message history kept as retained MQTT
 * messages costs the broker, per 10k users, against the same broker with no history.
 *
 *   npm run bench:history-cost -- [--quick] [--users U] [--entries 10,100] [--brokers embedded,mosquitto,nats] [--designs ring,blob]
 *
 * For each broker, each H and each design, on a FRESH broker (its baseline measured
 * first, with the bench's clients connected and nothing written):
 *  - ring: a node that accepted a push writes one retained QoS 1 message per pushed
 *    message to `wsmesh/internal/history/<ctx>/<user>/<nodeId>/<seq % size>`, sealed
 *    with the cluster key (`w1.<mac>.<json>`, src/cluster/envelope.ts);
 *  - blob: one retained message per (user, node), `.../<user>/<nodeId>`, holding the
 *    whole ring as a JSON array, rewritten on each push.
 * Phases: baseline probes and memory; fill (H entries for each of U users; user u is
 * written by publisher u % P, P connections, QoS 1, at most F in flight each; the blob
 * design writes each user's final ring once: its write cost is the steady phase);
 * memory (RSS of each broker process; the embedded broker's after a full GC through
 * its inspector) and disk (Mosquitto: its database after SIGUSR1, which makes it
 * save; NATS: the store dirs, and the $MQTT_rmsgs stream from the monitoring port);
 * reads (one reader, random users one at a time: subscribe QoS 0 to the user's
 * filter, on the SUBACK publish a marker (QoS 1) under the same filter, wait for it,
 * unsubscribe; every retained message before the marker is checked against the
 * cluster key and counted); probes after; steady-state pushes (random users, one more
 * entry each; the blob republishes its whole ring); a restart with the history in it.
 *
 * Every process it starts (the embedded broker as `wsmesh broker`, mosquitto, the
 * three nats-server) is stopped by pid at the end of its run and on failure or Ctrl-C.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { ClusterKey } from '../src/cluster/envelope.ts';
import { killAllBrokers, MOSQUITTO_NODE_ACCOUNTS, startMosquitto, type Supervisor } from '../spec/support/broker.ts';
import { startNatsCluster } from '../spec/support/nats.ts';
import { freePort } from './lib/children.ts';
import { optionsOrStatus } from './lib/flags.ts';
import { parseHistoryOptions, USAGE, type HistoryBroker, type HistoryDesign, type HistoryOptions } from './lib/history-options.ts';
import { liveMemory } from './lib/memory-probe.ts';
import { sleep } from './lib/pool.ts';
import { format, percentile, render } from './lib/report.ts';
import { Cleanup, logLine, runScript } from './lib/script.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLUSTER = 'wsmesh';
const CTX = '1';
const BASE = `${CLUSTER}/internal/history/${CTX}`;
const KEY = ClusterKey.from({ secret: 'history-cost bench', sessionKeys: [] }).key;
/** No PUBACK for this long during a fill or the steady phase: the broker is stuck; the run records it. */
const STALL_MS = 60_000;
const READ_TIMEOUT_MS = 30_000;
const READS_AFTER_RESTART = 20;
const MIB = 1024 * 1024;

const cleanup = new Cleanup();

type Account = { username: string; password: string };

// ------------------------------------------------------------------ brokers

interface MemoryReading {
  /** Sum over the broker's processes, KiB. */
  rssKiB: number;
  detail: string;
}

interface DiskReading {
  bytes: number | undefined;
  detail: string;
}

interface RestartReading {
  stopMs: number;
  /** From the start until a client's CONNACK. */
  startMs: number;
  rssKiB: number | undefined;
  detail: string;
}

interface RunningBroker {
  describe: string;
  /** Where publisher i connects: urls[i % length], as accounts[i % length]. */
  urls: string[];
  accounts: Account[];
  memory(): Promise<MemoryReading>;
  disk(): Promise<DiskReading>;
  /** Undefined where a restart keeps nothing (the embedded broker). */
  restart?(): Promise<RestartReading>;
  stop(): Promise<void>;
}

function rssOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

function duBytes(dir: string): number | undefined {
  const result = spawnSync('du', ['-sb', dir], { encoding: 'utf8' });
  const value = Number(result.stdout.split(/\s/)[0]);
  return result.status === 0 && Number.isFinite(value) ? value : undefined;
}

const mib = (kib: number | undefined) => (kib === undefined ? 'n/a' : `${(kib / 1024).toFixed(1)} MiB`);

/** `wsmesh broker` (aedes, in-memory persistence) as a child process with an inspector port, so its memory can be read after a full GC. */
async function startEmbedded(log: (line: string) => void): Promise<RunningBroker> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wsmesh-history-broker-'));
  const account = MOSQUITTO_NODE_ACCOUNTS[0];
  const passwordFile = path.join(dir, 'password');
  writeFileSync(passwordFile, account.password + '\n');
  const inspectPort = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [`--inspect=127.0.0.1:${inspectPort}`, '--import', 'tsx', 'src/cli/main.ts', 'broker', '--host', '127.0.0.1', '--port', '0', '--username', account.username, '--password-file', passwordFile, '--log-level', 'warn'],
    { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', MALLOC_MMAP_THRESHOLD_: '131072' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  cleanup.add(stop);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wsmesh broker not listening within 30 s:\n${output.join('')}`)), 30_000);
    const onData = (text: string) => {
      output.push(text);
      const match = /wsmesh broker listening on mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(output.join(''));
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.stderr!.setEncoding('utf8').on('data', (text: string) => output.push(text));
    child.once('exit', (code, signal) => reject(new Error(`wsmesh broker exited (${code ?? signal}):\n${output.join('')}`)));
  });
  log(`embedded broker (wsmesh broker, aedes) up on port ${port}, pid ${child.pid}`);
  return {
    describe: `wsmesh broker (aedes) pid ${child.pid}`,
    urls: [`mqtt://127.0.0.1:${port}`],
    accounts: [account],
    async memory() {
      const raw = rssOf(child.pid);
      const live = await liveMemory(inspectPort);
      return { rssKiB: live.rssKiB, detail: `RSS ${mib(raw)} before a full GC, ${mib(live.rssKiB)} after; heap used ${mib(live.heapUsedKiB)}, external ${mib(live.externalKiB)}` };
    },
    async disk() {
      return { bytes: undefined, detail: 'in memory only' };
    },
    stop,
  };
}

/** Mosquitto with the project's mosquitto.conf (persistence on, autosave 60 s). */
async function startMosquittoBroker(log: (line: string) => void): Promise<RunningBroker> {
  const broker = await startMosquitto();
  cleanup.add(() => killAllBrokers());
  log(`mosquitto up on ${broker.url} (pid ${broker.pid}; mosquitto.conf: persistence true, autosave_interval 60)`);
  const dbFile = path.join(broker.persistenceDir, 'mosquitto.db');
  const dbSize = () => {
    try {
      return statSync(dbFile).size;
    } catch {
      return undefined;
    }
  };
  const reading = (): MemoryReading => {
    const rss = rssOf(broker.pid) ?? NaN;
    return { rssKiB: rss, detail: `mosquitto pid ${broker.pid}: RSS ${mib(rss)}` };
  };
  return {
    describe: `mosquitto pid ${broker.pid}`,
    urls: [broker.url],
    accounts: MOSQUITTO_NODE_ACCOUNTS.map((a) => ({ ...a })),
    memory: async () => reading(),
    async disk() {
      // SIGUSR1 makes mosquitto write its database now (as it does every autosave_interval).
      const before = statSync(dbFile, { throwIfNoEntry: false })?.mtimeMs ?? 0;
      const t0 = performance.now();
      process.kill(broker.pid!, 'SIGUSR1');
      const deadline = Date.now() + 180_000;
      let last = -1;
      while (Date.now() < deadline) {
        await sleep(250);
        const stat = statSync(dbFile, { throwIfNoEntry: false });
        if (stat && stat.mtimeMs > before && stat.size === last) {
          return { bytes: stat.size, detail: `mosquitto.db after SIGUSR1: ${(stat.size / MIB).toFixed(1)} MiB (written within ${((performance.now() - t0) / 1000).toFixed(1)} s)` };
        }
        last = stat?.size ?? -1;
      }
      return { bytes: dbSize(), detail: 'mosquitto.db not rewritten within 180 s of SIGUSR1' };
    },
    async restart() {
      const t0 = performance.now();
      await broker.stop('SIGTERM'); // saves the database
      const t1 = performance.now();
      await broker.restart();
      await firstConnack(broker.url, MOSQUITTO_NODE_ACCOUNTS[0]);
      const t2 = performance.now();
      const rss = rssOf(broker.pid);
      return { stopMs: t1 - t0, startMs: t2 - t1, rssKiB: rss, detail: `mosquitto stop (saves the database) ${((t1 - t0) / 1000).toFixed(1)} s, start until CONNACK ${((t2 - t1) / 1000).toFixed(1)} s, RSS after ${mib(rss)}, db ${((dbSize() ?? 0) / MIB).toFixed(1)} MiB` };
    },
    stop: async () => {
      await broker.stop();
      await killAllBrokers();
    },
  };
}

/** The 3-server NATS cluster of config/nats/ (MQTT, JetStream, stream_replicas 3). */
async function startNats(log: (line: string) => void): Promise<RunningBroker> {
  log('starting 3 NATS servers (JetStream, MQTT; config/nats/): a few seconds');
  const nats = await startNatsCluster();
  cleanup.add(() => killAllBrokers());
  const pid = (i: number) => (nats.servers[i] as unknown as { supervisor: Supervisor }).supervisor.pid;
  const storeDir = (i: number) => path.join(path.dirname(nats.servers[i].configFile), `nats-${i + 1}`);
  const httpPort = (i: number) => Number(/^http:\s*127\.0\.0\.1:(\d+)/m.exec(readFileSync(nats.servers[i].configFile, 'utf8'))?.[1]);
  log(`NATS up: ${nats.servers.map((s, i) => `${s.url} (pid ${pid(i)}, monitoring ${httpPort(i)})`).join(', ')}`);
  const streams = async (i: number): Promise<string> => {
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort(i)}/jsz?accounts=true&streams=true`, { signal: AbortSignal.timeout(10_000) });
      const body = (await res.json()) as { account_details?: Array<{ stream_detail?: Array<{ name: string; state: { messages: number; bytes: number } }> }> };
      const found = (body.account_details ?? []).flatMap((a) => a.stream_detail ?? []).filter((s) => s.name.startsWith('$MQTT_'));
      return found.map((s) => `${s.name} ${s.state.messages} msgs ${(s.state.bytes / MIB).toFixed(1)} MiB`).join(', ') || '(no MQTT streams listed)';
    } catch (error) {
      return `(jsz failed: ${(error as Error).message})`;
    }
  };
  return {
    describe: '3 NATS servers',
    urls: nats.servers.map((s) => s.url),
    accounts: nats.servers.map((s, i) => ({ ...MOSQUITTO_NODE_ACCOUNTS[i] })),
    async memory() {
      const each = nats.servers.map((_, i) => rssOf(pid(i)) ?? NaN);
      return { rssKiB: each.reduce((a, b) => a + b, 0), detail: `RSS ${each.map((kib, i) => `nats-${i + 1} ${mib(kib)}`).join(', ')}; streams (nats-1's view): ${await streams(0)}` };
    },
    async disk() {
      const each = nats.servers.map((_, i) => duBytes(storeDir(i)) ?? NaN);
      return { bytes: each.reduce((a, b) => a + b, 0), detail: `store dirs (du -sb) ${each.map((b, i) => `nats-${i + 1} ${(b / MIB).toFixed(1)} MiB`).join(', ')}` };
    },
    async restart() {
      // One server of three, as a rolling restart does: the other two keep the cluster up.
      const server = nats.servers[0];
      const t0 = performance.now();
      await server.stop('SIGTERM');
      const t1 = performance.now();
      await server.restart(); // until it gives a node account a persistent session
      const t2 = performance.now();
      const rss = rssOf(pid(0));
      return { stopMs: t1 - t0, startMs: t2 - t1, rssKiB: rss, detail: `nats-1 stop ${((t1 - t0) / 1000).toFixed(1)} s, start until a persistent session's CONNACK ${((t2 - t1) / 1000).toFixed(1)} s, its RSS after ${mib(rss)}; streams: ${await streams(0)}` };
    },
    stop: async () => {
      await nats.stop();
      await killAllBrokers();
    },
  };
}

function startBroker(kind: HistoryBroker, log: (line: string) => void): Promise<RunningBroker> {
  if (kind === 'embedded') return startEmbedded(log);
  if (kind === 'mosquitto') return startMosquittoBroker(log);
  return startNats(log);
}

// ------------------------------------------------------------------ MQTT clients

let clientSeq = 0;

function connect(url: string, account: Account, clean = true, clientId = `history-bench-${process.pid}-${++clientSeq}`): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, {
      clientId,
      clean,
      username: account.username,
      password: account.password,
      reconnectPeriod: 0,
      connectTimeout: 60_000,
      keepalive: 60,
      protocolVersion: 4,
      resubscribe: false,
    });
    client.once('connect', () => {
      // As the nodes' link does (src/cluster/broker-link.ts): no Nagle on small packets.
      (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      client.removeAllListeners('error');
      client.on('error', () => {});
      resolve(client);
    });
    client.once('error', (error) => {
      client.end(true);
      reject(error);
    });
  });
}

async function firstConnack(url: string, account: Account): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      const client = await connect(url, account);
      client.end(true);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

/** Ends the connection at once; resolves within 2 s even for a client already gone. */
function closeClient(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 2000);
    client.end(true, {}, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

// ------------------------------------------------------------------ payloads

const ID_POOL = Array.from({ length: 4096 }, () => randomBytes(16).toString('base64url'));
let MESSAGE_BASE = '';
const T0 = Date.now();

const userName = (u: number) => `user-${String(u).padStart(6, '0')}`;

/** One entry's JSON (the message a fixed-length rotation of random text, so no two are alike and nothing is costly to make). */
function entryFields(u: number, seq: number): string {
  const k = (u * 7919 + seq * 104729) % MESSAGE_BASE.length;
  const m = MESSAGE_BASE.slice(k) + MESSAGE_BASE.slice(0, k);
  return `"q":${seq},"t":${T0 + seq * 1000},"i":"${ID_POOL[(u * 31 + seq) & 4095]}","m":"${m}","f":null`;
}

function ringTopic(u: number, origin: string, slot: number): string {
  return `${BASE}/${userName(u)}/${origin}/${slot}`;
}

function blobTopic(u: number, origin: string): string {
  return `${BASE}/${userName(u)}/${origin}`;
}

function ringMessage(u: number, origin: string, seq: number, size: number): { topic: string; payload: Buffer } {
  const topic = ringTopic(u, origin, seq % size);
  return { topic, payload: KEY.seal(topic, `{"v":1,"o":"${origin}",${entryFields(u, seq)}}`) };
}

/** The whole ring after push `seq`: entries max(1, seq - size + 1) .. seq. */
function blobMessage(u: number, origin: string, seq: number, size: number): { topic: string; payload: Buffer } {
  const topic = blobTopic(u, origin);
  const entries: string[] = [];
  for (let q = Math.max(1, seq - size + 1); q <= seq; q++) entries.push(`{${entryFields(u, q)}}`);
  return { topic, payload: KEY.seal(topic, `{"v":1,"o":"${origin}","e":[${entries.join(',')}]}`) };
}

// ------------------------------------------------------------------ writing

interface PumpResult {
  done: number;
  bytes: number;
  ms: number;
  /** Why it ended before its jobs ran out (a stall, a closed connection, the deadline). */
  stopped?: string;
}

type Job = { topic: string; payload: Buffer; user: number };

/**
 * Runs each publisher's jobs (retained QoS 1) with at most `inflight` unacknowledged per
 * connection, until the jobs run out or `deadlineMs` passes. A broker that stops
 * acknowledging for STALL_MS, or closes a connection, ends it with `stopped` set.
 */
async function pump(publishers: MqttClient[], jobs: Array<() => Job | undefined>, inflight: number, deadlineMs: number, onAck: (job: Job) => void, progress: (done: number, bytes: number) => void): Promise<PumpResult> {
  const t0 = performance.now();
  let done = 0;
  let bytes = 0;
  let lastAck = performance.now();
  let stopped: string | undefined;
  let fail!: (why: string) => void;
  const failed = new Promise<void>((resolve) => (fail = (why) => ((stopped ??= why), resolve())));
  const onClose = (p: number) => () => fail(`publisher ${p}'s connection closed`);
  const closers = publishers.map((client, p) => {
    const listener = onClose(p);
    client.on('close', listener);
    return listener;
  });
  const timer = setInterval(() => {
    progress(done, bytes);
    if (performance.now() - lastAck > STALL_MS) fail(`no PUBACK for ${STALL_MS / 1000} s after ${done} publishes`);
  }, 5000);
  const worker = async (p: number) => {
    while (stopped === undefined) {
      if (performance.now() > deadlineMs) {
        stopped ??= 'deadline';
        return;
      }
      const job = jobs[p]();
      if (!job) return;
      try {
        await publishers[p].publishAsync(job.topic, job.payload, { qos: 1, retain: true });
      } catch (error) {
        fail(`publish failed: ${(error as Error).message}`);
        return;
      }
      done++;
      bytes += job.payload.length;
      lastAck = performance.now();
      onAck(job);
    }
  };
  const workers = publishers.flatMap((_, p) => Array.from({ length: inflight }, () => worker(p)));
  await Promise.race([Promise.all(workers), failed]);
  clearInterval(timer);
  publishers.forEach((client, p) => client.off('close', closers[p]));
  const ms = performance.now() - t0;
  progress(done, bytes);
  return { done, bytes, ms, stopped: stopped === 'deadline' ? 'deadline' : stopped };
}

// ------------------------------------------------------------------ reading

interface ReadResult {
  /** SUBSCRIBE until the marker came back: when the design says the read is complete. */
  ms: number;
  /** SUBSCRIBE until every entry the user has arrived (the marker seen too); undefined when some never came. */
  completeMs: number | undefined;
  /** Retained messages before the marker. */
  messages: number;
  /** Entries before the marker (ring: one a message; blob: the array's length). */
  entries: number;
  /** Entries that came after the marker: the marker overtook them. */
  lateEntries: number;
  badSeal: number;
}

/** How long a read waits past its marker for entries still missing (the marker overtook them). */
const AFTER_MARKER_MS = 5_000;

class Reader {
  private onMessage: ((topic: string, payload: Buffer) => void) | undefined;
  private n = 0;
  /** History messages that came when no read was going on (after a read's UNSUBACK). */
  strays = 0;
  readonly origin = randomBytes(4).toString('hex');

  constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload) => {
      if (this.onMessage) this.onMessage(topic, payload);
      else if (topic.startsWith(BASE)) this.strays++;
    });
  }

  async read(u: number, expected: number): Promise<ReadResult> {
    const filter = `${BASE}/${userName(u)}/#`;
    const markerTopic = `${BASE}/${userName(u)}/${this.origin}/marker`;
    const nonce = `m${++this.n}`;
    let messages = 0;
    let entries = 0;
    let lateEntries = 0;
    let badSeal = 0;
    let markerAt: number | undefined;
    let completeAt: number | undefined;
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    let markerBack!: () => void;
    const markerCame = new Promise<void>((resolve) => (markerBack = resolve));
    const check = () => {
      if (markerAt !== undefined) markerBack();
      if (markerAt !== undefined && entries + lateEntries >= expected) {
        completeAt ??= performance.now();
        settle();
      }
    };
    this.onMessage = (topic, payload) => {
      if (topic === markerTopic) {
        if (payload.toString() === nonce) {
          markerAt = performance.now();
          check();
        }
        return;
      }
      const body = KEY.open(topic, payload);
      if (body === undefined) {
        badSeal++;
        return;
      }
      const parsed = JSON.parse(body) as { e?: unknown[] };
      const n = parsed.e ? parsed.e.length : 1;
      if (markerAt === undefined) {
        messages++;
        entries += n;
      } else lateEntries += n;
      check();
    };
    const t0 = performance.now();
    await this.client.subscribeAsync(filter, { qos: 0 });
    await this.client.publishAsync(markerTopic, nonce, { qos: 1, retain: false });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, READ_TIMEOUT_MS)));
    await Promise.race([settled, markerCame, deadline]);
    if (markerAt !== undefined && completeAt === undefined) {
      // The marker came, some entries did not (yet): wait a little for them.
      clearTimeout(timer);
      await Promise.race([settled, new Promise<void>((resolve) => (timer = setTimeout(resolve, AFTER_MARKER_MS)))]);
    }
    clearTimeout(timer);
    await this.client.unsubscribeAsync(filter);
    this.onMessage = undefined;
    if (markerAt === undefined) throw new Error(`no marker within ${READ_TIMEOUT_MS / 1000} s reading ${userName(u)} (${messages} messages before)`);
    return { ms: markerAt - t0, completeMs: completeAt === undefined ? undefined : completeAt - t0, messages, entries, lateEntries, badSeal };
  }
}

interface ReadSummary {
  count: number;
  /** Marker round trip (the design's read time). */
  p50?: number;
  p99?: number;
  max?: number;
  /** Until every entry was in, over the reads that got them all. */
  completeP50?: number;
  completeP99?: number;
  /** Reads whose marker came before every entry had (the design would have read a short history). */
  short: number;
  /** Reads that never got every entry, not even within AFTER_MARKER_MS of the marker. */
  incomplete: number;
  /** Entries that came after their read's marker, over all reads. */
  lateEntries: number;
  badSeal: number;
  error?: string;
  meanMessages: number;
}

async function readUsers(reader: Reader, users: number[], expected: (u: number) => number, seconds: number, log: (line: string) => void, label: string): Promise<ReadSummary> {
  const times: number[] = [];
  const complete: number[] = [];
  let short = 0;
  let incomplete = 0;
  let badSeal = 0;
  let lateEntries = 0;
  let messages = 0;
  let error: string | undefined;
  const deadline = performance.now() + seconds * 1000;
  let lastLog = performance.now();
  for (const u of users) {
    if (performance.now() > deadline) {
      log(`${label}: read time (${seconds} s) up after ${times.length} of ${users.length} users`);
      break;
    }
    try {
      const r = await reader.read(u, expected(u));
      times.push(r.ms);
      if (r.completeMs !== undefined) complete.push(r.completeMs);
      else incomplete++;
      messages += r.messages;
      if (r.entries < expected(u)) short++;
      badSeal += r.badSeal;
      lateEntries += r.lateEntries;
    } catch (e) {
      error = (e as Error).message;
      log(`${label}: read failed: ${error}`);
      break;
    }
    if (performance.now() - lastLog > 5000) {
      lastLog = performance.now();
      log(`${label}: read ${times.length}/${users.length}`);
    }
  }
  const sorted = Float64Array.from(times).sort();
  const sortedComplete = Float64Array.from(complete).sort();
  return {
    count: times.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : undefined,
    completeP50: percentile(sortedComplete, 50),
    completeP99: percentile(sortedComplete, 99),
    short,
    incomplete,
    lateEntries,
    badSeal,
    error,
    meanMessages: times.length ? messages / times.length : 0,
  };
}

// ------------------------------------------------------------------ probes

interface Probes {
  /** Median ms: a new persistent session (clean=false), until CONNACK. */
  connect?: number;
  /** Median ms: SUBSCRIBE QoS 0 to a wildcard filter matching nothing, until SUBACK. */
  subWildcard?: number;
  /** Median ms: SUBSCRIBE QoS 1 to an exact topic on a persistent session (a node's per-user subscription), until SUBACK. */
  subQos1?: number;
}

const median = (values: number[]) => percentile(Float64Array.from(values).sort(), 50);

async function probe(broker: RunningBroker, reader: MqttClient, samples: number): Promise<Probes> {
  const connects: number[] = [];
  const wild: number[] = [];
  const qos1: number[] = [];
  const session = await connect(broker.urls[0], broker.accounts[0], false);
  try {
    for (let i = 0; i < samples; i++) {
      const tag = randomBytes(4).toString('hex');
      let t = performance.now();
      const client = await connect(broker.urls[0], broker.accounts[0], false, `history-probe-${tag}`);
      connects.push(performance.now() - t);
      // A clean reconnect drops the persistent session again, so probes leave nothing behind.
      await closeClient(client);
      await closeClient(await connect(broker.urls[0], broker.accounts[0], true, `history-probe-${tag}`));
      t = performance.now();
      await reader.subscribeAsync(`${CLUSTER}/internal/probe/${tag}/#`, { qos: 0 });
      wild.push(performance.now() - t);
      await reader.unsubscribeAsync(`${CLUSTER}/internal/probe/${tag}/#`);
      t = performance.now();
      await session.subscribeAsync(`${CLUSTER}/internal/probe/${tag}`, { qos: 1 });
      qos1.push(performance.now() - t);
      await session.unsubscribeAsync(`${CLUSTER}/internal/probe/${tag}`);
    }
  } finally {
    await closeClient(session);
    await closeClient(await connect(broker.urls[0], broker.accounts[0], true, (session.options as { clientId: string }).clientId));
  }
  return { connect: median(connects), subWildcard: median(wild), subQos1: median(qos1) };
}

// ------------------------------------------------------------------ one run

interface RunResult {
  broker: HistoryBroker;
  design: HistoryDesign;
  entries: number;
  users: number;
  /** Entries acknowledged in the fill (ring: publishes; blob: users x H once each user's ring is in). */
  entriesWritten: number;
  retained: number;
  payloadBytes: number;
  topicBytes: number;
  fill?: PumpResult;
  baseline?: MemoryReading;
  after?: MemoryReading;
  diskBase?: DiskReading;
  disk?: DiskReading;
  probesBefore?: Probes;
  probesAfter?: Probes;
  reads?: ReadSummary;
  steady?: PumpResult;
  restart?: RestartReading;
  readsAfterRestart?: ReadSummary;
  errors: string[];
}

async function runOne(kind: HistoryBroker, design: HistoryDesign, H: number, options: HistoryOptions): Promise<RunResult> {
  const label = `${kind}/${design}/H=${H}`;
  const log = (line: string) => logLine(`${label}: ${line}`);
  const U = options.users;
  const result: RunResult = { broker: kind, design, entries: H, users: U, entriesWritten: 0, retained: 0, payloadBytes: 0, topicBytes: 0, errors: [] };
  const broker = await startBroker(kind, log);
  const clients: MqttClient[] = [];
  try {
    const connectPublishers = () => Promise.all(Array.from({ length: options.publishers }, (_, p) => connect(broker.urls[p % broker.urls.length], broker.accounts[p % broker.accounts.length])));
    let publishers = await connectPublishers();
    clients.push(...publishers);
    const origins = publishers.map(() => randomBytes(4).toString('hex'));
    const readerClient = await connect(broker.urls[0], broker.accounts[0]);
    clients.push(readerClient);
    let reader = new Reader(readerClient);
    log(`${publishers.length} publishers and a reader connected; settling 3 s for the baseline`);
    await sleep(3000);
    result.probesBefore = await probe(broker, readerClient, options.probes);
    result.baseline = await broker.memory();
    result.diskBase = await broker.disk();
    log(`baseline: ${result.baseline.detail}; disk: ${result.diskBase.detail}; probes: ${JSON.stringify(result.probesBefore)}`);

    // Fill. ring: seq-major (every user's entry 1, then every user's entry 2, ...), as pushes
    // spread over users arrive; blob: each user's final ring once.
    const acked = new Int32Array(U);
    const size = options.size;
    const mine = publishers.map((_, p) => Array.from({ length: Math.ceil((U - p) / publishers.length) }, (_, k) => p + k * publishers.length));
    const jobs = publishers.map((_, p) => {
      let i = 0;
      const users = mine[p];
      const total = design === 'ring' ? users.length * H : users.length;
      return (): Job | undefined => {
        if (i >= total) return undefined;
        const k = i++;
        if (design === 'ring') {
          const u = users[k % users.length];
          const seq = Math.floor(k / users.length) + 1;
          return { ...ringMessage(u, origins[p], seq, size), user: u };
        }
        const u = users[k];
        return { ...blobMessage(u, origins[p], H, size), user: u };
      };
    });
    const sample = design === 'ring' ? ringMessage(0, origins[0], 1, size) : blobMessage(0, origins[0], H, size);
    result.payloadBytes = sample.payload.length;
    result.topicBytes = Buffer.byteLength(sample.topic);
    const fillTotal = design === 'ring' ? U * H : U;
    log(`fill: ${fillTotal} retained publishes (QoS 1, ${options.publishers} connections x ${options.inflight} in flight), payload ${result.payloadBytes} B, topic ${result.topicBytes} B`);
    const fillStart = performance.now();
    result.fill = await pump(
      publishers,
      jobs,
      options.inflight,
      fillStart + options.fillSeconds * 1000,
      (job) => (acked[job.user] += design === 'ring' ? 1 : H),
      (done, bytes) => log(`fill ${done}/${fillTotal} (${Math.round((done * 1000) / (performance.now() - fillStart))}/s, ${(bytes / MIB).toFixed(0)} MiB)`),
    );
    if (result.fill.stopped) {
      const why = `fill stopped after ${result.fill.done} of ${fillTotal} publishes (${(result.fill.ms / 1000).toFixed(0)} s): ${result.fill.stopped}`;
      result.errors.push(why);
      log(why);
    }
    result.entriesWritten = acked.reduce((a, b) => a + b, 0);
    result.retained = design === 'ring' ? acked.reduce((a, n) => a + Math.min(n, size), 0) : acked.reduce((a, n) => a + (n > 0 ? 1 : 0), 0);
    log(`fill done: ${result.fill.done} publishes in ${(result.fill.ms / 1000).toFixed(1)} s; ${result.retained} retained messages; settling 3 s`);
    await sleep(3000);
    result.after = await broker.memory();
    log(`after the fill: ${result.after.detail}`);
    result.disk = await broker.disk();
    log(`disk: ${result.disk.detail}`);

    // Reads: random distinct users that got entries.
    const candidates = Array.from({ length: U }, (_, u) => u).filter((u) => acked[u] > 0);
    for (let i = candidates.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
    }
    const expected = (u: number) => Math.min(acked[u], size);
    result.reads = await readUsers(reader, candidates.slice(0, options.reads), expected, options.readSeconds, log, 'reads');
    if (result.reads.error) result.errors.push(`read: ${result.reads.error}`);
    log(`reads: ${result.reads.count}, marker p50 ${format(result.reads.p50, 1)} ms, p99 ${format(result.reads.p99, 1)} ms; all entries p50 ${format(result.reads.completeP50, 1)} ms, p99 ${format(result.reads.completeP99, 1)} ms; marker before the last entry ${result.reads.short}, never complete ${result.reads.incomplete}, entries after the marker ${result.reads.lateEntries}, bad seals ${result.reads.badSeal}, ${format(result.reads.meanMessages, 1)} messages a read`);
    result.probesAfter = await probe(broker, readerClient, options.probes);
    log(`probes after: ${JSON.stringify(result.probesAfter)}`);

    if (broker.restart && !options.noRestart) {
      for (const client of clients.splice(0)) await closeClient(client);
      log('restart with the history in it');
      try {
        result.restart = await broker.restart();
        log(`restart: ${result.restart.detail}`);
        publishers = await connectPublishers();
        clients.push(...publishers);
        const again = await connect(broker.urls[0], broker.accounts[0]);
        clients.push(again);
        reader = new Reader(again);
        result.readsAfterRestart = await readUsers(reader, candidates.slice(0, READS_AFTER_RESTART), expected, options.readSeconds, log, 'reads after restart');
        log(`reads after restart: ${result.readsAfterRestart.count}, marker p50 ${format(result.readsAfterRestart.p50, 1)} ms, marker first ${result.readsAfterRestart.short}, never all ${result.readsAfterRestart.incomplete}`);
      } catch (error) {
        result.errors.push(`restart: ${(error as Error).message.split('\n')[0]}`);
        log(`restart failed: ${(error as Error).message}`);
      }
    }
    // Steady state: random users, one more push each; the blob design republishes the ring.
    if (options.steadySeconds > 0 && !result.fill.stopped) {
      const seqs = Int32Array.from(acked, (n) => (design === 'ring' ? n : n > 0 ? H : 0));
      const steadyJobs = publishers.map((_, p) => (): Job => {
        const users = mine[p];
        const u = users[Math.floor(Math.random() * users.length)];
        const seq = ++seqs[u];
        return { ...(design === 'ring' ? ringMessage(u, origins[p], seq, size) : blobMessage(u, origins[p], seq, size)), user: u };
      });
      log(`steady pushes for ${options.steadySeconds} s`);
      const t0 = performance.now();
      result.steady = await pump(publishers, steadyJobs, options.inflight, t0 + options.steadySeconds * 1000, () => {}, (done, bytes) => log(`steady ${done} pushes (${Math.round((done * 1000) / (performance.now() - t0))}/s, ${(bytes / MIB).toFixed(0)} MiB)`));
      if (result.steady.stopped && result.steady.stopped !== 'deadline') result.errors.push(`steady: ${result.steady.stopped}`);
    }

  } catch (error) {
    result.errors.push((error as Error).message.split('\n')[0]);
    log(`failed: ${(error as Error).message}`);
  } finally {
    for (const client of clients) await closeClient(client).catch(() => {});
    await broker.stop();
  }
  return result;
}

// ------------------------------------------------------------------ report

function tables(results: RunResult[]): string {
  const per10k = (r: RunResult, value: number) => (value * 10_000) / r.users;
  const rssDelta = (r: RunResult) => (r.after && r.baseline ? r.after.rssKiB - r.baseline.rssKiB : undefined);
  const diskDelta = (r: RunResult) => (r.disk?.bytes !== undefined && r.diskBase?.bytes !== undefined ? r.disk.bytes - r.diskBase.bytes : undefined);
  const cost = [
    ['broker', 'H', 'design', 'retained msgs', 'payload B', 'RSS base MiB', 'RSS after MiB', 'RSS delta MiB per 10k users', 'RSS B per entry', 'disk MiB per 10k users', 'disk B per entry', 'fill s', 'fill publishes/s', 'steady pushes/s', 'steady MiB/s'],
  ];
  for (const r of results) {
    const d = rssDelta(r);
    const disk = diskDelta(r);
    cost.push([
      r.broker,
      String(r.entries),
      r.design,
      format(r.retained, 0),
      format(r.payloadBytes, 0),
      format(r.baseline && r.baseline.rssKiB / 1024, 1),
      format(r.after && r.after.rssKiB / 1024, 1),
      format(d === undefined ? undefined : per10k(r, d / 1024), 1),
      format(d === undefined || !r.entriesWritten ? undefined : (d * 1024) / r.entriesWritten, 0),
      format(disk === undefined ? undefined : per10k(r, disk / MIB), 1),
      format(disk === undefined || !r.entriesWritten ? undefined : disk / r.entriesWritten, 0),
      format(r.fill && r.fill.ms / 1000, 1),
      format(r.fill && (r.fill.done * 1000) / r.fill.ms, 0),
      format(r.steady && (r.steady.done * 1000) / r.steady.ms, 0),
      format(r.steady && r.steady.bytes / MIB / (r.steady.ms / 1000), 1),
    ]);
  }
  const time = [['broker', 'H', 'design', 'reads', 'read p50 ms', 'read p99 ms', 'read max ms', 'all in p50 ms', 'all in p99 ms', 'marker first', 'never all', 'connect ms before/after', 'SUB # ms before/after', 'SUB QoS1 ms before/after', 'restart stop s', 'restart start s', 'RSS after restart MiB', 'reads after restart: n, p50 ms, never all']];
  const pair = (a?: number, b?: number) => `${format(a, 1)} / ${format(b, 1)}`;
  for (const r of results) {
    time.push([
      r.broker,
      String(r.entries),
      r.design,
      format(r.reads?.count, 0),
      format(r.reads?.p50, 1),
      format(r.reads?.p99, 1),
      format(r.reads?.max, 1),
      format(r.reads?.completeP50, 1),
      format(r.reads?.completeP99, 1),
      format(r.reads?.short, 0),
      format(r.reads?.incomplete, 0),
      pair(r.probesBefore?.connect, r.probesAfter?.connect),
      pair(r.probesBefore?.subWildcard, r.probesAfter?.subWildcard),
      pair(r.probesBefore?.subQos1, r.probesAfter?.subQos1),
      format(r.restart && r.restart.stopMs / 1000, 1),
      format(r.restart && r.restart.startMs / 1000, 1),
      format(r.restart?.rssKiB && r.restart.rssKiB / 1024, 1),
      r.readsAfterRestart ? `${r.readsAfterRestart.count}, ${format(r.readsAfterRestart.p50, 1)}, ${r.readsAfterRestart.incomplete}` : 'n/a',
    ]);
  }
  const notes = results.flatMap((r) => [
    `${r.broker}/${r.design}/H=${r.entries}: baseline ${r.baseline?.detail ?? 'n/a'}`,
    `${r.broker}/${r.design}/H=${r.entries}: after fill ${r.after?.detail ?? 'n/a'}; disk ${r.disk?.detail ?? 'n/a'}${r.restart ? `; restart: ${r.restart.detail}` : ''}`,
    ...r.errors.map((e) => `${r.broker}/${r.design}/H=${r.entries}: ERROR ${e}`),
  ]);
  return `${render(cost)}\n\n${render(time)}\n\n${notes.join('\n')}\n`;
}

// ------------------------------------------------------------------ main

async function main(options: HistoryOptions): Promise<number> {
  MESSAGE_BASE = randomBytes(Math.ceil((options.payload * 3) / 4) + 3).toString('base64url').slice(0, options.payload);
  const sampleRing = ringMessage(1234, 'abcdef01', 42, options.size);
  logLine(
    `history-cost: node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; U=${options.users}, H=${options.entries.join(',')}, ring size ${options.size}, ` +
      `messages of ${options.payload} chars (a ring entry: ${sampleRing.payload.length} B payload, topic ${sampleRing.topic.length} B); brokers ${options.brokers.join(',')}; designs ${options.designs.join(',')}`,
  );
  const results: RunResult[] = [];
  for (const kind of options.brokers) {
    for (const H of options.entries) {
      for (const design of options.designs) {
        results.push(await runOne(kind, design, H, options));
        process.stdout.write(`\n${tables(results.slice(-1))}\n`);
      }
    }
  }
  process.stdout.write(`\n== history on the broker: all runs (RSS: every broker process; NATS: the 3 servers summed; per 10k users = delta x 10000 / U; per entry = delta / entries written)\n${tables(results)}`);
  logLine(`done; load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  return results.some((r) => r.errors.length) ? 1 : 0;
}

const parsed = optionsOrStatus(process.argv.slice(2), parseHistoryOptions, USAGE);
if (typeof parsed === 'number') process.exitCode = parsed;
else void runScript(cleanup, () => main(parsed));
