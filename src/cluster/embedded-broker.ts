/**
 * The embedded MQTT broker: aedes in this process, on a plain TCP listener, so a
 * single node or a demo (`npm start`) needs nothing installed. Production uses
 * Mosquitto (`mosquitto.conf` at the top level); nodes speak the same MQTT 3.1.1
 * to either.
 *
 * aedes keeps its default in-memory persistence: retained messages and the QoS 1
 * queues of persistent sessions (clean: false) survive a client's absence, but not
 * this process. That is the embedded broker's whole durability promise.
 *
 * Every client authenticates: the nodes' own user name and password, which every
 * node of the cluster presents, and the accounts of `mqtt.accountsFile` (devices,
 * backends, more nodes); anonymous clients only with `allowAnonymous`. What each may
 * publish and subscribe is mqtt/grants.ts, enforced on every packet by
 * mqtt/broker-guard.ts. A refused PUBLISH ends the client's connection (aedes speaks
 * MQTT 3.1.1, which has no reason code to send instead); a refused SUBSCRIBE gets
 * SUBACK 0x80. Both are counted.
 */
import { Aedes, type Client } from 'aedes';
import memoryPersistence from 'aedes-persistence';
import type { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { EmbeddedBrokerConfig } from '../config/types.ts';
import { silentLogger, type Logger } from '../log/logger.ts';
import { indexRetained, type RetainedPersistence } from './retained-index.ts';
import { BrokerGuard, type BrokerGuardOptions, type ClientRights } from '../mqtt/broker-guard.ts';
import { NO_ACCOUNTS } from '../mqtt/accounts.ts';

/** aedes's default persistence; a CommonJS function whose typings say `export default`, which NodeNext reads as a namespace. */
const newMemoryPersistence = memoryPersistence as unknown as () => RetainedPersistence;

export interface EmbeddedBroker {
  /** `mqtt://host:port`, with the port actually bound. */
  readonly url: string;
  /** The port actually bound (the free one chosen when asked for port 0). */
  readonly port: number;
  /**
   * Closes every client connection, the listener and aedes. Leaves no timer or
   * socket behind, so a process that has nothing else to do exits. Idempotent.
   */
  close(): Promise<void>;
  /** The accounts file changed: clients whose account is gone or changed are disconnected. Returns how many. */
  accountsChanged(): number;
}

/** An error of `listen()`, reworded for an operator; `code` is Node's (`EADDRINUSE`...). */
export class BrokerListenError extends Error {
  readonly code: string;

  constructor(message: string, code: string) {
    super(message);
    this.name = 'BrokerListenError';
    this.code = code;
  }
}

/**
 * Starts aedes on `host:port` (port 0: a free port, reported in `port` and `url`).
 * Rejects with a `BrokerListenError` (code `EADDRINUSE` when the port is taken)
 * after releasing everything it had started.
 */
export interface BrokerAccount {
  username: string;
  password: string;
}

/** An MQTT 3.1.1 CONNACK refusal: "bad user name or password" (return code 4). */
const BAD_CREDENTIALS = Object.assign(new Error('bad user name or password'), { returnCode: 4 });
const NOT_AUTHORIZED = new Error('not authorized to publish on this topic');

/**
 * Where an ingress message that fails its checks goes instead: a `$` topic, which no
 * wildcard matches and no account may subscribe to. aedes can only refuse a PUBLISH
 * by closing the connection; a device whose one message was too large must keep its
 * connection and get its PUBACK, so the message is routed to nobody.
 */
const DISCARD_TOPIC = '$wsmesh/discarded';

/** The guard's settings a caller may give; the nodes' pair and allowAnonymous come from the options themselves. */
export type GuardSettings = Partial<Omit<BrokerGuardOptions, 'allowAnonymous' | 'nodePair'>>;

export async function startEmbeddedBroker(
  options: Pick<EmbeddedBrokerConfig, 'host' | 'port'> & { allowAnonymous: boolean; account?: BrokerAccount; guard?: GuardSettings },
  log: Logger = silentLogger,
): Promise<EmbeddedBroker> {
  const guard = new BrokerGuard({
    root: 'wsmesh',
    restrictNodePair: false,
    accounts: () => NO_ACCOUNTS,
    refused: (action, details) => log.info('broker.refused', { action, ...details }),
    ingressDropped: (reason, details) => log.warn('ingress.dropped', { reason, ...details }),
    ...options.guard,
    allowAnonymous: options.allowAnonymous,
    nodePair: options.account,
  });
  const rights = new WeakMap<Client, ClientRights>();
  const aedes = await Aedes.createBroker({
    persistence: indexRetained(newMemoryPersistence()) as never,
    authenticate: (client, username, password, done) => {
      guard.authenticate(client.id, username, password).then(
        (granted) => {
          if (granted) rights.set(client, granted);
          done(granted ? null : BAD_CREDENTIALS, granted !== undefined);
        },
        () => done(BAD_CREDENTIALS, false),
      );
    },
    authorizePublish: (client, packet, done) => {
      // No client: aedes publishing a will of a client gone before the broker restarted.
      if (!client) return done(null);
      const granted = rights.get(client);
      if (packet.topic.startsWith('$SYS/') || !granted || !guard.mayPublish(granted, client.id, packet.topic)) return done(NOT_AUTHORIZED);
      if (!guard.admitsIngress(granted, packet.topic, packet.payload as Buffer)) {
        packet.topic = DISCARD_TOPIC;
        packet.retain = false;
      }
      done(null);
    },
    authorizeSubscribe: (client, subscription, done) => {
      const granted = rights.get(client);
      // A null subscription is a refusal of this filter alone: SUBACK 0x80, the connection stays.
      done(null, granted && guard.maySubscribe(granted, client.id, subscription.topic) ? subscription : (null as never));
    },
  });
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    // Small packets (a SUBACK, a marker's echo) are what a handshake waits for: Nagle
    // would hold each behind the previous one's ACK.
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });

  aedes.on('client', (client: Client) => log.debug('broker.connect', { clientId: client.id }));
  aedes.on('clientDisconnect', (client: Client) => log.debug('broker.disconnect', { clientId: client.id }));
  aedes.on('clientError', (client: Client, err: Error) => log.debug('broker.client_error', { clientId: client.id, err }));
  // aedes emits 'error' from its periodic will sweep; unhandled it would crash the
  // node. Its typings omit the event, hence the upcast.
  const emitter: EventEmitter = aedes;
  emitter.on('error', (err: Error) => log.warn('broker.error', { err }));

  try {
    await listen(server, options.host, options.port);
  } catch (err) {
    await closeAedes(aedes);
    throw listenError(err, options);
  }

  const port = (server.address() as { port: number }).port;
  const url = `mqtt://${urlHost(options.host)}:${port}`;
  log.info('broker.listening', { url });

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close() {
      closing ??= shutdown(server, aedes, sockets).then(() => log.info('broker.closed', { url }));
      return closing;
    },
    accountsChanged() {
      let ended = 0;
      for (const client of Object.values((aedes as unknown as { clients: Record<string, Client> }).clients)) {
        const granted = rights.get(client);
        if (!granted || guard.stillValid(granted)) continue;
        log.info('broker.account_changed', { account: granted.account, clientId: client.id, advice: 'its account was removed or changed in the accounts file: the client must connect again' });
        client.close();
        ended++;
      }
      return ended;
    },
  };
}

/** Stop accepting, close the MQTT clients, then drop any socket still open (e.g. one that never sent CONNECT). */
async function shutdown(server: Server, aedes: Aedes, sockets: Set<Socket>): Promise<void> {
  const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
  await closeAedes(aedes);
  for (const socket of sockets) socket.destroy();
  await serverClosed;
}

function closeAedes(aedes: Aedes): Promise<void> {
  return new Promise((resolve) => aedes.close(() => resolve()));
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function listenError(err: unknown, { host, port }: Pick<EmbeddedBrokerConfig, 'host' | 'port'>): Error {
  const code = (err as NodeJS.ErrnoException).code ?? 'ELISTEN';
  const where = `${host}:${port}`;
  if (code === 'EADDRINUSE') {
    return new BrokerListenError(
      `the embedded MQTT broker cannot listen on ${where} (in use): choose another port with --broker-port, or connect to a running broker with --broker mqtt://host:port`,
      code,
    );
  }
  const reason = err instanceof Error ? err.message : String(err);
  return new BrokerListenError(`the embedded MQTT broker cannot listen on ${where}: ${reason}`, code);
}

/** IPv6 literals need brackets in a URL. */
function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
