/**
 * One measured run against one server: log every user in, optionally warm up, then
 * open N sockets (spread evenly: socket j belongs to user j mod K), push M messages
 * (message i to user i mod K) and wait until every socket received every frame
 * meant for it.
 */
import { performance } from 'node:perf_hooks';
import type { ServerChild } from './children.ts';
import type { BenchUser } from './directory.ts';
import { PASSWORD } from './directory.ts';
import { ClientFleet } from './fleet.ts';
import { heapSnapshotIfAsked } from './heap-snapshot.ts';
import { JsonClient } from './http.ts';
import type { BenchOptions } from './options.ts';
import { progressEvery, runPool, sleep } from './pool.ts';
import { LOGIN_PATH, type Target } from './targets.ts';

/** Lets RSS settle (allocations freed, sockets' buffers sized) before it is read. */
const SETTLE_MS = 500;

export interface RunResult {
  target: string;
  handshakesPerSec: number;
  framesPerSec: number;
  pushesPerSec: number;
  /** KiB, or undefined where /proc is not available. */
  rssBeforeKiB?: number;
  rssAfterKiB?: number;
  rssPerSocketKiB?: number;
  /** The server's CPU time per handshake and per delivered frame (us, user + system, all its threads). */
  cpuPerHandshakeUs?: number;
  cpuPerFrameUs?: number;
  frames: number;
  openMs: number;
  pushMs: number;
  deliverMs: number;
}

export interface RunContext {
  target: Target;
  server: ServerChild;
  users: readonly BenchUser[];
  options: BenchOptions;
  adminToken: string;
  log: (line: string) => void;
  /** Registers a cleanup step, run even when the run fails. */
  onCleanup: (step: () => Promise<void> | void) => void;
}

export interface LoggedIn {
  session: string;
  cookie: string;
}

/** Who owns which socket, who gets which message: the same for both servers. */
export class FanoutPlan {
  constructor(
    readonly sockets: number,
    readonly users: number,
    readonly messages: number,
  ) {}

  userOfSocket(j: number): number {
    return j % this.users;
  }

  userOfMessage(i: number): number {
    return i % this.users;
  }

  socketsOfUser(u: number): number {
    return Math.floor(this.sockets / this.users) + (u < this.sockets % this.users ? 1 : 0);
  }

  messagesOfUser(u: number): number {
    return Math.floor(this.messages / this.users) + (u < this.messages % this.users ? 1 : 0);
  }

  expectedFrames(): number {
    let total = 0;
    for (let u = 0; u < this.users; u++) total += this.socketsOfUser(u) * this.messagesOfUser(u);
    return total;
  }
}

/** `m<seq>|xxxx...`, exactly `bytes` long (ASCII), so a frame of another size is foreign. */
export function message(seq: number, bytes: number): string {
  const head = `m${seq}|`;
  return head + 'x'.repeat(Math.max(0, bytes - head.length));
}

interface Timings {
  openMs: number;
  pushMs: number;
  deliverMs: number;
  rssBeforeKiB?: number;
  rssAfterKiB?: number;
  /** The server's CPU time (ms, user + system) while the sockets opened, and from the first push to the last frame. */
  openCpuMs?: number;
  deliverCpuMs?: number;
}

export async function runLoad(ctx: RunContext): Promise<RunResult> {
  const { target, server, users, options, log } = ctx;
  const http = new JsonClient(server.baseUrl, Math.max(options.inflight, options.loginConcurrency));
  ctx.onCleanup(() => http.close());

  const logins = await logIn(ctx, http);
  if (options.warmup > 0) {
    const warm = new FanoutPlan(Math.min(options.warmup, options.sockets), options.users, options.warmup);
    log(`${target.name}: warm-up round, ${warm.sockets} sockets and ${warm.messages} messages (not measured)`);
    await fanout(ctx, http, logins, warm, 'warm-up', false);
  }

  const plan = new FanoutPlan(options.sockets, options.users, options.messages);
  const timings = await fanout(ctx, http, logins, plan, 'measured', true);
  http.close();
  const { openMs, pushMs, deliverMs, rssBeforeKiB, rssAfterKiB, openCpuMs, deliverCpuMs } = timings;
  const frames = plan.expectedFrames();
  return {
    target: target.name,
    handshakesPerSec: options.sockets / (openMs / 1000),
    framesPerSec: frames / (deliverMs / 1000),
    pushesPerSec: options.messages / (pushMs / 1000),
    rssBeforeKiB,
    rssAfterKiB,
    rssPerSocketKiB: rssBeforeKiB !== undefined && rssAfterKiB !== undefined ? (rssAfterKiB - rssBeforeKiB) / options.sockets : undefined,
    cpuPerHandshakeUs: openCpuMs === undefined ? undefined : (openCpuMs * 1000) / options.sockets,
    cpuPerFrameUs: deliverCpuMs === undefined ? undefined : (deliverCpuMs * 1000) / frames,
    frames,
    openMs,
    pushMs,
    deliverMs,
  };
}

/** One login per user, L in flight; not timed (scrypt on the wsmesh side, nothing on the baseline). */
function logIn({ target, users, options, log }: RunContext, http: JsonClient): Promise<LoggedIn[]> {
  return logInUsers(http, users, options.loginConcurrency, (done) => log(`${target.name}: logged in ${done}/${users.length} users`));
}

/**
 * Logs every user in through `POST /api/login` on `http`'s server, `concurrency` in
 * flight, and returns each one's public session id and cookie header (index = user
 * index). `progress(done)` is called four times along the way.
 */
export async function logInUsers(http: JsonClient, users: readonly BenchUser[], concurrency: number, progress: (done: number) => void): Promise<LoggedIn[]> {
  const logins: LoggedIn[] = new Array(users.length);
  const report = progressEvery(users.length, 4, progress);
  let done = 0;
  await runPool(users.length, concurrency, async (u) => {
    const res = await http.request({ method: 'POST', path: LOGIN_PATH, body: { login: users[u].login, password: PASSWORD } });
    const session = (res.body as { session?: unknown } | undefined)?.session;
    if (res.status !== 200 || typeof session !== 'string' || !res.cookie) {
      throw new Error(`login of ${users[u].login} failed: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    }
    logins[u] = { session, cookie: res.cookie };
    report(++done);
  });
  return logins;
}

/** Opens the plan's sockets, pushes its messages, checks every frame arrived, closes the sockets. */
async function fanout(ctx: RunContext, http: JsonClient, logins: readonly LoggedIn[], plan: FanoutPlan, label: string, measured: boolean): Promise<Timings> {
  const { target, server, users, options } = ctx;
  const log = measured ? ctx.log : () => {};
  const settle = () => (measured ? sleep(SETTLE_MS) : Promise.resolve());
  const fleet = new ClientFleet(plan.sockets, options.payload, target.client);
  ctx.onCleanup(() => fleet.close());

  await settle();
  const rssBeforeKiB = server.rssKiB();

  // Handshakes, C in flight.
  const wsBase = server.baseUrl.replace(/^http/, 'ws');
  const openProgress = progressEvery(plan.sockets, 5, (done) => log(`${target.name}: sockets open ${done}/${plan.sockets}`));
  let opened = 0;
  const openStart = performance.now();
  const openCpuStart = server.cpuMs();
  await runPool(plan.sockets, options.concurrency, async (j) => {
    const login = logins[plan.userOfSocket(j)];
    await fleet.open(j, target.client.url(wsBase, login.session), login.cookie);
    openProgress(++opened);
  });
  const openMs = performance.now() - openStart;
  const openCpuMs = since(openCpuStart, server.cpuMs());
  log(`${target.name}: ${plan.sockets} sockets open in ${openMs.toFixed(0)} ms`);

  await settle();
  const rssAfterKiB = server.rssKiB();
  if (fleet.error) throw fleet.error;
  if (measured && target.name === 'wsmesh') await heapSnapshotIfAsked(server.pid, log);

  // Pushes, F in flight; the clock runs until the last expected frame arrived.
  const expected = plan.expectedFrames();
  const mismatches = new Map<string, number>();
  const pushProgress = progressEvery(plan.messages, 5, (done) => log(`${target.name}: pushes answered ${done}/${plan.messages}, frames received ${fleet.total}/${expected}`));
  let answered = 0;
  fleet.expect(expected);
  const pushStart = performance.now();
  const pushCpuStart = server.cpuMs();
  await runPool(plan.messages, options.inflight, async (i) => {
    const u = plan.userOfMessage(i);
    const res = await http.request(target.pushRequest(users[u], message(i, options.payload), ctx.adminToken));
    if (res.status !== 202) throw new Error(`${label} push ${i} to ${users[u].login} failed: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    const local = (res.body as { local?: unknown }).local;
    if (local !== plan.socketsOfUser(u)) {
      const key = `answered local=${String(local)} where ${plan.socketsOfUser(u)} sockets are open`;
      mismatches.set(key, (mismatches.get(key) ?? 0) + 1);
    }
    pushProgress(++answered);
    if (fleet.error) throw fleet.error;
  });
  const pushMs = performance.now() - pushStart;

  await fleet.waitForFrames(options.timeout * 1000, () => describeShortfall(fleet, plan, mismatches));
  const deliverMs = fleet.reachedAt! - pushStart;
  const deliverCpuMs = since(pushCpuStart, server.cpuMs());
  log(`${target.name}: ${expected} frames delivered in ${deliverMs.toFixed(0)} ms (pushes answered in ${pushMs.toFixed(0)} ms)`);

  // Every socket got exactly its user's messages, and nothing else (late duplicates included).
  await sleep(100);
  const wrong = socketsWithWrongCount(fleet, plan);
  if (wrong.length || fleet.foreign || fleet.total !== expected) {
    throw new Error(
      `${label} round: wrong delivery: ${fleet.total} frames for ${expected} expected, ${fleet.foreign} of unexpected size, ` +
        `${wrong.length} sockets with a wrong count (first: ${wrong.slice(0, 3).join(', ') || 'none'})`,
    );
  }
  if (mismatches.size) throw new Error(`${label} round: every frame arrived, but push answers disagree: ${formatMismatches(mismatches)}`);

  await fleet.close();
  return { openMs, pushMs, deliverMs, rssBeforeKiB, rssAfterKiB, openCpuMs, deliverCpuMs };
}

/** The CPU time between two readings, or undefined if either is missing. */
function since(start: number | undefined, end: number | undefined): number | undefined {
  return start === undefined || end === undefined ? undefined : end - start;
}

function socketsWithWrongCount(fleet: ClientFleet, plan: FanoutPlan): string[] {
  const wrong: string[] = [];
  for (let j = 0; j < plan.sockets; j++) {
    const want = plan.messagesOfUser(plan.userOfSocket(j));
    if (fleet.counts[j] !== want) wrong.push(`socket ${j} got ${fleet.counts[j]} of ${want}`);
  }
  return wrong;
}

function formatMismatches(mismatches: Map<string, number>): string {
  return [...mismatches].map(([k, n]) => `${n}x ${k}`).join('; ');
}

function describeShortfall(fleet: ClientFleet, plan: FanoutPlan, mismatches: Map<string, number>): string {
  const wrong = socketsWithWrongCount(fleet, plan);
  const answers = mismatches.size ? `; push answers: ${formatMismatches(mismatches)}` : '';
  return `${wrong.length} of ${plan.sockets} sockets are short (first: ${wrong.slice(0, 3).join(', ') || 'none'})${answers}`;
}
