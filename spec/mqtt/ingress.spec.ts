/**
 * MQTT ingress and egress on one node with its embedded broker, with real mqtt.js
 * clients as the devices and backends: a device's message reaches the user's
 * sockets, each validation drop is counted by reason (and the device keeps its
 * connection), the accounts' rights are enforced, and client frames go out on egress.
 */
import { expect } from 'chai';
import mqtt, { type MqttClient } from 'mqtt';
import { hashPassword } from '../../src/directory/password.ts';
import { parseAccounts, type Accounts } from '../../src/mqtt/accounts.ts';
import { eventually, login, openSocket, TestSocket } from '../support/client.ts';
import { startNode, type TestNode } from '../support/node.ts';
import { freePort } from '../support/process.ts';
import { CLIENTS, IoClientPool, PATH } from '../support/socket-io.ts';

const PASSWORDS = { 'thermo-17': 'thermo-secret', 'mail-backend': 'backend-secret', 'fleet': 'fleet-secret' } as const;

async function accounts(): Promise<Accounts> {
  const [thermo, backend, fleet] = await Promise.all(Object.values(PASSWORDS).map((p) => hashPassword(p)));
  return parseAccounts(
    JSON.stringify({
      accounts: [
        { id: 'thermo-17', kind: 'device', password: thermo, context: 1, users: [3] },
        { id: 'mail-backend', kind: 'backend', password: backend },
        { id: 'fleet', kind: 'device', password: fleet, context: 1, users: '*' },
      ],
    }),
    'test-accounts.json',
  );
}

function connect(port: number, username?: keyof typeof PASSWORDS, password?: string): Promise<MqttClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...(username ? { username, password: password ?? PASSWORDS[username] } : {}),
  });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

function publish(client: MqttClient, topic: string, payload: string | Buffer, qos: 0 | 1 = 1, retain = false): Promise<void> {
  return new Promise((resolve, reject) => client.publish(topic, payload, { qos, retain }, (err) => (err ? reject(err) : resolve())));
}

describe('MQTT ingress and egress (one node, embedded broker)', function () {
  this.timeout(30000);
  let node: TestNode;
  let port: number;
  const clients: MqttClient[] = [];
  const sockets: TestSocket[] = [];
  const io = new IoClientPool();
  let accountsFile: Accounts;

  before(async () => {
    accountsFile = await accounts();
  });

  async function start(flags: string[] = []): Promise<void> {
    port = await freePort();
    node = await startNode(['--broker', 'embedded', '--broker-port', String(port), '--cluster.name', 'wsmesh', '--mqtt.maxPayload', '64', ...flags], { accounts: accountsFile });
  }

  async function device(name: keyof typeof PASSWORDS = 'thermo-17'): Promise<MqttClient> {
    const client = await connect(port, name);
    clients.push(client);
    return client;
  }

  afterEach(async () => {
    for (const c of clients.splice(0)) c.end(true);
    for (const s of sockets.splice(0)) s.close();
    io.closeAll();
    await node?.stop();
  });

  async function socketOf(user: 'alice' | 'bob', path = '/ws/demo'): Promise<TestSocket> {
    const auth = await login(node.url, `${user}@demo`, user === 'alice' ? 'wonderland' : 'builder');
    const socket = await openSocket(node.wsUrl, auth, path);
    sockets.push(socket);
    return socket;
  }

  const dropped = () => Object.fromEntries(node.node.stats.ingress.dropped);

  it("delivers a device's message to every socket of its user, as-is, at QoS 0 and 1", async () => {
    await start();
    const [a1, a2, bob] = [await socketOf('alice'), await socketOf('alice', '/ws/mail'), await socketOf('bob')];
    const thermo = await device();
    await publish(thermo, 'wsmesh/ingress/1/3', 'temp 21.5 °C', 1);
    await publish(thermo, 'wsmesh/ingress/1/3', '{"t":22}', 0);
    expect(await a1.nextFrames(2)).to.deep.equal(['temp 21.5 °C', '{"t":22}']);
    expect(await a2.nextFrames(2)).to.deep.equal(['temp 21.5 °C', '{"t":22}']);
    expect(bob.frames).to.deep.equal([]);
    expect(node.node.stats.ingress).to.include({ received: 2, written: 4 });
  });

  it('takes the trailing topic levels as the path filter, a last * as the wildcard', async () => {
    await start();
    const [demo, mail, mailInbox] = [await socketOf('alice', '/ws/demo'), await socketOf('alice', '/ws/mail'), await socketOf('alice', '/ws/mail/inbox')];
    const fleet = await device('fleet');
    await publish(fleet, 'wsmesh/ingress/1/3/ws/mail', 'exactly /ws/mail');
    await publish(fleet, 'wsmesh/ingress/1/3/ws/mail/*', 'under /ws/mail');
    await publish(fleet, 'wsmesh/ingress/1/3/*', 'any path');
    await publish(fleet, 'wsmesh/ingress/1/3', 'every socket');
    expect(await mail.nextFrames(4)).to.deep.equal(['exactly /ws/mail', 'under /ws/mail', 'any path', 'every socket']);
    expect(await mailInbox.nextFrames(3)).to.deep.equal(['under /ws/mail', 'any path', 'every socket']);
    expect(await demo.nextFrames(2)).to.deep.equal(['any path', 'every socket']);
    await eventually(() => node.node.stats.ingress.written === 9, '9 frames written');
  });

  it('drops what fails a check, counts it by reason, and keeps the device connected', async () => {
    const logs: string[] = [];
    port = await freePort();
    node = await startNode(['--broker', 'embedded', '--broker-port', String(port), '--cluster.name', 'wsmesh', '--mqtt.maxPayload', '64'], { accounts: accountsFile, logs });
    const alice = await socketOf('alice');
    const backend = await device('mail-backend');
    await publish(backend, 'wsmesh/ingress/1/3', 'x'.repeat(65)); // too_large (64 allowed)
    await publish(backend, 'wsmesh/ingress/1/3', Buffer.from([0x68, 0xc3, 0x28])); // invalid_utf8
    await publish(backend, 'wsmesh/ingress/1/999', 'nobody'); // unknown_user
    await publish(backend, 'wsmesh/ingress/9/3', 'no context'); // unknown_user
    await publish(backend, 'wsmesh/ingress/1/6', 'dave is disabled'); // disabled (user)
    await publish(backend, 'wsmesh/ingress/2/5', 'acme has sockets off'); // disabled (cascade)
    await publish(backend, 'wsmesh/ingress/1/x', 'bad id'); // invalid_topic
    await publish(backend, 'wsmesh/ingress/1/3/ws//mail', 'bad path'); // invalid_path
    await publish(backend, 'wsmesh/ingress/1/3', 'x'.repeat(64)); // exactly the limit: delivered
    expect(await alice.nextFrames(1)).to.deep.equal(['x'.repeat(64)]);
    expect(dropped()).to.deep.equal({ too_large: 1, invalid_utf8: 1, unknown_user: 2, disabled: 2, invalid_topic: 1, invalid_path: 1 });
    expect(backend.connected).to.equal(true);
    const drops = logs.filter((l) => l.includes('"ingress.dropped"')).map((l) => JSON.parse(l));
    expect(drops).to.have.length(8);
    for (const d of drops) expect(d.account).to.equal('mail-backend');
    expect(logs.join('\n')).to.not.include('nobody').and.not.include('dave is disabled');
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    expect(metrics).to.match(/wsmesh_ingress_dropped_total\{reason="too_large"\} 1/);
    expect(metrics).to.match(/wsmesh_ingress_dropped_total\{reason="unknown_user"\} 2/);
    console.log(`      drops counted: ${JSON.stringify(dropped())}`);
  });

  it("refuses a device's publish outside its users, and its subscriptions, and counts both", async () => {
    await start();
    const [alice, bob] = [await socketOf('alice'), await socketOf('bob')];
    const thermo = await device();
    const closed = new Promise<void>((resolve) => thermo.once('close', () => resolve()));
    // mqtt.js fails the call on a SUBACK 0x80 and hands the SUBACK over.
    const suback = await thermo.subscribeAsync('wsmesh/ingress/#', { qos: 1 }).then(
      () => expect.fail('a device subscribed'),
      (err: { packet?: { granted?: number[] } }) => err.packet,
    );
    expect(suback?.granted).to.deep.equal([128]);
    thermo.publish('wsmesh/ingress/1/4', 'to bob: not allowed', { qos: 1 });
    await closed;
    const again = await device();
    await publish(again, 'wsmesh/ingress/1/3', 'still allowed');
    expect(await alice.nextFrames(1)).to.deep.equal(['still allowed']);
    expect(bob.frames).to.deep.equal([]);
    expect(Object.fromEntries(node.node.stats.brokerRefused)).to.deep.equal({ subscribe: 1, publish: 1 });
  });

  it('refuses anonymous clients and wrong passwords at CONNECT', async () => {
    await start();
    await connect(port).then(
      () => expect.fail('an anonymous client connected'),
      (err: Error & { code?: number }) => expect(err.code).to.equal(4),
    );
    await connect(port, 'thermo-17', 'wrong').then(
      () => expect.fail('a wrong password connected'),
      (err: Error & { code?: number }) => expect(err.code).to.equal(4),
    );
    // aedes speaks MQTT 3.1 and 3.1.1 only: an MQTT 5 CONNECT is refused outright.
    const v5 = mqtt.connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 3000, username: 'thermo-17', password: PASSWORDS['thermo-17'] });
    const outcome = await new Promise<string>((resolve) => {
      v5.once('connect', () => resolve('connected'));
      v5.once('error', (err) => resolve(`error: ${err.message}`));
      v5.once('close', () => resolve('closed'));
    });
    v5.end(true);
    expect(outcome).to.not.equal('connected');
    console.log(`      an MQTT 5 client: ${outcome}`);
    expect(node.node.stats.brokerRefused.get('connect')).to.equal(2);
  });

  it('does not deliver a retained ingress message to a socket that opens later', async () => {
    await start();
    const backend = await device('mail-backend');
    await publish(backend, 'wsmesh/ingress/1/3', 'old news', 1, true);
    const alice = await socketOf('alice');
    await publish(backend, 'wsmesh/ingress/1/3', 'fresh');
    expect(await alice.nextFrames(1)).to.deep.equal(['fresh']);
    expect(dropped()).to.deep.equal({ retained: 1 });
  });

  it('publishes client frames on egress when mqtt.egress is on: raw text and Socket.IO events', async () => {
    await start(['--mqtt.egress', 'true']);
    const backend = await device('mail-backend');
    const received: Array<{ topic: string; body: any }> = [];
    backend.on('message', (topic, payload) => received.push({ topic, body: JSON.parse(payload.toString()) }));
    await backend.subscribeAsync('wsmesh/egress/#', { qos: 1 });
    const alice = await socketOf('alice');
    alice.ws.send('hello from the browser');
    const auth = await login(node.url);
    const c = await io.open(CLIENTS[0], node.url, auth, {}).connected();
    c.socket.emit('draft:saved', { id: 7 }, 'x');
    await eventually(() => received.length === 2, 'two egress messages');
    const raw = received.find((r) => 'message' in r.body)!;
    expect(raw.topic).to.match(/^wsmesh\/egress\/1\/3\/[A-Za-z0-9_-]+$/);
    expect(raw.body).to.include({ node: 'test-node', path: '/ws/demo', message: 'hello from the browser' });
    expect(raw.body.at).to.be.a('number');
    const event = received.find((r) => 'event' in r.body)!;
    expect(event.body).to.deep.include({ node: 'test-node', path: PATH, event: 'draft:saved', args: [{ id: 7 }, 'x'] });
    expect(node.node.stats.egress.published).to.equal(2);
  });

  it('publishes nothing on egress while mqtt.egress is off (the default)', async () => {
    await start();
    const backend = await device('mail-backend');
    const received: string[] = [];
    backend.on('message', (topic) => received.push(topic));
    await backend.subscribeAsync('wsmesh/egress/#', { qos: 1 });
    const alice = await socketOf('alice');
    alice.ws.send('not for egress');
    // A marker through the same broker after the frame: once it arrives, so would have the frame.
    await publish(backend, 'wsmesh/ingress/1/3', 'marker');
    await alice.nextFrames(1);
    await eventually(() => node.node.stats.messagesReceived === 1, 'the frame counted');
    expect(received).to.deep.equal([]);
    expect(node.node.stats.egress.published).to.equal(0);
  });

  it('ends the connection of an account the reloaded file removed, and keeps the others', async () => {
    await start();
    const thermo = await device();
    const backend = await device('mail-backend');
    const closed = new Promise<void>((resolve) => thermo.once('close', () => resolve()));
    const kept = new Map(accountsFile.byId);
    kept.delete('thermo-17');
    node.node.applyAccounts({ source: 'reloaded', byId: kept });
    await closed;
    await connect(port, 'thermo-17').then(
      () => expect.fail('a removed account connected'),
      (err: Error & { code?: number }) => expect(err.code).to.equal(4),
    );
    expect(backend.connected).to.equal(true);
    const alice = await socketOf('alice');
    await publish(backend, 'wsmesh/ingress/1/3', 'backend still in');
    expect(await alice.nextFrames(1)).to.deep.equal(['backend still in']);
  });
});
