/**
 * A real 3-server NATS cluster (JetStream and MQTT on), started from the shipped
 * example configs in config/nats/ with only the ports and store dirs replaced, on
 * free loopback ports. Each server can be killed and started again on the same
 * ports and store. Every process and temp dir goes in `killAllBrokers()`.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { installedBinary, requireBinariesOrSkip } from './binaries.ts';
import { MOSQUITTO_NODE_ACCOUNTS, MOSQUITTO_NODE_PASSWORD, MOSQUITTO_NODE_USER, Supervisor, tempDirs, type BrokerProcess } from './broker.ts';
import { freePort } from './process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const NATS_CONFIG_DIR = join(ROOT, 'config/nats');
const SERVERS = [1, 2, 3] as const;
/** JetStream elects its leaders and creates the MQTT streams after the ports open. */
const READY_TIMEOUT_MS = 30_000;

export interface NatsServer extends BrokerProcess {
  /** `nats-1` .. `nats-3`, as in the shipped configs. */
  readonly name: string;
  readonly configFile: string;
}

export interface NatsCluster {
  readonly servers: NatsServer[];
  /** `cluster.broker` for a node: the MQTT URLs of every server, `first` (index) first. */
  brokerSetting(first: number): string;
  /** Stops every server (SIGTERM). */
  stop(): Promise<void>;
}

/** The ports each shipped config uses (server N: 422N, 622N, 188N, 822N), to be replaced. */
const DEFAULT_PORTS = { client: 4220, route: 6220, mqtt: 1880, http: 8220 } as const;
type PortKind = keyof typeof DEFAULT_PORTS;

/**
 * `conf` (the shipped nats-N.conf) with every `127.0.0.1:<default port>` replaced by
 * the test's port for it (routes name all three servers) and `store_dir` by
 * `storeDir`. Throws when an expected port or the store dir is absent, so a config
 * change that the test would silently not follow fails loudly.
 */
export function deriveNatsConfig(conf: string, server: number, ports: Record<PortKind, number[]>, storeDir: string): string {
  let out = conf;
  const expect = (pattern: RegExp, replacement: string, what: string) => {
    if (!pattern.test(out)) throw new Error(`config/nats/nats-${server}.conf: ${what} not found; the test config replaces it`);
    out = out.replace(pattern, replacement);
  };
  for (const kind of Object.keys(DEFAULT_PORTS) as PortKind[]) {
    for (const n of SERVERS) {
      // Only routes name the other servers' ports; every other port is the server's own.
      if (kind !== 'route' && n !== server) continue;
      expect(new RegExp(`127\\.0\\.0\\.1:${DEFAULT_PORTS[kind] + n}\\b`, 'g'), `127.0.0.1:${ports[kind][n - 1]}`, `${kind} port ${DEFAULT_PORTS[kind] + n}`);
    }
  }
  expect(/^(\s*store_dir:\s*).*$/m, `$1${JSON.stringify(storeDir)}`, 'store_dir');
  return out;
}

/** For a suite's `before` hook: skips (or fails under CI) without nats-server. */
export function requireNatsOrSkip(ctx: Mocha.Context): void {
  requireBinariesOrSkip(ctx, 'nats-server');
}

/**
 * Starts nats-1..3 from config/nats/ and waits until each one's MQTT listener
 * accepts a node account's persistent session (JetStream ready). Node accounts are
 * MOSQUITTO_NODE_ACCOUNTS (passwords through the env vars the configs read).
 */
/** The example's device account (config/nats/accounts.conf): may publish to `wsmesh/ingress/#` only. */
export const NATS_DEVICE = { username: 'device-1', password: 'device-1-password' };

export interface NatsClusterOptions {
  /** Replaces `mqtt.max_ack_pending` of the shipped configs (to reach NATS's per-session cap in a test). */
  maxAckPending?: number;
}

export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsCluster> {
  const bin = installedBinary('nats-server');
  const dir = mkdtempSync(join(tmpdir(), 'wsmesh-nats-'));
  tempDirs.add(dir);
  copyFileSync(join(NATS_CONFIG_DIR, 'accounts.conf'), join(dir, 'accounts.conf'));
  const ports = {} as Record<PortKind, number[]>;
  for (const kind of Object.keys(DEFAULT_PORTS) as PortKind[]) ports[kind] = await Promise.all(SERVERS.map(() => freePort()));
  const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
  MOSQUITTO_NODE_ACCOUNTS.forEach((account, i) => (env[`WSMESH_NODE_${i + 1}_PASSWORD`] = account.password));
  env.WSMESH_DEVICE_1_PASSWORD = NATS_DEVICE.password;

  const servers = SERVERS.map((n) => {
    const storeDir = join(dir, `nats-${n}`);
    mkdirSync(storeDir, { recursive: true });
    const configFile = join(dir, `nats-${n}.conf`);
    let conf = deriveNatsConfig(readFileSync(join(NATS_CONFIG_DIR, `nats-${n}.conf`), 'utf8'), n, ports, storeDir);
    if (options.maxAckPending !== undefined) {
      if (!/^\s*max_ack_pending:/m.test(conf)) throw new Error(`config/nats/nats-${n}.conf: max_ack_pending not found; the test config replaces it`);
      conf = conf.replace(/^(\s*max_ack_pending:\s*).*$/m, `$1${options.maxAckPending}`);
    }
    writeFileSync(configFile, conf);
    const mqttPort = ports.mqtt[n - 1];
    const supervisor = new Supervisor(`nats-${n}`, () => spawn(bin, ['-c', configFile], { env, stdio: ['ignore', 'pipe', 'pipe'] }), mqttPort);
    const server: NatsServer & { supervisor: Supervisor } = {
      name: `nats-${n}`,
      url: `mqtt://127.0.0.1:${mqttPort}`,
      port: mqttPort,
      username: MOSQUITTO_NODE_USER,
      password: MOSQUITTO_NODE_PASSWORD,
      output: supervisor.output,
      configFile,
      supervisor,
      stop: (signal) => supervisor.stop(signal),
      async restart() {
        await supervisor.restart();
        await mqttReady(server);
      },
    };
    return server;
  });
  // All at once: a JetStream cluster needs a quorum before any server is ready.
  await Promise.all(servers.map((s) => s.supervisor.start()));
  await Promise.all(servers.map((s) => mqttReady(s)));
  return {
    servers,
    brokerSetting: (first) => [...servers.slice(first), ...servers.slice(0, first)].map((s) => s.url).join(','),
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}

/** Resolves once `server` gives a node account a persistent session (CONNACK, clean=false). */
async function mqttReady(server: NatsServer): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    const outcome = await new Promise<string>((resolve) => {
      const client = mqtt.connect(server.url, {
        clientId: `ready-probe-${server.name}`,
        clean: false,
        username: server.username,
        password: server.password,
        reconnectPeriod: 0,
        connectTimeout: 5000,
      });
      const done = (result: string) => {
        client.removeAllListeners();
        client.on('error', () => {});
        client.end(true);
        resolve(result);
      };
      client.once('connect', () => done('ready'));
      client.once('error', (error) => done(error.message));
      client.once('close', () => done('closed'));
    });
    if (outcome === 'ready') return;
    last = outcome;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${server.name} gave no MQTT session within ${READY_TIMEOUT_MS} ms (last: ${last}):\n${server.output.slice(-30).join('\n')}`);
}
