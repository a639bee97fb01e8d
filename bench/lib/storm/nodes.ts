/**
 * The nodes of a storm: A alone on its embedded broker, or A (hosting the broker)
 * and B, sharing session keys and the admin token; each with a kept-alive admin
 * client. From dist/ (built) or from src/ through tsx.
 */
import { randomBytes } from 'node:crypto';
import { freePort, ServerChild } from '../children.ts';
import { JsonClient, type JsonRequest } from '../http.ts';
import { sleep } from '../pool.ts';
import { wsmesh } from '../targets.ts';

const CONVERGE_TIMEOUT_MS = 20_000;

export interface StormNode {
  name: string;
  port: number;
  child: ServerChild;
  /** One connection: the readings are sequential and never compete with the storm's sockets for a slot. */
  admin: JsonClient;
}

export interface NodesSetup {
  count: number;
  repoRoot: string;
  directoryFile: string;
  fromSource: boolean;
  log: (line: string) => void;
  onCleanup: (step: () => Promise<void> | void) => void;
}

export class StormNodes {
  private constructor(
    readonly nodes: StormNode[],
    readonly adminToken: string,
  ) {}

  static async start(setup: NodesSetup): Promise<StormNodes> {
    const adminToken = randomBytes(24).toString('base64url');
    const brokerPort = await freePort();
    const account = ['--cluster.username', 'storm-node', '--cluster.password', randomBytes(18).toString('base64url')];
    const common = ['--session.keys', randomBytes(24).toString('base64url'), '--cluster.name', `storm-${randomBytes(4).toString('hex')}`, ...account];
    const flags = [
      ['--node-id', 'A', '--route', 'A', '--broker', 'embedded', '--broker-port', String(brokerPort), ...common],
      ['--node-id', 'B', '--route', 'B', '--broker', `mqtt://127.0.0.1:${brokerPort}`, ...common],
    ];
    const nodes: StormNode[] = [];
    for (let i = 0; i < setup.count; i++) nodes.push(await startNode(['A', 'B'][i], setup, adminToken, flags[i]));
    const cluster = new StormNodes(nodes, adminToken);
    await cluster.until(`the ${setup.count} node(s) to see each other`, async () => {
      for (const node of nodes) if ((await cluster.get<{ nodes: number }>(node, '/api/admin/stats')).nodes !== setup.count) return false;
      return true;
    });
    return cluster;
  }

  get a(): StormNode {
    return this.nodes[0];
  }

  /** `GET path` with the admin token; throws unless 200. */
  async get<T>(node: StormNode, path: string): Promise<T> {
    const res = await node.admin.request({ method: 'GET', path, headers: { authorization: `Bearer ${this.adminToken}` } });
    if (res.status !== 200) throw new Error(`node ${node.name}: GET ${path} answered HTTP ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as T;
  }

  request(node: StormNode, request: JsonRequest) {
    return node.admin.request({ ...request, headers: { ...request.headers, authorization: `Bearer ${this.adminToken}` } });
  }

  /** Polls `check` every 100 ms until it holds; throws after `timeoutMs`, or when a node exited. */
  async until(what: string, check: () => Promise<boolean>, timeoutMs = CONVERGE_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await check()) return;
      for (const node of this.nodes) {
        const exit = node.child.exitReason();
        if (exit) throw new Error(`node ${node.name} exited (${exit}) while waiting for ${what}\n${node.child.output()}`);
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
      await sleep(100);
    }
  }

  /** The first node that exited, as a sentence; undefined while all run. */
  exited(): string | undefined {
    for (const node of this.nodes) {
      const exit = node.child.exitReason();
      if (exit) return `node ${node.name} exited (${exit})\n${node.child.output()}`;
    }
    return undefined;
  }
}

async function startNode(name: string, setup: NodesSetup, adminToken: string, flags: string[]): Promise<StormNode> {
  const port = await freePort();
  const spec = wsmesh.serverSpec({ port, directoryFile: setup.directoryFile, adminToken, repoRoot: setup.repoRoot });
  const args = setup.fromSource ? spec.args.map((arg) => (arg === 'dist/main.js' ? ['--import', 'tsx', 'src/main.ts'] : [arg])).flat() : spec.args;
  const child = await ServerChild.start({ ...spec, name: `wsmesh node ${name}`, args: [...args, ...flags] });
  const node: StormNode = { name, port, child, admin: new JsonClient(child.baseUrl, 1) };
  setup.onCleanup(async () => {
    node.admin.close();
    await child.stop();
  });
  setup.log(`node ${name}: up on port ${port} (pid ${child.pid})`);
  return node;
}
