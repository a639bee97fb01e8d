/**
 * One MQTT publish from a short-lived client, as a device does it: connect (MQTT 3.1.1,
 * clean session, no reconnect), publish, wait for the PUBACK at QoS 1, disconnect.
 *
 * Failures come back as a kind, not as text: the command (mqtt-publish.ts) words them
 * for its user with the flags to fix. Nothing here prints, and no result carries the
 * password.
 */
import { randomBytes } from 'node:crypto';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';

export interface PublishOnceRequest {
  /** `mqtt://host:port`, `mqtts://`, `ws://` or `wss://`, without credentials. */
  url: string;
  topic: string;
  payload: string;
  qos: 0 | 1;
  username?: string;
  password?: string;
  /** From the start of the TCP connection to the CONNACK. */
  connectTimeoutMs: number;
  /** From the PUBLISH to its PUBACK (QoS 1), or to its write (QoS 0). */
  ackTimeoutMs: number;
}

export type PublishFailure =
  /** No TCP connection: nothing listens there, the host is unknown, or the network is down. */
  | { kind: 'unreachable'; code: string }
  /** The broker answered CONNECT with a refusal (MQTT 3.1.1 section 3.2.2.3: 4 bad user name or password, 5 not authorized). */
  | { kind: 'refused'; returnCode: number }
  /** No CONNACK, or no PUBACK, in time. */
  | { kind: 'timeout'; stage: Stage }
  /** The broker closed the connection: before the CONNACK, or instead of a PUBACK (how a 3.1.1 broker refuses a publish). */
  | { kind: 'closed'; stage: Stage }
  | { kind: 'error'; stage: Stage; message: string };

type Stage = 'connect' | 'publish';

/** Socket errors meaning there is no connection to speak of (Node's `code`s). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT']);

/** Publishes once; resolves to `undefined` when done (acknowledged at QoS 1), else to why not. Never rejects. */
export async function publishOnce(request: PublishOnceRequest): Promise<PublishFailure | undefined> {
  const options: IClientOptions = {
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: request.connectTimeoutMs,
    // A fresh id: a device's own id would take over (and disconnect) the device's session.
    clientId: `wsmesh-cli-${randomBytes(6).toString('hex')}`,
    username: request.username,
    password: request.password,
  };
  const client = connect(request.url, options);
  // mqtt.js can emit 'error' more than once (a refused CONNACK, then the stream's end);
  // with no listener left, the next one would be thrown.
  client.on('error', () => {});
  try {
    const connected = await until(client, 'connect', request.connectTimeoutMs, (done) => client.once('connect', () => done(undefined)));
    if (connected) return connected;
    const published = await until(client, 'publish', request.ackTimeoutMs, (done) =>
      client.publish(request.topic, request.payload, { qos: request.qos, retain: false }, (err) => done(err ? failure(err, 'publish') : undefined)),
    );
    if (published) return published;
    // The message is through: a broker slow to close must not hold the command up.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, request.ackTimeoutMs);
      client.end(false, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return undefined;
  } finally {
    // After a failure, or a graceful end that took too long: drop the socket, leave no timer.
    if (!client.disconnected) client.end(true);
  }
}

/**
 * Waits for `start` to call back, or the first error, close or timeout, whichever
 * comes first; the listeners are removed either way.
 */
function until(client: MqttClient, stage: Stage, timeoutMs: number, start: (done: (result: PublishFailure | undefined) => void) => void): Promise<PublishFailure | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: PublishFailure | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.off('error', onError);
      client.off('close', onClose);
      resolve(result);
    };
    const onError = (err: Error): void => finish(failure(err, stage));
    const onClose = (): void => finish({ kind: 'closed', stage });
    const timer = setTimeout(() => finish({ kind: 'timeout', stage }), timeoutMs);
    client.on('error', onError);
    client.on('close', onClose);
    start(finish);
  });
}

function failure(err: Error & { code?: unknown }, stage: Stage): PublishFailure {
  // A CONNACK refusal: mqtt.js's ErrorWithReasonCode carries the return code as a number.
  if (typeof err.code === 'number') return { kind: 'refused', returnCode: err.code };
  if (typeof err.code === 'string' && UNREACHABLE.has(err.code)) return { kind: 'unreachable', code: err.code };
  if (err.message === 'connack timeout') return { kind: 'timeout', stage: 'connect' };
  // mqtt.js fails pending publishes with 'Connection closed' when the connection drops.
  if (err.code === 'ECONNRESET' || err.message === 'Connection closed') return { kind: 'closed', stage };
  return { kind: 'error', stage, message: err.message };
}
