/**
 * The external brokers the cross-node bench runs on, started the way the test suite
 * starts them (spec/support): Mosquitto with the project's mosquitto.conf, ACL and
 * one account per node; three NATS servers with config/nats/, A on server 1 and B
 * on server 2. Each is stopped by the returned `stop` (and registered for cleanup).
 */
import { killAllBrokers, MOSQUITTO_NODE_ACCOUNTS, startMosquitto } from '../../spec/support/broker.ts';
import { startNatsCluster } from '../../spec/support/nats.ts';
import type { BenchBroker } from './cross-options.ts';
import type { ExternalBroker } from './node-pair.ts';

export interface StartedBroker {
  /** Undefined for `embedded`: A hosts it. */
  external?: ExternalBroker;
  stop(): Promise<void>;
}

const account = (i: number) => ['--cluster.username', MOSQUITTO_NODE_ACCOUNTS[i].username, '--cluster.password', MOSQUITTO_NODE_ACCOUNTS[i].password];

export async function startBenchBroker(kind: BenchBroker, log: (line: string) => void): Promise<StartedBroker> {
  if (kind === 'embedded') return { stop: async () => {} };
  if (kind === 'mosquitto') {
    const broker = await startMosquitto();
    log(`mosquitto up on ${broker.url} (mosquitto.conf, the example ACL, one account per node)`);
    return {
      external: { describe: `mosquitto on ${broker.url}`, urlA: broker.url, urlB: broker.url, clusterName: 'wsmesh', flagsA: account(0), flagsB: account(1) },
      stop: async () => {
        await broker.stop();
        await killAllBrokers();
      },
    };
  }
  log('starting 3 NATS servers (JetStream, MQTT; config/nats/): a few seconds');
  const nats = await startNatsCluster();
  log(`NATS up: ${nats.servers.map((s) => s.url).join(', ')}`);
  // As config/nats/README.md advises: keepalive 10 (NATS answers a PINGREQ only after
  // the SUBSCRIBE before it), syncTimeout 5000, and the QoS 0 fast path on
  // (WSMESH_BENCH_FASTPATH=false in the environment compares without it).
  const keepalive = ['--cluster.keepalive', '10', '--cluster.syncTimeout', '5000', '--cluster.fastPath', process.env.WSMESH_BENCH_FASTPATH ?? 'true'];
  return {
    external: {
      describe: `3 NATS servers (A on ${nats.servers[0].url}, B on ${nats.servers[1].url})`,
      urlA: nats.brokerSetting(0),
      urlB: nats.brokerSetting(1),
      clusterName: 'wsmesh',
      flagsA: [...account(0), ...keepalive],
      flagsB: [...account(1), ...keepalive],
    },
    stop: async () => {
      await nats.stop();
      await killAllBrokers();
    },
  };
}
