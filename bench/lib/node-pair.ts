/**
 * Two wsmesh nodes as child processes forming one cluster: A hosts the embedded MQTT
 * broker and B connects to it, or both connect to an external broker (`broker`). Both share the session signing keys (a cookie signed on
 * A is accepted on B) and the admin token; each gets its own extra flags.
 * Also: the admin stats both nodes answer, and waits for the cluster to converge
 * (nodes see each other, a session replicated to B, B's sockets known on A).
 */
import { randomBytes } from 'node:crypto';
import { freePort, ServerChild } from './children.ts';
import { JsonClient } from './http.ts';
import type { LoggedIn } from './load.ts';
import { sleep } from './pool.ts';
import { wsmesh } from './targets.ts';

const CONVERGE_TIMEOUT_MS = 15_000;
const POLL_MS = 50;

/** The part of `GET /api/admin/stats` the benches read. */
export interface AdminStats {
  nodes: number;
  sockets: { local: number; cluster: number };
  bufferedMessages: number;
  counters: {
    messages: { delivered: number; dropped: Record<string, number> };
    remote: { publishes: number; sent: number; received: number };
    /** MQTT ingress (absent on a wsmesh from before it). */
    ingress?: { received: number; written: number; dropped: Record<string, number> };
    /** What the embedded broker refused its clients, by action (absent before it existed). */
    brokerRefused?: Record<string, number>;
  };
}

export interface PairSetup {
  repoRoot: string;
  directoryFile: string;
  /** Flags for A only, and for B only (e.g. `--websockets.remote.delayDuration 0`). */
  flagsA?: string[];
  flagsB?: string[];
  /** Requests in flight on each node's client. */
  maxSockets: number;
  log: (line: string) => void;
  /** Registers a cleanup step, run even when the bench fails. */
  onCleanup: (step: () => Promise<void> | void) => void;
  /** An external broker both nodes connect to; without it A hosts the embedded one. */
  broker?: ExternalBroker;
  /** Node (not wsmesh) arguments of each node, before its entry point: e.g. `--inspect=127.0.0.1:<port>`. */
  nodeArgs?: (name: 'A' | 'B') => string[];
}

/** Where the nodes of a pair find an external broker, and the flags each needs for it. */
export interface ExternalBroker {
  /** What the log says: e.g. "mosquitto on 127.0.0.1:1883". */
  describe: string;
  /** `cluster.broker` of A and of B (one URL, or a comma-separated server list). */
  urlA: string;
  urlB: string;
  /** Its permissions may name the cluster (Mosquitto's ACL, NATS's subjects). */
  clusterName: string;
  /** Account and other flags of A and of B (e.g. `--cluster.username`, `--cluster.keepalive`). */
  flagsA: string[];
  flagsB: string[];
}

/** One node of the pair: its process and a keep-alive client to its HTTP port. */
export interface PairNode {
  name: string;
  child: ServerChild;
  http: JsonClient;
}

export class NodePair {
  private constructor(
    readonly a: PairNode,
    readonly b: PairNode,
    /** Where the broker is, for the log. */
    readonly brokerWhere: string,
    /** `cluster.name` of both nodes: the first level of every topic (the ingress topics included). */
    readonly clusterName: string,
    /** `mqtt://127.0.0.1:<port>` of the broker embedded in A; undefined on an external broker. */
    readonly embeddedBrokerUrl: string | undefined,
    private readonly adminToken: string,
  ) {}

  /** Starts A (with the broker), then B, and waits until each sees the other online. */
  static async start(setup: PairSetup): Promise<NodePair> {
    const adminToken = randomBytes(24).toString('base64url');
    const sessionKeys = randomBytes(24).toString('base64url');
    const external = setup.broker;
    // A cluster name of its own: the topics of an earlier (killed) run cannot leak in
    // (an external broker's permissions name the cluster; each run starts a new broker).
    const clusterName = external?.clusterName ?? `bench-${randomBytes(4).toString('hex')}`;
    const common = ['--session.keys', sessionKeys, '--cluster.name', clusterName];
    let brokerA: string[];
    let brokerB: string[];
    let where: string;
    let embeddedUrl: string | undefined;
    if (external) {
      brokerA = ['--broker', external.urlA, ...external.flagsA];
      brokerB = ['--broker', external.urlB, ...external.flagsB];
      where = external.describe;
    } else {
      // A hosts the embedded broker, which accepts only its own account: B presents the same one.
      const account = ['--cluster.username', 'bench-node', '--cluster.password', randomBytes(18).toString('base64url')];
      const brokerPort = await freePort();
      brokerA = ['--broker', 'embedded', '--broker-port', String(brokerPort), ...account];
      brokerB = ['--broker', `mqtt://127.0.0.1:${brokerPort}`, ...account];
      where = `embedded in A on port ${brokerPort}`;
      embeddedUrl = `mqtt://127.0.0.1:${brokerPort}`;
    }
    const a = await startNode('A', setup, adminToken, ['--node-id', 'A', '--route', 'A', ...brokerA, ...common, ...(setup.flagsA ?? [])]);
    const b = await startNode('B', setup, adminToken, ['--node-id', 'B', '--route', 'B', ...brokerB, ...common, ...(setup.flagsB ?? [])]);
    const pair = new NodePair(a, b, where, clusterName, embeddedUrl, adminToken);
    await pair.until('A and B to see each other online', async () => (await pair.stats(a)).nodes === 2 && (await pair.stats(b)).nodes === 2);
    return pair;
  }

  async stats(node: PairNode): Promise<AdminStats> {
    const res = await node.http.request({ method: 'GET', path: '/api/admin/stats', headers: { authorization: `Bearer ${this.adminToken}` } });
    if (res.status !== 200) throw new Error(`node ${node.name}: GET /api/admin/stats answered HTTP ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as AdminStats;
  }

  /** The connection ids of `userId`'s sockets on every node, as `node` knows them (`GET /api/admin/sockets?scope=cluster`). */
  async clusterSockets(node: PairNode, userId: number): Promise<string[]> {
    const res = await node.http.request({ method: 'GET', path: `/api/admin/sockets?scope=cluster&userId=${userId}`, headers: { authorization: `Bearer ${this.adminToken}` } });
    if (res.status !== 200) throw new Error(`node ${node.name}: GET /api/admin/sockets answered HTTP ${res.status} ${JSON.stringify(res.body)}`);
    return (res.body as Array<{ connectionId: string }>).map((row) => row.connectionId);
  }

  /** `POST /api/push` on `node`; resolves with the answer's body, throws unless 202. */
  async push(node: PairNode, body: { id?: string; contextId: number; userId: number; message: string; pathFilter?: string }): Promise<{ local: number; remote: number }> {
    const res = await node.http.request({ method: 'POST', path: '/api/push', headers: { authorization: `Bearer ${this.adminToken}` }, body });
    if (res.status !== 202) throw new Error(`node ${node.name}: push to user ${body.userId} answered HTTP ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as { local: number; remote: number };
  }

  /** Waits until `GET /api/session` on `node` accepts the login (its session replicated there). */
  async sessionKnown(node: PairNode, login: LoggedIn): Promise<void> {
    let last = '';
    await this.until(() => `session ${login.session.slice(0, 8)}... to be known on node ${node.name} (last answer: ${last})`, async () => {
      const res = await node.http.request({ method: 'GET', path: `/api/session?session=${encodeURIComponent(login.session)}`, headers: { cookie: login.cookie } });
      last = `HTTP ${res.status} ${JSON.stringify(res.body)}`;
      return res.status === 200;
    });
  }

  /** Polls `check` until it holds; throws after the convergence timeout, with the nodes' exit reasons. */
  async until(what: string | (() => string), check: () => Promise<boolean>, timeoutMs = CONVERGE_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const describe = () => (typeof what === 'string' ? what : what());
    for (;;) {
      if (await check()) return;
      for (const node of [this.a, this.b]) {
        const exit = node.child.exitReason();
        if (exit) throw new Error(`node ${node.name} exited (${exit}) while waiting for ${describe()}\n${node.child.output()}`);
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${describe()}`);
      await sleep(POLL_MS);
    }
  }

  /** `error`, with the exit reason and last output of any node that died (a reset socket is often seen before the exit). */
  async explain(error: unknown): Promise<Error> {
    const exits: string[] = [];
    for (const node of [this.a, this.b]) {
      const exit = await node.child.exitReasonWithin(1000);
      if (exit) exits.push(`\n  node ${node.name} exited (${exit})\n${node.child.output()}`);
    }
    const message = error instanceof Error ? error.message : String(error);
    return exits.length ? new Error(message + exits.join(''), { cause: error }) : error instanceof Error ? error : new Error(message);
  }

  /** Stops B, then A (the broker's host). Idempotent. */
  async stop(): Promise<void> {
    for (const node of [this.b, this.a]) {
      node.http.close();
      await node.child.stop();
    }
  }
}

async function startNode(name: 'A' | 'B', setup: PairSetup, adminToken: string, flags: string[]): Promise<PairNode> {
  const port = await freePort();
  const spec = wsmesh.serverSpec({ port, directoryFile: setup.directoryFile, adminToken, repoRoot: setup.repoRoot });
  setup.log(`node ${name}: starting on port ${port}: ${flags.join(' ').replace(/(--session\.keys|--cluster\.password) \S+/g, '$1 ***')}`);
  const child = await ServerChild.start({ ...spec, name: `wsmesh node ${name}`, args: [...(setup.nodeArgs?.(name) ?? []), ...spec.args, ...flags] });
  const node: PairNode = { name, child, http: new JsonClient(child.baseUrl, setup.maxSockets) };
  setup.onCleanup(async () => {
    node.http.close();
    await child.stop();
  });
  setup.log(`node ${name}: up (pid ${child.pid})`);
  return node;
}
