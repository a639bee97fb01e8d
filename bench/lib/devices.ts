/**
 * The two ways the ingress bench sends a message to a user, behind one interface:
 * simulated MQTT devices (one mqtt.js connection each, publishing to the user's
 * ingress topic) and the HTTP push path (`POST /api/push` with the admin token).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { CONTEXT_ID } from './directory.ts';
import type { NodePair } from './node-pair.ts';
import { runPool } from './pool.ts';

export interface Sender {
  /** As printed in the tables. */
  readonly path: 'http' | 'mqtt';
  /** Sends `message` from device `device` to user `userId`; resolves once acknowledged (PUBACK, or written at QoS 0; the push's 202). */
  send(device: number, userId: number, message: string, qos: 0 | 1): Promise<void>;
  /** The first failure seen outside a send (a device's connection closed), if any. */
  readonly error: Error | undefined;
}

const CONNECT_TIMEOUT_MS = 10_000;
const CONNECT_CONCURRENCY = 10;
const CLOSE_WAIT_MS = 3000;

export interface DeviceSetup {
  /** Device i connects to `urls[i % length]`. */
  urls: readonly string[];
  count: number;
  username: string;
  password: string;
  /** `<cluster.name>/ingress/<context>/`. */
  topicPrefix: string;
  log: (line: string) => void;
}

/** D MQTT clients on one account (each with its own client id), publishing to `<prefix><user>`. */
export class MqttDevices implements Sender {
  readonly path = 'mqtt';
  private failure: Error | undefined;
  private closing = false;

  private readonly clients: MqttClient[] = [];

  private constructor(private readonly topicPrefix: string) {}

  /** Connects every device, `CONNECT_CONCURRENCY` at a time; rejects with the first refusal. */
  static async connect(setup: DeviceSetup): Promise<MqttDevices> {
    const devices = new MqttDevices(setup.topicPrefix);
    const runId = Math.random().toString(36).slice(2, 8);
    let connected = 0;
    try {
      await runPool(setup.count, CONNECT_CONCURRENCY, async (i) => {
        devices.watch(i, await connectOne(setup.urls[i % setup.urls.length], `bench-device-${runId}-${i}`, setup.username, setup.password));
        if (++connected % Math.max(1, Math.ceil(setup.count / 4)) === 0) setup.log(`${connected}/${setup.count} devices connected`);
      });
    } catch (error) {
      await devices.close();
      throw new Error(`a device could not connect to the broker as ${setup.username}: ${(error as Error).message}; check that the broker knows the account (the bench's accounts file, Mosquitto's password file and ACL)`, { cause: error });
    }
    return devices;
  }

  /** Keeps device i's client, noting the first failure: a connection closed during the run is one. */
  private watch(i: number, client: MqttClient): void {
    this.clients[i] = client;
    client.on('close', () => {
      if (!this.closing) this.failure ??= new Error(`device ${i}: its MQTT connection closed during the run (the broker's log says why: an ACL or grant refusal closes it on the embedded broker)`);
    });
    client.on('error', (error) => (this.failure ??= new Error(`device ${i}: ${error.message}`)));
  }

  get error(): Error | undefined {
    return this.failure;
  }

  send(device: number, userId: number, message: string, qos: 0 | 1): Promise<void> {
    return new Promise((resolve, reject) => this.clients[device].publish(this.topicPrefix + userId, message, { qos }, (error) => (error ? reject(error) : resolve())));
  }

  /** Disconnects every device (DISCONNECT, then the socket). Idempotent. */
  async close(): Promise<void> {
    this.closing = true;
    const ended = Promise.all(this.clients.filter(Boolean).map((client) => new Promise<void>((resolve) => client.end(false, {}, () => resolve()))));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ended, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
    // A client whose DISCONNECT did not finish in time (a broker gone first): drop its socket.
    for (const client of this.clients) if (client && !client.disconnected) client.end(true);
  }
}

function connectOne(url: string, clientId: string, username: string, password: string): Promise<MqttClient> {
  const client = mqtt.connect(url, { protocolVersion: 4, clientId, username, password, clean: true, reconnectPeriod: 0, connectTimeout: CONNECT_TIMEOUT_MS, keepalive: 60 });
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => {
      client.off('connect', connected);
      client.end(true);
      reject(new Error(`${url}: ${error.message}`));
    };
    const closed = () => failed(new Error('connection closed before CONNACK'));
    const connected = () => {
      client.off('error', failed);
      client.off('close', closed);
      resolve(client);
    };
    client.once('connect', connected);
    client.once('error', failed);
    client.once('close', closed);
  });
}

/** The HTTP push path: device d's messages as `POST /api/push` on A when d is even, on B when odd. */
export class HttpPushes implements Sender {
  readonly path = 'http';
  readonly error = undefined;
  /** The first answer other than one frame here and one on the other node. */
  badAnswer: string | undefined;

  constructor(private readonly pair: NodePair) {}

  async send(device: number, userId: number, message: string): Promise<void> {
    const node = device % 2 === 0 ? this.pair.a : this.pair.b;
    const answer = await this.pair.push(node, { contextId: CONTEXT_ID, userId, message });
    if ((answer.local !== 1 || answer.remote !== 1) && !this.badAnswer) this.badAnswer = `push to user ${userId} on ${node.name} answered ${JSON.stringify(answer)}, expected {local: 1, remote: 1}`;
  }
}
