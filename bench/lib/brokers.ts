/**
 * The external brokers the cross-node and ingress benches run on, started the way
 * the test suite starts them (spec/support): Mosquitto with the project's
 * mosquitto.conf, ACL and one account per node, plus the example ACL's device
 * account; three NATS servers with config/nats/ (whose accounts.conf has the same
 * device account), A on server 1 and B on server 2. Each is stopped by the returned
 * `stop` (and registered for cleanup).
 */
import { killAllBrokers, MOSQUITTO_NODE_ACCOUNTS, startMosquitto } from '../../spec/support/broker.ts';
import { NATS_DEVICE, startNatsCluster } from '../../spec/support/nats.ts';
import { processCpuMs } from './children.ts';
import type { BenchBroker } from './cross-options.ts';
import type { ExternalBroker } from './node-pair.ts';

/**
 * The device account of the shipped examples: `device-1` in
 * config/mosquitto/wsmesh.acl.example (`topic write wsmesh/ingress/#`) and in
 * config/nats/accounts.conf. The embedded broker takes it from the accounts file
 * the bench writes (`mqtt.accountsFile`).
 */
export const BENCH_DEVICE = NATS_DEVICE;

export interface StartedBroker {
  /** Undefined for `embedded`: A hosts it. */
  external?: ExternalBroker;
  /** Where devices connect (device i to `deviceUrls[i % length]`); undefined for `embedded` (A's port). */
  deviceUrls?: string[];
  /** CPU time the broker's process has used so far; undefined where not measured (embedded: it is A's; NATS: three servers). */
  cpuMs(): number | undefined;
  stop(): Promise<void>;
}

const account = (i: number) => ['--cluster.username', MOSQUITTO_NODE_ACCOUNTS[i].username, '--cluster.password', MOSQUITTO_NODE_ACCOUNTS[i].password];

export async function startBenchBroker(kind: BenchBroker, log: (line: string) => void): Promise<StartedBroker> {
  if (kind === 'embedded') return { cpuMs: () => undefined, stop: async () => {} };
  if (kind === 'mosquitto') {
    const broker = await startMosquitto({ users: { [BENCH_DEVICE.username]: BENCH_DEVICE.password } });
    log(`mosquitto up on ${broker.url} (pid ${broker.pid}; mosquitto.conf, the example ACL, one account per node, device account ${BENCH_DEVICE.username})`);
    return {
      external: { describe: `mosquitto on ${broker.url}`, urlA: broker.url, urlB: broker.url, clusterName: 'wsmesh', flagsA: account(0), flagsB: account(1) },
      deviceUrls: [broker.url],
      cpuMs: () => processCpuMs(broker.pid),
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
  // Ingress at QoS 0, as docs/iot.md advises for NATS 2.9.10 (WSMESH_BENCH_INGRESS_QOS=1 compares).
  const keepalive = [
    '--cluster.keepalive',
    '10',
    '--cluster.syncTimeout',
    '5000',
    '--cluster.fastPath',
    process.env.WSMESH_BENCH_FASTPATH ?? 'true',
    '--mqtt.ingressQos',
    process.env.WSMESH_BENCH_INGRESS_QOS ?? '0',
  ];
  return {
    external: {
      describe: `3 NATS servers (A on ${nats.servers[0].url}, B on ${nats.servers[1].url})`,
      urlA: nats.brokerSetting(0),
      urlB: nats.brokerSetting(1),
      clusterName: 'wsmesh',
      flagsA: [...account(0), ...keepalive],
      flagsB: [...account(1), ...keepalive],
    },
    deviceUrls: nats.servers.map((s) => s.url),
    cpuMs: () => undefined,
    stop: async () => {
      await nats.stop();
      await killAllBrokers();
    },
  };
}
