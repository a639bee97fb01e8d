import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { connect, connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { requireBinariesOrSkip, requireBinary } from '../support/binaries.ts';
import { ACL_EXAMPLE, deriveTestConfig, killAllBrokers, MOSQUITTO_CONF, MOSQUITTO_NODE_ACCOUNTS, startMosquitto, type MosquittoProcess, type TestConfigPaths } from '../support/broker.ts';

const WAIT_MS = 3000;
const DEVICE = { username: 'device-1', password: 'test-device-password' };
const MONITOR = { username: 'wsmesh-monitor', password: 'test-monitor-password' };

const clients = new Set<MqttClient>();

async function connectClient(url: string, options: IClientOptions): Promise<MqttClient> {
  const client = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: WAIT_MS, ...options });
  clients.add(client);
  return client;
}

/** The CONNACK refusal of a connect attempt (mqtt.js rejects with the return code). */
async function refusal(url: string, options: IClientOptions): Promise<number | undefined> {
  try {
    const client = await connectClient(url, options);
    await client.endAsync(true);
    return undefined;
  } catch (err) {
    return (err as { code?: number }).code;
  }
}

/**
 * Every payload `client` receives on `topics`, until `fence` arrives on `fenceTopic`.
 * Mosquitto keeps one publisher's messages in order, so what was published before
 * the fence and is missing here was dropped, not late.
 */
function collectUntil(client: MqttClient, fenceTopic: string, fence: string): Promise<Array<[string, string]>> {
  const seen: Array<[string, string]> = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      reject(new Error(`fence ${fence} not received on ${fenceTopic} within ${WAIT_MS} ms; got ${JSON.stringify(seen)}`));
    }, WAIT_MS);
    function onMessage(topic: string, payload: Buffer) {
      if (topic === fenceTopic && payload.toString() === fence) {
        clearTimeout(timer);
        client.off('message', onMessage);
        resolve(seen);
      } else {
        seen.push([topic, payload.toString()]);
      }
    }
    client.on('message', onMessage);
  });
}

function nextMessage(client: MqttClient, topic: string): Promise<{ payload: string; retain: boolean }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      reject(new Error(`no message on ${topic} within ${WAIT_MS} ms`));
    }, WAIT_MS);
    function onMessage(received: string, payload: Buffer, packet: { retain: boolean }) {
      if (received !== topic) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve({ payload: payload.toString(), retain: packet.retain });
    }
    client.on('message', onMessage);
  });
}

describe('mosquitto.conf', () => {
  const conf = readFileSync(MOSQUITTO_CONF, 'utf8');
  const active = conf
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));

  describe('(the file)', () => {
    it('authenticates every client on every listener, with a password file and an ACL', () => {
      expect(active).to.include.members([
        'per_listener_settings false',
        'allow_anonymous false',
        'password_file /etc/mosquitto/wsmesh.passwd',
        'acl_file /etc/mosquitto/wsmesh.acl',
      ]);
    });

    it('persists to disk and expires sessions of nodes gone for long', () => {
      expect(active).to.include.members(['persistence true', 'persistence_location /var/lib/mosquitto/', 'persistent_client_expiration 1h']);
      expect(active.some((l) => /^autosave_interval \d+$/.test(l))).to.equal(true);
    });

    it("queues enough for a node's inbox while it restarts", () => {
      const queued = active.find((l) => l.startsWith('max_queued_messages '));
      expect(Number(queued?.split(' ')[1])).to.be.at.least(100000);
      expect(active.some((l) => /^max_inflight_messages \d+$/.test(l))).to.equal(true);
    });

    it('explains every active line with a comment above it or its block', () => {
      const lines = conf.split('\n');
      const unexplained = lines.filter((line, i) => {
        if (!line.trim() || line.startsWith('#')) return false;
        let j = i - 1;
        while (j >= 0 && lines[j].trim() && !lines[j].startsWith('#')) j--;
        return j < 0 || !lines[j].startsWith('#');
      });
      expect(unexplained).to.deep.equal([]);
    });
  });

  describe('docs/cluster.md and the example files', () => {
    it('gives every node account the docs create a block in the example ACL, and the tests use those accounts', () => {
      const docs = readFileSync(new URL('../../docs/cluster.md', import.meta.url), 'utf8');
      const created = [...docs.matchAll(/mosquitto_passwd(?: -c)?\s+\/etc\/mosquitto\/wsmesh\.passwd (\S+)/g)].map((m) => m[1]);
      const acl = readFileSync(ACL_EXAMPLE, 'utf8');
      const users = [...acl.matchAll(/^user (\S+)$/gm)].map((m) => m[1]);
      expect(created).to.deep.equal(['node-1', 'node-2', 'node-3']);
      expect(users).to.include.members(created);
      for (const user of created) expect(acl).to.contain(`user ${user}\ntopic readwrite wsmesh/internal/#\n`);
      expect(MOSQUITTO_NODE_ACCOUNTS.map((a) => a.username)).to.deep.equal(created);
      // The nodes' flags in the docs use the same accounts.
      expect([...docs.matchAll(/--cluster\.username (\S+)/g)].map((m) => m[1])).to.deep.equal(created);
    });
  });

  describe('deriveTestConfig()', () => {
    const paths: TestConfigPaths = { port: 41883, persistenceDir: '/tmp/x/data', passwordFile: '/tmp/x/p', aclFile: '/tmp/x/a', runningAsRoot: false };

    it('replaces only the machine-specific lines and keeps the rest verbatim', () => {
      const derived = deriveTestConfig(conf, paths).split('\n');
      expect(derived).to.include.members([
        'listener 41883 127.0.0.1',
        'persistence_location /tmp/x/data/',
        'password_file /tmp/x/p',
        'acl_file /tmp/x/a',
        'log_dest stderr',
      ]);
      expect(derived.filter((l) => /^(user|pid_file|listener 1883|log_dest file)\b/.test(l))).to.deep.equal([]);
      const kept = active.filter((l) => !/^(listener|persistence_location|password_file|acl_file|user|pid_file|log_dest)\b/.test(l));
      expect(derived).to.include.members(kept);
      expect(kept).to.include('allow_anonymous false');
    });

    it('stays root when the tests run as root, so mosquitto can read the 0700 temp dir', () => {
      expect(deriveTestConfig(conf, { ...paths, runningAsRoot: true }).split('\n')).to.include('user root');
      expect(deriveTestConfig(conf, paths).split('\n')).not.to.include('user root');
    });

    it('refuses a file without the line it must replace', () => {
      const withoutAcl = conf.replace(/^acl_file .*$/m, '');
      expect(() => deriveTestConfig(withoutAcl, paths)).to.throw('exactly one active "acl_file" line');
    });
  });

  describe('requireBinary()', () => {
    const ci = process.env.CI;
    afterEach(() => {
      if (ci === undefined) delete process.env.CI;
      else process.env.CI = ci;
    });

    it('fails under CI when the binary is missing, naming the package to install', () => {
      process.env.CI = 'true';
      expect(() => requireBinary('wsmesh-no-such-binary')).to.throw(/wsmesh-no-such-binary is not installed.*apt-get install wsmesh-no-such-binary.*CI is set/);
    });

    it('lets the caller skip outside CI when the binary is missing', () => {
      delete process.env.CI;
      expect(requireBinary('wsmesh-no-such-binary')).to.equal(undefined);
    });

    it('finds an installed binary', () => {
      expect(requireBinary('node')).to.be.a('string').and.match(/\/node$/);
    });
  });

  describe('with the real mosquitto', () => {
    let broker: MosquittoProcess;

    before(async function () {
      // Fails in CI when mosquitto is missing; elsewhere the suite is skipped with the reason.
      requireBinariesOrSkip(this, 'mosquitto', 'mosquitto_passwd');
      broker = await startMosquitto({ users: { [DEVICE.username]: DEVICE.password, [MONITOR.username]: MONITOR.password } });
    });

    afterEach(async () => {
      await Promise.all([...clients].map((c) => c.endAsync(true)));
      clients.clear();
    });

    after(killAllBrokers);

    it('runs the project file (only machine-specific lines replaced)', () => {
      const derived = readFileSync(broker.configFile, 'utf8');
      expect(derived).to.contain('allow_anonymous false').and.to.contain(`listener ${broker.port} 127.0.0.1`);
      expect(broker.output.some((l) => l.includes(`Config loaded from ${broker.configFile}`))).to.equal(true);
      expect(broker.output.some((l) => l.includes('mosquitto version 2.'))).to.equal(true);
    });

    describe('authentication', () => {
      it('accepts the node account with its password', async () => {
        const client = await connectClient(broker.url, { username: broker.username, password: broker.password });
        expect(client.connected).to.equal(true);
      });

      it('refuses an anonymous client (CONNACK 5, not authorized)', async () => {
        expect(await refusal(broker.url, {})).to.equal(5);
      });

      it('refuses the node account with a wrong password', async () => {
        expect(await refusal(broker.url, { username: broker.username, password: 'wrong' })).to.equal(5);
      });
    });

    describe('ACL', () => {
      it('lets the node account subscribe to and publish on wsmesh/internal/#', async () => {
        const node = await connectClient(broker.url, { username: broker.username, password: broker.password });
        const granted = await node.subscribeAsync('wsmesh/internal/#', { qos: 1 });
        expect(granted.map((g) => g.qos)).to.deep.equal([1]);
        const received = nextMessage(node, 'wsmesh/internal/inbox/node-b');
        await node.publishAsync('wsmesh/internal/inbox/node-b', 'hello b', { qos: 1 });
        expect((await received).payload).to.equal('hello b');
      });

      it('lets a device publish to wsmesh/ingress/1/3, and silently drops its publish to wsmesh/internal/inbox/x', async () => {
        const node = await connectClient(broker.url, { username: broker.username, password: broker.password });
        await node.subscribeAsync(['wsmesh/internal/#', 'wsmesh/ingress/#'], { qos: 1 });
        const device = await connectClient(broker.url, DEVICE);
        const seen = collectUntil(node, 'wsmesh/ingress/1/3', 'fence');

        // MQTT 3.1.1 has no way to refuse a publish: mosquitto acknowledges it and drops it.
        await device.publishAsync('wsmesh/internal/inbox/x', 'forged', { qos: 1 });
        await device.publishAsync('wsmesh/ingress/1/3', 'for user 3 in context 1', { qos: 1 });
        await device.publishAsync('wsmesh/ingress/1/3', 'fence', { qos: 1 });

        expect(await seen).to.deep.equal([['wsmesh/ingress/1/3', 'for user 3 in context 1']]);
      });

      it('delivers nothing from the internal subtree to a device, though its SUBACK grants the subscription', async () => {
        const device = await connectClient(broker.url, DEVICE);
        const received: string[] = [];
        device.on('message', (topic) => received.push(topic));
        // mosquitto 2.0.11 checks read access per delivered message, not at SUBSCRIBE time.
        expect((await device.subscribeAsync('wsmesh/internal/#', { qos: 1 })).map((g) => g.qos)).to.deep.equal([1]);
        const node = await connectClient(broker.url, { username: broker.username, password: broker.password });
        await node.publishAsync('wsmesh/internal/inbox/x', 'not for devices', { qos: 1 });
        // Fence: once the node has its PUBACK, any delivery to the device is queued on
        // the device's connection ahead of the SUBACK answering this later SUBSCRIBE.
        await device.subscribeAsync('wsmesh/ingress/fence', { qos: 1 });
        expect(received).to.deep.equal([]);
      });

      it('does not let a node account forge ingress', async () => {
        const node = await connectClient(broker.url, { username: broker.username, password: broker.password });
        await node.subscribeAsync(['wsmesh/ingress/#', 'wsmesh/internal/#'], { qos: 1 });
        const seen = collectUntil(node, 'wsmesh/internal/commands', 'fence');
        await node.publishAsync('wsmesh/ingress/1/3', 'forged by a node', { qos: 1 });
        await node.publishAsync('wsmesh/internal/commands', 'fence', { qos: 1 });
        expect(await seen).to.deep.equal([]);
      });

      it('gives the monitor account read-only access', async () => {
        const monitor = await connectClient(broker.url, MONITOR);
        expect((await monitor.subscribeAsync('wsmesh/#', { qos: 1 })).map((g) => g.qos)).to.deep.equal([1]);
        const node = await connectClient(broker.url, { username: broker.username, password: broker.password });
        const seen = collectUntil(monitor, 'wsmesh/internal/commands', 'fence');
        await monitor.publishAsync('wsmesh/internal/commands', 'injected by the monitor', { qos: 1 });
        await node.publishAsync('wsmesh/internal/commands', 'fence', { qos: 1 });
        // The node's fence arrives; the monitor's own publish, sent before it, never does.
        expect(await seen).to.deep.equal([]);
      });
    });

    describe('persistence (#restart)', () => {
      it('keeps a retained message and the queued QoS 1 mail of a persistent session across a restart', async () => {
        const credentials = { username: broker.username, password: broker.password };
        const away = await connectClient(broker.url, { ...credentials, clientId: 'node-b', clean: false });
        await away.subscribeAsync('wsmesh/internal/inbox/node-b', { qos: 1 });
        await away.endAsync(true);
        clients.delete(away);

        const nodeA = await connectClient(broker.url, credentials);
        await nodeA.publishAsync('wsmesh/internal/presence/node-a', 'online', { qos: 1, retain: true });
        await nodeA.publishAsync('wsmesh/internal/inbox/node-b', 'mail while away', { qos: 1 });
        await nodeA.endAsync(true);
        clients.delete(nodeA);

        await broker.restart();
        expect(broker.output.filter((l) => l.includes('Saving in-memory database'))).to.have.length.at.least(1);

        // Listen before connecting: the queued message may come in the same read as the CONNACK.
        const back = connect(broker.url, { ...credentials, clientId: 'node-b', clean: false, reconnectPeriod: 0 });
        clients.add(back);
        const mail = nextMessage(back, 'wsmesh/internal/inbox/node-b');
        const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
          back.once('connect', resolve);
          back.once('error', reject);
        });
        expect(connack.sessionPresent).to.equal(true);
        expect((await mail).payload).to.equal('mail while away');

        const late = await connectClient(broker.url, credentials);
        const presence = nextMessage(late, 'wsmesh/internal/presence/node-a');
        await late.subscribeAsync('wsmesh/internal/presence/+', { qos: 1 });
        expect(await presence).to.deep.equal({ payload: 'online', retain: true });
      });
    });
  });
});
