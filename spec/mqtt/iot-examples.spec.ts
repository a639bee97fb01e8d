/**
 * docs/iot.md's examples, run as written against a real node: the demo device of
 * config/accounts.json publishing with mosquitto_pub, with mqtt.js
 * (examples/iot/device.mjs) and with Python's paho-mqtt (examples/iot/device.py),
 * and a backend reading egress (examples/iot/backend-egress.mjs).
 */
import { expect } from 'chai';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { hashPassword } from '../../src/directory/password.ts';
import { loadAccounts } from '../../src/mqtt/accounts-file.ts';
import { requireBinariesOrSkip } from '../support/binaries.ts';
import { collectLines, stopChild } from '../support/children.ts';
import { eventually, login, openSocket, type TestSocket } from '../support/client.ts';
import { startNode, type TestNode } from '../support/node.ts';
import { freePort } from '../support/process.ts';

const run = promisify(execFile);
const BACKEND = { id: 'mail-backend', password: 'backend-secret' };

describe("docs/iot.md's device and backend examples", function () {
  this.timeout(30000);
  let node: TestNode;
  let port: number;
  let alice: TestSocket;
  let python: string | undefined;

  before(async function () {
    requireBinariesOrSkip(this, 'mosquitto_pub', 'python3');
    // Debian's python3-paho-mqtt is for the system's python3; a pyenv shim earlier on PATH may not see it.
    python = ['python3', '/usr/bin/python3'].find((bin) => spawnSync(bin, ['-c', 'import paho.mqtt.client']).status === 0);
    if (!python) {
      if (process.env.CI) throw new Error('python3 cannot import paho.mqtt: apt-get install python3-paho-mqtt');
      process.stderr.write('      skipped: python3-paho-mqtt is not installed (apt-get install python3-paho-mqtt)\n');
      this.skip();
    }
    // The shipped demo accounts, plus a backend for egress.
    const demo = await loadAccounts('config/accounts.json');
    const byId = new Map(demo.byId);
    byId.set(BACKEND.id, { id: BACKEND.id, kind: 'backend', password: await hashPassword(BACKEND.password) });
    port = await freePort();
    node = await startNode(['--broker', 'embedded', '--broker-port', String(port), '--cluster.name', 'wsmesh', '--mqtt.egress', 'true'], { accounts: { source: 'test', byId } });
    alice = await openSocket(node.wsUrl, await login(node.url));
  });
  after(async () => {
    alice?.close();
    await node?.stop();
  });

  it('mosquitto_pub, as the README and docs/iot.md show it', async () => {
    const before = alice.frames.length;
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-u', 'demo-thermostat', '-P', 'thermostat', '-q', '1', '-t', 'wsmesh/ingress/1/3', '-m', 'hello from mosquitto_pub']);
    expect((await alice.nextFrames(before + 1)).at(-1)).to.equal('hello from mosquitto_pub');
  });

  it('mqtt.js: examples/iot/device.mjs', async () => {
    const before = alice.frames.length;
    const { stdout } = await run(process.execPath, ['examples/iot/device.mjs'], { env: { ...process.env, MQTT_URL: `mqtt://127.0.0.1:${port}` } });
    expect(stdout.trim()).to.equal('published');
    expect((await alice.nextFrames(before + 1)).at(-1)).to.equal('living room: 21.5 °C (mqtt.js)');
  });

  it("Python's paho-mqtt: examples/iot/device.py", async () => {
    const before = alice.frames.length;
    const { stdout } = await run(python!, ['examples/iot/device.py'], { env: { ...process.env, MQTT_HOST: '127.0.0.1', MQTT_PORT: String(port) } });
    expect(stdout.trim()).to.equal('published');
    expect((await alice.nextFrames(before + 1)).at(-1)).to.equal('living room: 21.5 °C (paho)');
  });

  it('a backend reading egress: examples/iot/backend-egress.mjs', async () => {
    const child = spawn(process.execPath, ['examples/iot/backend-egress.mjs'], {
      env: { ...process.env, MQTT_URL: `mqtt://127.0.0.1:${port}`, MQTT_USERNAME: BACKEND.id, MQTT_PASSWORD: BACKEND.password },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    collectLines(child.stdout!, (line) => lines.push(line));
    collectLines(child.stderr!, (line) => lines.push(line));
    try {
      await eventually(() => lines.includes('subscribed'), 'the backend to subscribe', 10_000);
      alice.ws.send('reply from alice');
      await eventually(() => lines.length > 1, 'an egress line', 5000);
      const frame = JSON.parse(lines[1]);
      expect(frame).to.include({ contextId: 1, userId: 3, node: 'test-node', path: '/ws/demo', message: 'reply from alice' });
      expect(frame.connectionId).to.be.a('string');
    } finally {
      await stopChild(child);
    }
  });
});
