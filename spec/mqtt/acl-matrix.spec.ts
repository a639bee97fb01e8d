/**
 * What each kind of account may do, tried on real brokers configured with the
 * files `wsmesh broker acl` generates (Mosquitto: password_file + acl_file; a
 * 3-server NATS cluster: the accounts fragment). A table of rows run against a
 * list of brokers (spec/support/acl-brokers.ts); each row prints what the broker
 * did, e.g. `mosquitto: device -> wsmesh/ingress/1/5: not delivered (PUBACK ok)`.
 *
 * "Not delivered" is made meaningful by a marker: after the forbidden publish, an
 * account allowed to publish there publishes the same topic; the reader must get
 * the marker, and not the forbidden message (which, accepted, would have been
 * routed before its PUBACK, so before the marker), within a bounded wait.
 */
import { expect } from 'chai';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { hashPassword } from '../../src/directory/password.ts';
import { parseAccounts, type Accounts } from '../../src/mqtt/accounts.ts';
import { ACL_BROKERS, type RunningBroker } from '../support/acl-brokers.ts';
import { requireBinariesOrSkip } from '../support/binaries.ts';
import { killAllBrokers } from '../support/broker.ts';

const R = 'wsmesh';
/** How long a message that must come may take (NATS QoS 1 goes through JetStream, across servers). */
const DELIVERY_MS = 5000;
const ACK_MS = 2000;
/** After the marker: time for a forbidden message that would come late anyway. */
const GRACE_MS = 300;

type Who = 'node' | 'device' | 'gateway' | 'backend';

const ACCOUNTS: Record<Who, { id: string; password: string; entry: Record<string, unknown> }> = {
  node: { id: 'node-a', password: 'node-a-password', entry: { kind: 'node' } },
  device: { id: 'thermo-17', password: 'thermo-17-password', entry: { kind: 'device', context: 1, users: [3, 4] } },
  gateway: { id: 'gateway-2', password: 'gateway-2-password', entry: { kind: 'device', context: 2, users: '*' } },
  backend: { id: 'mail-backend', password: 'mail-backend-password', entry: { kind: 'backend' } },
};

/** The clients one row opens; all closed after it. */
class Clients {
  private readonly open = new Set<MqttClient>();

  constructor(readonly broker: RunningBroker) {}

  /** A connected client of `who`; subscribers (`peer`) go to another server of a cluster. */
  async as(who: Who, where: 'url' | 'peer' = 'url'): Promise<MqttClient> {
    const account = ACCOUNTS[who];
    const outcome = await this.connect({ username: account.id, password: account.password }, where);
    if (typeof outcome === 'string') throw new Error(`${who} (${account.id}) could not connect: ${outcome}`);
    return outcome;
  }

  /** How a CONNECT with `options` was answered: a client, or why it was refused. */
  async connect(options: IClientOptions, where: 'url' | 'peer' = 'url'): Promise<MqttClient | string> {
    const client = mqtt.connect(where === 'peer' ? this.broker.peerUrl : this.broker.url, { reconnectPeriod: 0, connectTimeout: DELIVERY_MS, ...options });
    this.open.add(client);
    client.on('error', () => {});
    return within(
      new Promise<MqttClient | string>((resolve) => {
        client.once('connect', () => resolve(client));
        client.once('error', (err: Error & { code?: number }) => resolve(err.code !== undefined ? `CONNACK ${err.code} (${err.message})` : err.message));
        client.once('close', () => resolve('closed before CONNACK'));
      }),
      DELIVERY_MS,
      `no CONNACK within ${DELIVERY_MS} ms`,
    );
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open].map((client) => within(client.endAsync(true).then(() => ''), 2000, '')));
    this.open.clear();
  }
}

function within<T>(promise: Promise<T>, ms: number, otherwise: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(otherwise), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** The SUBACK's answer for `filter`: `QoS n`, or `0x80` (refused); bounded. */
async function subscribe(client: MqttClient, filter: string, qos: 0 | 1 = 1): Promise<string> {
  const answer = client.subscribeAsync(filter, { qos }).then(
    (granted) => `QoS ${granted[0]?.qos}`,
    (err: Error & { packet?: { granted?: number[] } }) => (err.packet?.granted ? `0x${err.packet.granted[0].toString(16)}` : `error: ${err.message}`),
  );
  return within(answer, DELIVERY_MS, `no SUBACK within ${DELIVERY_MS} ms`);
}

/** A QoS 1 publish, and how the broker answered it: `PUBACK ok`, no PUBACK, or the connection closed. */
async function publish(client: MqttClient, topic: string, payload: string): Promise<string> {
  const closed = new Promise<string>((resolve) => client.once('close', () => resolve('connection closed by the broker')));
  return within(Promise.race([client.publishAsync(topic, payload, { qos: 1 }).then(() => 'PUBACK ok'), closed]), ACK_MS, `no PUBACK within ${ACK_MS} ms`);
}

/** Every message `client` receives from now on, and a bounded wait for one. */
function inbox(client: MqttClient) {
  const received: Array<[string, string]> = [];
  const waiters = new Set<() => void>();
  client.on('message', (topic, payload) => {
    received.push([topic, payload.toString()]);
    for (const wake of waiters) wake();
  });
  return {
    received,
    has: (topic: string, payload: string) => received.some(([t, p]) => t === topic && p === payload),
    async waitFor(topic: string, payload: string, ms = DELIVERY_MS): Promise<boolean> {
      const found = () => received.some(([t, p]) => t === topic && p === payload);
      if (found()) return true;
      let wake = () => {};
      const arrived = new Promise<boolean>((resolve) => {
        wake = () => found() && resolve(true);
        waiters.add(wake);
      });
      try {
        return await within(arrived, ms, false);
      } finally {
        waiters.delete(wake);
      }
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let sequence = 0;
const unique = (what: string) => `${what}-${process.pid}-${++sequence}`;

interface Row {
  label: string;
  /** Runs the row, asserting; resolves to what the broker did. */
  run(clients: Clients): Promise<string>;
}

/** `who` publishes `topic`; `reader`, subscribed to `filter`, receives it. */
function allowed(who: Who, topic: string, reader: { as: Who; filter: string }, label = `${who} -> ${topic}`): Row {
  return {
    label,
    async run(clients) {
      const subscriber = await clients.as(reader.as, 'peer');
      const suback = await subscribe(subscriber, reader.filter);
      expect(suback, `${reader.as} subscribing ${reader.filter}`).to.equal('QoS 1');
      const messages = inbox(subscriber);
      const payload = unique('allowed');
      const ack = await publish(await clients.as(who), topic, payload);
      const delivered = await messages.waitFor(topic, payload);
      const seen = `${delivered ? 'delivered' : 'not delivered'} (${ack})`;
      expect(delivered, seen).to.equal(true);
      return reader.as === who ? seen : `${seen} to ${reader.as} on ${reader.filter} (SUBACK ${suback})`;
    },
  };
}

/** `who` publishes `topic`; `reader` (subscribed to `filter`) gets `marker`'s publish there, not `who`'s. */
function forbidden(who: Who, topic: string, reader: { as: Who; filter: string; marker: Who }): Row {
  return {
    label: `${who} -> ${topic}`,
    async run(clients) {
      const subscriber = await clients.as(reader.as, 'peer');
      expect(await subscribe(subscriber, reader.filter), `${reader.as} subscribing ${reader.filter}`).to.equal('QoS 1');
      const messages = inbox(subscriber);
      const attempt = unique('forbidden');
      const ack = await publish(await clients.as(who), topic, attempt);
      const marker = unique('marker');
      expect(await publish(await clients.as(reader.marker), topic, marker), `${reader.marker}'s marker publish`).to.equal('PUBACK ok');
      const markerCame = await messages.waitFor(topic, marker);
      await sleep(GRACE_MS);
      const seen = `${messages.has(topic, attempt) ? 'DELIVERED' : 'not delivered'} (${ack})`;
      expect(markerCame, `the marker from ${reader.marker} never came; ${seen}`).to.equal(true);
      expect(messages.has(topic, attempt), seen).to.equal(false);
      return seen;
    },
  };
}

/** A CONNECT with `options` is refused. */
function refused(label: string, options: () => IClientOptions): Row {
  return {
    label,
    async run(clients) {
      const outcome = await clients.connect(options());
      expect(outcome, `${label} was accepted`).to.be.a('string');
      return `refused: ${outcome}`;
    },
  };
}

/** `who` subscribes to each filter at QoS 0 and 1; messages published there (seen by a witness) never reach it. */
function subscribesToNothing(who: Who, filters: Array<{ filter: string; topic: string; publisher: Who; witness: Who }>): Row {
  return {
    label: `${who} subscribes ${filters.map((f) => f.filter).join(', ')}`,
    async run(clients) {
      const client = await clients.as(who);
      const own = inbox(client);
      const answers: string[] = [];
      for (const { filter } of filters) {
        for (const qos of [1, 0] as const) answers.push(`${filter} QoS ${qos}: SUBACK ${await subscribe(client, filter, qos)}`);
      }
      for (const { filter, topic, publisher, witness } of filters) {
        const watcher = await clients.as(witness, 'peer');
        expect(await subscribe(watcher, filter), `${witness} subscribing ${filter}`).to.equal('QoS 1');
        const seen = inbox(watcher);
        const payload = unique('published');
        expect(await publish(await clients.as(publisher), topic, payload)).to.equal('PUBACK ok');
        expect(await seen.waitFor(topic, payload), `${witness} never got ${topic}`).to.equal(true);
      }
      await sleep(GRACE_MS);
      const outcome = `${answers.join('; ')}; ${own.received.length === 0 ? 'nothing delivered' : `DELIVERED ${JSON.stringify(own.received)}`}`;
      expect(own.received, outcome).to.deep.equal([]);
      return outcome;
    },
  };
}

/** NATS delivers QoS 1 subscriptions on `$MQTT.sub.<id>`, which an account that may subscribe is allowed: can an MQTT client read them? */
function snoops(who: Who): Row {
  return {
    label: `${who} subscribes $MQTT/sub/# (where NATS delivers others' QoS 1)`,
    async run(clients) {
      const snooper = await clients.as(who);
      const stolen = inbox(snooper);
      const filters = ['$MQTT/sub/#', '$MQTT/sub/+', '$MQTT/#'];
      const answers: string[] = [];
      for (const filter of filters) answers.push(`${filter} ${await subscribe(snooper, filter, 0)}`);
      const node = await clients.as('node', 'peer');
      expect(await subscribe(node, `${R}/ingress/#`)).to.equal('QoS 1');
      const delivered = inbox(node);
      const payload = unique('private');
      await publish(await clients.as('device'), `${R}/ingress/1/3`, payload);
      expect(await delivered.waitFor(`${R}/ingress/1/3`, payload)).to.equal(true);
      await sleep(GRACE_MS);
      const outcome = `SUBACK ${answers.join(', ')}; ${stolen.received.length === 0 ? 'nothing delivered' : `DELIVERED ${JSON.stringify(stolen.received)}`}`;
      expect(stolen.received, outcome).to.deep.equal([]);
      return outcome;
    },
  };
}

const ROWS: readonly Row[] = [
  allowed('device', `${R}/ingress/1/3`, { as: 'node', filter: `${R}/ingress/#` }),
  allowed('device', `${R}/ingress/1/3/ws/mail`, { as: 'node', filter: `${R}/ingress/#` }),
  allowed('device', `${R}/ingress/1/4`, { as: 'node', filter: `${R}/ingress/#` }),
  forbidden('device', `${R}/ingress/1/5`, { as: 'node', filter: `${R}/ingress/#`, marker: 'backend' }),
  forbidden('device', `${R}/ingress/2/3`, { as: 'node', filter: `${R}/ingress/#`, marker: 'backend' }),
  forbidden('device', `${R}/ingress/1`, { as: 'node', filter: `${R}/ingress/#`, marker: 'backend' }),
  forbidden('device', `${R}/internal/x`, { as: 'node', filter: `${R}/internal/#`, marker: 'node' }),
  forbidden('device', `${R}/egress/1/3/c1`, { as: 'backend', filter: `${R}/egress/#`, marker: 'node' }),
  subscribesToNothing('device', [
    { filter: `${R}/ingress/#`, topic: `${R}/ingress/1/3`, publisher: 'backend', witness: 'node' },
    { filter: `${R}/egress/#`, topic: `${R}/egress/1/3/c1`, publisher: 'node', witness: 'backend' },
  ]),
  allowed('gateway', `${R}/ingress/2/9`, { as: 'node', filter: `${R}/ingress/#` }),
  forbidden('gateway', `${R}/ingress/1/3`, { as: 'node', filter: `${R}/ingress/#`, marker: 'device' }),
  allowed('node', `${R}/egress/1/3/c1`, { as: 'backend', filter: `${R}/egress/#` }, `backend <- ${R}/egress/# (node -> ${R}/egress/1/3/c1)`),
  forbidden('backend', `${R}/internal/x`, { as: 'node', filter: `${R}/internal/#`, marker: 'node' }),
  allowed('backend', `${R}/ingress/7/8`, { as: 'node', filter: `${R}/ingress/#` }),
  allowed('node', `${R}/internal/x`, { as: 'node', filter: `${R}/internal/#` }),
  forbidden('node', `${R}/ingress/1/3`, { as: 'node', filter: `${R}/ingress/#`, marker: 'device' }),
  snoops('backend'),
  refused('anonymous CONNECT', () => ({})),
  refused('device with a wrong password', () => ({ username: ACCOUNTS.device.id, password: 'wrong' })),
  refused('an id that is no account', () => ({ username: 'nobody', password: ACCOUNTS.device.password })),
];

/** The accounts file (scrypt hashes, as the CLI reads it) and the clear passwords. */
async function matrixAccounts(): Promise<{ accounts: Accounts; passwords: Map<string, string> }> {
  const entries = await Promise.all(Object.values(ACCOUNTS).map(async ({ id, password, entry }) => ({ id, ...entry, password: await hashPassword(password) })));
  const accounts = parseAccounts(JSON.stringify({ accounts: entries }), 'acl-matrix accounts');
  return { accounts, passwords: new Map(Object.values(ACCOUNTS).map(({ id, password }) => [id, password])) };
}

describe('ACL matrix (generated broker files, real brokers)', function () {
  this.timeout(60_000);
  const report: string[] = [];

  after(async () => {
    await killAllBrokers();
    if (report.length > 0) process.stdout.write(`\n      What each broker did:\n${report.map((line) => `        ${line}`).join('\n')}\n`);
  });

  for (const candidate of ACL_BROKERS) {
    describe(candidate.name, () => {
      let broker: RunningBroker | undefined;
      let clients: Clients;

      before(async function () {
        requireBinariesOrSkip(this, ...candidate.binaries);
        broker = await candidate.start({ ...(await matrixAccounts()), root: R });
        clients = new Clients(broker);
      });

      afterEach(async () => clients?.closeAll());

      after(async () => {
        await broker?.stop();
      });

      for (const row of ROWS) {
        it(row.label, async () => {
          const line = `${candidate.name}: ${row.label}: ${await row.run(clients)}`;
          report.push(line);
          process.stdout.write(`      ${line}\n`);
        });
      }
    });
  }
});
