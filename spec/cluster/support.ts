/**
 * A cluster for a test: three in-process nodes on one broker: the embedded one
 * (hosted by node a, the others connect to it), a real Mosquitto started with the
 * project's mosquitto.conf, or a real 3-server NATS cluster started from
 * config/nats/, each node on a different server (a on nats-1, b on nats-2, c on
 * nats-3) with the others as its failover list.
 */
import type { Accounts } from '../../src/mqtt/accounts.ts';
import { freePort } from '../support/process.ts';
import { startNode, type TestNode } from '../support/node.ts';
import { eventually } from '../support/client.ts';
import { hasMosquitto, MOSQUITTO_NODE_ACCOUNTS, MOSQUITTO_NODE_PASSWORD, MOSQUITTO_NODE_USER, startMosquitto, type BrokerProcess } from '../support/broker.ts';
import { requireBinary } from '../support/binaries.ts';
import { startNatsCluster, type NatsCluster } from '../support/nats.ts';

export type BrokerKind = 'embedded' | 'mosquitto' | 'nats';

/** Every broker the cluster suites run on. */
export const BROKER_KINDS: BrokerKind[] = ['embedded', 'mosquitto', 'nats'];

/**
 * For a suite's `before` hook: skips a suite whose broker binary is missing, or
 * fails under CI (a missing broker must never pass silently).
 */
export function requireBroker(ctx: Mocha.Context, kind: BrokerKind): void {
  const binary = kind === 'mosquitto' ? (hasMosquitto() ? undefined : 'mosquitto') : kind === 'nats' ? 'nats-server' : undefined;
  if (binary === undefined || requireBinary(binary)) return; // requireBinary throws under CI
  process.stderr.write(`      skipped: ${binary} is not installed (apt-get install ${binary})\n`);
  ctx.skip();
}

export interface TestCluster {
  nodes: Record<'a' | 'b' | 'c', TestNode>;
  broker?: BrokerProcess;
  /** On `nats`: the three servers. */
  nats?: NatsCluster;
  stop(): Promise<void>;
}

function account(i: number): string[] {
  const { username, password } = MOSQUITTO_NODE_ACCOUNTS[i];
  return ['--cluster.username', username, '--cluster.password', password];
}

/**
 * Starts three nodes on a broker of `kind`. On `nats`, pass `shared.nats` to reuse a
 * NATS cluster the suite started (starting one takes seconds); it is then left
 * running by `stop()`. The nodes use cluster.name `wsmesh` there (the example
 * permissions), and every node leaves the broker clean when it stops.
 */
/** The device account every broker of startCluster admits (the example ACLs' `device-1`; on embedded, from `DEVICE_ACCOUNTS`). */
export const TEST_DEVICE = { username: 'device-1', password: 'device-1-password' } as const;

export async function startCluster(
  kind: BrokerKind,
  flags: string[] = [],
  shared: { nats?: NatsCluster; logs?: Partial<Record<'a' | 'b' | 'c', string[]>>; accounts?: Accounts } = {},
): Promise<TestCluster> {
  // Mosquitto's ACL (the project's example) allows `wsmesh/internal/#`: use that name there;
  // each test has a broker of its own anyway.
  // So does the NATS example's (subjects `wsmesh.internal.>`).
  const name = kind === 'embedded' ? `t${Math.random().toString(36).slice(2, 8)}` : 'wsmesh';
  // A short keepalive finds a dead link fast. Not on NATS: it answers a PINGREQ only
  // after the SUBSCRIBE before it, and creating the JetStream consumers of a node's
  // subscriptions takes seconds (config/nats/README.md).
  // On NATS, cluster.syncTimeout 5000 and cluster.fastPath on, as docs/cluster.md
  // advises: under load a record it held back came later than the default 2 s, and
  // its JetStream path alone lost deliveries when a server died.
  // And mqtt.ingressQos 0, as docs/iot.md advises for NATS 2.9.10: at QoS 1 each user's
  // ingress filter is two JetStream consumers more per first socket (about 1 s here).
  const common = [
    '--cluster.name',
    name,
    '--cluster.keepalive',
    kind === 'nats' ? '10' : '2',
    ...(kind === 'nats' ? ['--cluster.syncTimeout', '5000', '--cluster.fastPath', 'true', '--mqtt.ingressQos', '0'] : []),
    ...flags,
  ];
  let broker: BrokerProcess | undefined;
  let nats: NatsCluster | undefined;
  let a: TestNode;
  const urls: string[] = [];
  if (kind === 'embedded') {
    // Node a hosts the broker; every node presents the same account, which is the one it accepts.
    common.push('--cluster.username', MOSQUITTO_NODE_USER, '--cluster.password', MOSQUITTO_NODE_PASSWORD);
    const port = await freePort();
    a = await startNode(['--node-id', 'a', '--route', 'A', '--broker', 'embedded', '--broker-port', String(port), ...common], { logs: shared.logs?.a, accounts: shared.accounts });
    urls.push(...Array(3).fill(`mqtt://127.0.0.1:${port}`));
  } else {
    if (kind === 'mosquitto') {
      broker = await startMosquitto({ users: { [TEST_DEVICE.username]: TEST_DEVICE.password } });
      urls.push(...Array(3).fill(broker.url));
    } else {
      nats = shared.nats ?? (await startNatsCluster());
      urls.push(...[0, 1, 2].map((i) => nats!.brokerSetting(i)));
    }
    // One broker account per node, as docs/cluster.md sets them up.
    a = await startNode(['--node-id', 'a', '--route', 'A', '--broker', urls[0], ...common, ...account(0)], { logs: shared.logs?.a });
  }
  const own = (i: number) => (kind === 'embedded' ? [] : account(i));
  const started: TestNode[] = [a];
  const stopAll = async () => {
    await Promise.all(started.filter((n) => n !== a).map((n) => n.stop()));
    await a.stop();
    await broker?.stop();
    if (!shared.nats) await nats?.stop();
  };
  try {
    // allSettled: a node that did start while the other failed is stopped too.
    const settled = await Promise.allSettled([
      startNode(['--node-id', 'b', '--route', 'B', '--broker', urls[1], ...common, ...own(1)], { logs: shared.logs?.b }),
      startNode(['--node-id', 'c', '--route', 'C', '--broker', urls[2], ...common, ...own(2)], { logs: shared.logs?.c }),
    ]);
    for (const s of settled) if (s.status === 'fulfilled') started.push(s.value);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const [b, c] = started.slice(1);
    const nodes = { a, b, c };
    // Every node sees the two others online before the test starts. On NATS each
    // node first creates a JetStream consumer per subscription (hundreds of ms each).
    // On NATS, 60 s: a JetStream cluster just started, on a loaded 2-core machine, once took
    // more than 30 s to serve a node's consumers (CI of 3bc5c70). The error says who saw whom.
    await eventually(() => Object.values(nodes).every((n) => n.node.cluster!.view.liveNodes().length === 2), 'three nodes to see each other', kind === 'nats' ? 60_000 : 5000).catch((error: Error) => {
      const seen = Object.entries(nodes).map(([id, n]) => `${id} sees [${n.node.cluster!.view.liveNodes().map((p) => p.id).join(',')}], links ${n.node.link?.state}/${n.node.control?.state}`);
      throw new Error(`${error.message}: ${seen.join('; ')}`);
    });
    return { nodes, broker, nats, stop: stopAll };
  } catch (err) {
    // A cluster that did not come up must not outlive its test (mocha waits for every handle).
    await stopAll().catch(() => undefined);
    throw err;
  }
}

/** Waits until every node's registry shows `count` sockets of the user on other nodes combined with its own. */
export async function registrySettled(cluster: TestCluster, contextId: number, userId: number, count: number): Promise<void> {
  await eventually(
    () => Object.values(cluster.nodes).every((n) => n.node.cluster!.view.countOfUser(contextId, userId) + n.node.index.countOfUser(contextId, userId) === count),
    `every node to see ${count} sockets of ${contextId}:${userId}`,
    // On NATS a registry publish waits behind the SUBSCRIBE of the user's topics on the
    // same connection, and each QoS 1 filter there is a JetStream consumer made (the
    // delivery topic and the ingress filter: 0.3-0.6 s each on this host).
    cluster.nats ? 10_000 : 3000,
  );
}

/** Two nodes, a (hosting the embedded broker) and b, that see each other online. */
export interface TestPair {
  nodes: Record<'a' | 'b', TestNode>;
  stop(): Promise<void>;
}

/** Starts nodes a and b on node a's embedded broker (as startCluster does, without c). */
export async function startPair(flags: string[] = []): Promise<TestPair> {
  const port = await freePort();
  const common = [
    '--cluster.name', `t${Math.random().toString(36).slice(2, 8)}`,
    '--cluster.keepalive', '2',
    '--cluster.username', MOSQUITTO_NODE_USER,
    '--cluster.password', MOSQUITTO_NODE_PASSWORD,
    ...flags,
  ];
  const a = await startNode(['--node-id', 'a', '--route', 'A', '--broker', 'embedded', '--broker-port', String(port), ...common]);
  let b: TestNode | undefined;
  const stop = async () => {
    await b?.stop();
    await a.stop();
  };
  try {
    b = await startNode(['--node-id', 'b', '--route', 'B', '--broker', `mqtt://127.0.0.1:${port}`, ...common]);
    const nodes = { a, b };
    await eventually(() => Object.values(nodes).every((n) => n.node.cluster!.view.liveNodes().length === 1), 'a and b to see each other', 5000);
    return { nodes, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
