/**
 * The brokers the ACL matrix (spec/mqtt/acl-matrix.spec.ts) runs against, each
 * started with the files `wsmesh broker acl` generates for a set of accounts. One
 * entry per broker: another (the embedded broker enforcing grants.ts itself) is one
 * more entry in ACL_BROKERS.
 */
import type { Accounts } from '../../src/mqtt/accounts.ts';
import { generateMosquittoFiles } from '../../src/mqtt/mosquitto-acl.ts';
import { generateNatsAuthorization } from '../../src/mqtt/nats-authorization.ts';
import { startEmbeddedBroker } from '../../src/cluster/embedded-broker.ts';
import { startMosquitto } from './broker.ts';
import { startNatsCluster } from './nats.ts';

export interface AclSetup {
  accounts: Accounts;
  /** id -> clear password, for every account. */
  passwords: ReadonlyMap<string, string>;
  /** cluster.name: the first topic level. */
  root: string;
}

export interface RunningBroker {
  /** Where publishers connect. */
  url: string;
  /** Where subscribers connect: another server of a clustered broker (a grant then also holds across servers), else `url`. */
  peerUrl: string;
  /** What the broker printed, for a failing row's message. */
  output(): string[];
  stop(): Promise<void>;
}

export interface AclBroker {
  name: string;
  /** Without them the matrix skips the broker (fails under CI). */
  binaries: readonly string[];
  start(setup: AclSetup): Promise<RunningBroker>;
}

/** A node account and its password: a broker's readiness probe needs one that may hold a session. */
function nodeAccount({ accounts, passwords }: AclSetup): { username: string; password: string } {
  const node = [...accounts.byId.values()].find((account) => account.kind === 'node');
  if (!node) throw new Error('the ACL matrix needs a node account');
  return { username: node.id, password: passwords.get(node.id)! };
}

const mosquitto: AclBroker = {
  name: 'mosquitto',
  binaries: ['mosquitto'],
  async start(setup) {
    const files = generateMosquittoFiles(setup.accounts, setup.root, setup.passwords);
    const broker = await startMosquitto({ files: { ...files, account: nodeAccount(setup) } });
    return { url: broker.url, peerUrl: broker.url, output: () => broker.output, stop: async () => void (await broker.stop()) };
  },
};

const nats: AclBroker = {
  name: 'nats',
  binaries: ['nats-server'],
  async start(setup) {
    const conf = await generateNatsAuthorization(setup.accounts, setup.root, setup.passwords);
    const cluster = await startNatsCluster({ accounts: { conf, account: nodeAccount(setup) } });
    return {
      url: cluster.servers[0].url,
      peerUrl: cluster.servers[2].url,
      output: () => cluster.servers.flatMap((server) => server.output.map((line) => `${server.name}: ${line}`)),
      stop: () => cluster.stop(),
    };
  },
};

/**
 * The embedded broker enforcing the same accounts itself (mqtt/broker-guard.ts), as
 * `wsmesh broker --accounts-file F --cluster-name R` runs it: the grants only, no user
 * directory behind it (a node hosting it also checks ingress against its directory,
 * spec/mqtt/ingress.spec.ts).
 */
const embedded: AclBroker = {
  name: 'embedded',
  binaries: [],
  async start(setup) {
    const broker = await startEmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      allowAnonymous: false,
      guard: { root: setup.root, restrictNodePair: true, accounts: () => setup.accounts },
    });
    return { url: broker.url, peerUrl: broker.url, output: () => [], stop: () => broker.close() };
  },
};

export const ACL_BROKERS: readonly AclBroker[] = [embedded, mosquitto, nats];
