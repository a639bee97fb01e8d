/**
 * The soak's steady mix on a node pair, with its counts:
 *
 * - clients: `clients` of them open at all times, each a login and one socket. Client
 *   i logs in on A or B in turn, opens its socket on the same node or (every other
 *   one) on the other, raw `/ws` or Socket.IO in turn. It is counted as a receiver of
 *   pushes ("armed") only once both nodes list its connection: before that a push
 *   from the other node may rightly not know it yet.
 * - churn: `churn` clients a minute, the oldest first, are retired (no more pushes
 *   for them; wait until every push meant for them arrived, counting the missing as
 *   lost; then a close of the socket and a logout, or a logout that closes it with
 *   4401, in turn) and replaced by a new one.
 * - pushes: `rate` a second, `POST /api/push` on A or B in turn, to a random user,
 *   with an id of their own: each armed socket of the user must receive it once.
 * - reloads: every `reloadEvery` seconds (reloads.ts).
 */
import type { NodePair, PairNode } from '../lib/node-pair.ts';
import { PASSWORD, CONTEXT_ID, type BenchUser } from '../lib/directory.ts';
import { LOGIN_PATH } from '../lib/targets.ts';
import { sleep } from '../lib/pool.ts';
import { SoakClient, type ClientEvents, type SocketKind } from './client.ts';
import type { Reloads } from './reloads.ts';
import type { DriverCounts } from './verdict.ts';

/** How long a retired client waits for the pushes meant for it (cross-node coalescing holds them up to a second or two). */
const DRAIN_TIMEOUT_MS = 15_000;
/** How long a new socket may take to show up in both nodes' listings. */
const ARM_TIMEOUT_MS = 15_000;
const ARM_POLL_MS = 100;
/** Push requests in flight beyond which the node is not keeping up: an error, the tick is skipped. */
const MAX_PUSHES_IN_FLIGHT = 200;
/** Error messages kept for the summary (all are counted). */
const KEPT_ERRORS = 20;

export interface DriverSetup {
  pair: NodePair;
  users: readonly BenchUser[];
  clients: number;
  churn: number;
  rate: number;
  reloadEvery: number;
  reloads: Reloads;
  configFiles: Record<'A' | 'B', string>;
  log: (line: string) => void;
}

export class Driver {
  readonly counts: DriverCounts = { connects: 0, disconnects: 0, logins: 0, logouts: 0, pushes: 0, expected: 0, received: 0, lost: 0, duplicates: 0, reloads: 0, errors: 0 };
  readonly errorMessages: string[] = [];
  /** Open clients, oldest first. */
  private readonly open: SoakClient[] = [];
  private readonly armed = new Map<number, Set<SoakClient>>();
  private readonly tasks = new Set<Promise<void>>();
  private readonly timers: NodeJS.Timeout[] = [];
  /** The node each client logged in on (where it logs out). */
  private readonly loginNodes = new Map<SoakClient, PairNode>();
  private serial = 0;
  private retired = 0;
  private pushSerial = 0;
  private pushesInFlight = 0;
  private reloading = false;
  private readonly events: ClientEvents = {
    frame: (kind) => {
      if (kind === 'expected') this.counts.received++;
      if (kind === 'duplicate') this.counts.duplicates++;
    },
    error: (message) => this.fail(message),
  };

  constructor(private readonly setup: DriverSetup) {}

  /** Opens the clients, a few at a time; throws if one fails (nothing to soak). */
  async warmUp(): Promise<void> {
    const { clients, log } = this.setup;
    for (let i = 0; i < clients; i += 4) {
      await Promise.all(Array.from({ length: Math.min(4, clients - i) }, () => this.spawn(true)));
    }
    log(`warm-up: ${this.open.length} clients open (${this.open.filter((c) => c.kind === 'ws').length} raw /ws, ${this.open.filter((c) => c.kind === 'sio').length} Socket.IO)`);
  }

  /** Starts the pushes, the churn and the reloads. */
  start(): void {
    const { rate, churn, reloadEvery } = this.setup;
    if (rate > 0) this.timers.push(setInterval(() => this.pushOne(), 1000 / rate));
    if (churn > 0) this.timers.push(setInterval(() => this.track(this.replaceOldest()), 60_000 / churn));
    this.timers.push(setInterval(() => this.track(this.reloadOnce()), reloadEvery * 1000));
  }

  /** Stops the mix, waits for what is under way, then retires every client (their pushes drained). */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    while (this.tasks.size) await Promise.allSettled([...this.tasks]);
    const remaining = this.open.splice(0);
    await Promise.all(remaining.map((client) => this.retire(client)));
  }

  private track(task: Promise<void>): void {
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
  }

  private fail(message: string): void {
    this.counts.errors++;
    if (this.errorMessages.length < KEPT_ERRORS) {
      this.errorMessages.push(message);
      this.setup.log(`error: ${message}`);
    }
  }

  private pushOne(): void {
    if (this.pushesInFlight >= MAX_PUSHES_IN_FLIGHT) return this.fail(`${this.pushesInFlight} push requests in flight: a push tick skipped`);
    const { pair, users } = this.setup;
    const seq = ++this.pushSerial;
    const node = seq % 2 ? pair.a : pair.b;
    const user = users[Math.floor(Math.random() * users.length)];
    const id = `soak-${seq}`;
    const receivers = [...(this.armed.get(user.id) ?? [])];
    for (const client of receivers) client.expect(id);
    this.pushesInFlight++;
    this.track(
      pair
        .push(node, { id, contextId: CONTEXT_ID, userId: user.id, message: id })
        .then(() => {
          this.counts.pushes++;
          this.counts.expected += receivers.length;
        })
        .catch((error: Error) => {
          for (const client of receivers) client.unexpect(id);
          this.fail(error.message);
        })
        .finally(() => this.pushesInFlight--),
    );
  }

  private async replaceOldest(): Promise<void> {
    const oldest = this.open.shift();
    await Promise.all([oldest ? this.retire(oldest) : undefined, this.spawn(false)]);
  }

  private async reloadOnce(): Promise<void> {
    if (this.reloading) return;
    this.reloading = true;
    const { pair, reloads, configFiles } = this.setup;
    try {
      await reloads.reload([pair.a, pair.b].map((node) => ({ name: node.name, base: node.child.baseUrl, configFile: configFiles[node.name as 'A' | 'B'] })));
      this.counts.reloads++;
    } catch (error) {
      this.fail(`reload: ${(error as Error).message}`);
    } finally {
      this.reloading = false;
    }
  }

  /** A new client: login, socket, armed once both nodes list it. `strict`: a failure throws (the warm-up). */
  private async spawn(strict: boolean): Promise<void> {
    const { pair, users } = this.setup;
    const i = this.serial++;
    const user = users[i % users.length];
    const loginNode = i % 2 ? pair.b : pair.a;
    // Pairs of clients: one socket on the login's node, one on the other (the session replicated).
    const socketNode = Math.floor(i / 2) % 2 ? other(pair, loginNode) : loginNode;
    const kind: SocketKind = Math.floor(i / 4) % 2 ? 'sio' : 'ws';
    try {
      const res = await loginNode.http.request({ method: 'POST', path: LOGIN_PATH, body: { login: user.login, password: PASSWORD } });
      const session = (res.body as { session?: unknown } | undefined)?.session;
      if (res.status !== 200 || typeof session !== 'string') throw new Error(`login of ${user.login} on node ${loginNode.name} answered HTTP ${res.status} ${JSON.stringify(res.body)}`);
      this.counts.logins++;
      const login = { session, cookie: res.cookie };
      if (socketNode !== loginNode) await pair.sessionKnown(socketNode, login);
      const client = new SoakClient(`soak-${i}`, user.id, kind, socketNode.child.baseUrl, login, this.events);
      this.loginNodes.set(client, loginNode);
      await client.open();
      this.counts.connects++;
      this.open.push(client);
      await this.arm(client, other(pair, socketNode));
    } catch (error) {
      if (strict) throw error;
      this.fail(`client soak-${i} (${kind}, user ${user.id}): ${(error as Error).message}`);
    }
  }

  /** Waits until `node` (the one without the socket) lists the connection, then counts the client as a receiver. */
  private async arm(client: SoakClient, node: PairNode): Promise<void> {
    const deadline = Date.now() + ARM_TIMEOUT_MS;
    while (!(await this.setup.pair.clusterSockets(node, client.userId)).includes(client.connectionId)) {
      if (Date.now() > deadline) throw new Error(`node ${node.name} did not list connection ${client.connectionId} within ${ARM_TIMEOUT_MS} ms`);
      await sleep(ARM_POLL_MS);
    }
    // Retired while arming: never a receiver.
    if (!this.open.includes(client)) return;
    let set = this.armed.get(client.userId);
    if (!set) this.armed.set(client.userId, (set = new Set()));
    set.add(client);
  }

  /** No more pushes for it; wait for those meant for it; close it or log it out, in turn. */
  private async retire(client: SoakClient): Promise<void> {
    const index = this.open.indexOf(client);
    if (index >= 0) this.open.splice(index, 1);
    const set = this.armed.get(client.userId);
    set?.delete(client);
    if (set?.size === 0) this.armed.delete(client.userId);
    const missing = await client.drained(DRAIN_TIMEOUT_MS);
    if (missing > 0) {
      this.counts.lost += missing;
      this.fail(`connection ${client.connectionId} (${client.kind}): ${missing} pushes never arrived (${[...client.expected].slice(0, 5).join(', ')})`);
    }
    const loginNode = this.loginNodes.get(client)!;
    this.loginNodes.delete(client);
    try {
      if (this.retired++ % 2) {
        // A logout: the server closes the socket (4401; Socket.IO: session:invalid, then a disconnect).
        client.expectLogoutClose();
        await this.logout(loginNode, client);
        await client.closed();
      } else {
        await client.close();
        await this.logout(loginNode, client);
      }
      this.counts.disconnects++;
    } catch (error) {
      this.fail(`retiring ${client.connectionId}: ${(error as Error).message}`);
      await client.close();
    }
  }

  private async logout(node: PairNode, client: SoakClient): Promise<void> {
    const res = await node.http.request({ method: 'POST', path: `/api/logout?session=${encodeURIComponent(client.login.session)}`, headers: { cookie: client.login.cookie } });
    if (res.status !== 204) throw new Error(`logout on node ${node.name} answered HTTP ${res.status} ${JSON.stringify(res.body)}`);
    this.counts.logouts++;
  }
}

function other(pair: NodePair, node: PairNode): PairNode {
  return node === pair.a ? pair.b : pair.a;
}
