/**
 * A cluster for a test: three in-process nodes on one broker, either the embedded
 * one (hosted by node a, the others connect to it) or a real Mosquitto started with
 * the project's mosquitto.conf.
 */
import { freePort } from '../support/process.ts';
import { startNode, type TestNode } from '../support/node.ts';
import { eventually } from '../support/client.ts';
import { MOSQUITTO_NODE_ACCOUNTS, MOSQUITTO_NODE_PASSWORD, MOSQUITTO_NODE_USER, startMosquitto, type BrokerProcess } from '../support/broker.ts';

export type BrokerKind = 'embedded' | 'mosquitto';

export interface TestCluster {
  nodes: Record<'a' | 'b' | 'c', TestNode>;
  broker?: BrokerProcess;
  stop(): Promise<void>;
}

function account(i: number): string[] {
  const { username, password } = MOSQUITTO_NODE_ACCOUNTS[i];
  return ['--cluster.username', username, '--cluster.password', password];
}

export async function startCluster(kind: BrokerKind, flags: string[] = []): Promise<TestCluster> {
  // Mosquitto's ACL (the project's example) allows `wsmesh/internal/#`: use that name there;
  // each test has a broker of its own anyway.
  const name = kind === 'mosquitto' ? 'wsmesh' : `t${Math.random().toString(36).slice(2, 8)}`;
  const common = ['--cluster.name', name, '--cluster.keepalive', '2', ...flags];
  let broker: BrokerProcess | undefined;
  let a: TestNode;
  let url: string;
  if (kind === 'embedded') {
    // Node a hosts the broker; every node presents the same account, which is the one it accepts.
    common.push('--cluster.username', MOSQUITTO_NODE_USER, '--cluster.password', MOSQUITTO_NODE_PASSWORD);
    const port = await freePort();
    a = await startNode(['--node-id', 'a', '--route', 'A', '--broker', 'embedded', '--broker-port', String(port), ...common]);
    url = `mqtt://127.0.0.1:${port}`;
  } else {
    broker = await startMosquitto();
    url = broker.url;
    // One broker account per node, as docs/cluster.md sets them up.
    a = await startNode(['--node-id', 'a', '--route', 'A', '--broker', url, ...common, ...account(0)]);
  }
  const b = await startNode(['--node-id', 'b', '--route', 'B', '--broker', url, ...common, ...(kind === 'mosquitto' ? account(1) : [])]);
  const c = await startNode(['--node-id', 'c', '--route', 'C', '--broker', url, ...common, ...(kind === 'mosquitto' ? account(2) : [])]);
  const nodes = { a, b, c };
  // Every node sees the two others online before the test starts.
  await eventually(() => Object.values(nodes).every((n) => n.node.cluster!.view.liveNodes().length === 2), 'three nodes to see each other', 5000);
  return {
    nodes,
    broker,
    async stop() {
      await Promise.all([c.stop(), b.stop()]);
      await a.stop();
      await broker?.stop();
    },
  };
}

/** Waits until every node's registry shows `count` sockets of the user on other nodes combined with its own. */
export async function registrySettled(cluster: TestCluster, contextId: number, userId: number, count: number): Promise<void> {
  await eventually(
    () => Object.values(cluster.nodes).every((n) => n.node.cluster!.view.countOfUser(contextId, userId) + n.node.index.countOfUser(contextId, userId) === count),
    `every node to see ${count} sockets of ${contextId}:${userId}`,
    3000,
  );
}
