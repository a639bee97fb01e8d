/**
 * The node's link to the MQTT broker: one mqtt.js client with a fixed client id and a
 * persistent session (clean=false), so QoS 1 messages for a briefly disconnected
 * node wait at the broker; a Last Will announcing the node offline; its own reconnect
 * policy (broker.machine.ts); and an outbox for what is published while offline.
 * MQTT 3.1.1 only, so the same nodes run on Mosquitto, aedes or a NATS cluster.
 *
 * Several URLs are the servers of one clustered broker: each (re)connection tries
 * the next one, so a node that loses its server fails over to another, resuming its
 * persistent session there (subscriptions, queued messages).
 *
 * A new process first wipes the persistent session its client id may have left at
 * the broker (one CONNECT with clean=true): what was queued there was for sockets of
 * an earlier process, which are gone; the subscriptions it held are not ours.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { createActor } from 'xstate';
import type { ActorOptions, AnyActorLogic } from 'xstate';
import { brokerMachine } from '../actors/broker.machine.ts';
import type { Logger } from '../log/logger.ts';
import { Outbox, type Publish } from './outbox.ts';
import { Unacked } from './unacked.ts';
import { PacketPacer } from './packet-pacer.ts';
import { systemTimers } from '../time/timers.ts';
import type { SubscribeOutcome } from './user-subscriptions.ts';

export interface BrokerLinkOptions {
  /** One URL, or the servers of one clustered broker (tried in turn). */
  urls: string[];
  clientId: string;
  username?: string;
  password?: string;
  keepalive: number;
  /** The Last Will, asked for before each connection (its payload names the connection); none on the control connection. */
  will?: () => { topic: string; payload: Buffer };
  /** The link's actor in the inspector ('broker' unless told). */
  systemId?: string;
  /** Which of the node's links this is, in every log line of it (`main` unless told). */
  name?: 'main' | 'control' | 'history';
  /** Everything to subscribe to on each connection: the fixed topics and the current delivery topics. */
  subscriptions: () => string[];
  /** The QoS to subscribe `filter` at: 1 unless told (Topics.deliverCopy filters are 0). */
  qosOf?: (filter: string) => 0 | 1;
  outboxLimit: number;
  log: Logger;
  inspect?: ActorOptions<AnyActorLogic>['inspect'];
  /** Called on each (re)connection, after the subscriptions are in place. */
  onOnline: (sessionPresent: boolean) => void;
  onOffline?: (reason: string) => void;
  /** `retained`: a stored copy the broker sent because of a new subscription. */
  /** `packet`: the PUBLISH's DUP flag and packet id (ingress drops a QoS 1 resend it already had). */
  onMessage: (topic: string, payload: Buffer, retained: boolean, packet: { dup: boolean; messageId?: number }) => void;
  /** How long a PUBACK of an event (not retained) may take before it is sent again (ms; unacked.ts). */
  resendAfterMs?: number;
  /** Called when the outbox refuses a message (full). */
  onOverflow?: (publish: Publish) => void;
  /** Milliseconds of incoming packets per turn of the event loop (packet-pacer.ts); none: no pacing. */
  sliceMs?: () => number;
}

export type BrokerLinkState = 'connecting' | 'online' | 'offline' | 'closed';

/** Topics per SUBSCRIBE packet when a connection resubscribes everything (a node may hold 20k users). */
const SUBSCRIBE_CHUNK = 1000;

export class BrokerLink {
  readonly actor;
  private readonly client: MqttClient;
  private readonly outbox: Outbox;
  private readonly unacked: Unacked;
  private readonly log: Logger;
  private readonly clientOptions: IClientOptions;
  /** Whether this process has wiped its client id's earlier session yet. */
  private wiped = false;
  /** Wipe attempts so far: each tries the next server, so a dead first server does not stop the start. */
  private wipeAttempts = 0;
  private readonly servers: Server[];

  constructor(private readonly options: BrokerLinkOptions) {
    this.log = options.log.child({ link: options.name ?? 'main' });
    this.outbox = new Outbox(options.outboxLimit);
    this.unacked = new Unacked({
      timers: systemTimers,
      afterMs: options.resendAfterMs ?? 2000,
      resend: (publish, acked) => {
        if (this.state !== 'online') return false;
        this.client.publish(publish.topic, publish.payload, { qos: 1, retain: false }, acked);
        return true;
      },
      onResend: (publish, resends) => this.log.warn('broker.puback_late', { topic: publish.topic, resends, url: this.where(), advice: 'the broker did not acknowledge a publish in time and it was sent again (receivers drop the second copy by its id); check the broker\'s health' }),
      onGiveUp: (publish) => this.log.error('broker.publish_given_up', { topic: publish.topic, url: this.where(), advice: 'the broker never acknowledged this publish; it may be lost. Check the broker\'s health and logs' }),
    });
    const servers = options.urls.map(serverOf);
    this.servers = servers;
    this.clientOptions = {
      ...servers[0],
      servers: servers.length > 1 ? servers : undefined,
      clientId: options.clientId,
      clean: false,
      protocolVersion: 4,
      keepalive: options.keepalive,
      reconnectPeriod: 0, // reconnects are broker.machine.ts's decision
      connectTimeout: 5000,
      manualConnect: true,
      resubscribe: false, // we subscribe ourselves on every connection (see connected())
      username: options.username || urlCredentials(options.urls[0]).username,
      password: options.password || urlCredentials(options.urls[0]).password,
    };
    this.client = mqtt.connect(this.clientOptions);
    this.client.on('connect', (connack) => {
      // mqtt.js leaves Nagle on; a handshake waits for small packets (SUBACK, a
      // barrier marker's echo) that Nagle would hold behind the previous one's ACK.
      (this.client!.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      this.connected(connack.sessionPresent);
    });
    this.client.on('close', () => this.actor.send({ type: 'mqtt.lost', reason: 'connection closed' }));
    this.client.on('error', (error) => this.log.warn('broker.error', { error, url: this.where() }));
    this.client.on('message', (topic, payload, packet) => options.onMessage(topic, payload, packet.retain, packet));
    if (options.sliceMs) this.client.handleMessage = new PacketPacer({ sliceMs: options.sliceMs }).handle;
    this.actor = createActor(brokerMachine, {
      systemId: options.systemId ?? 'broker',
      inspect: options.inspect,
      input: {
        io: {
          connect: () => this.connect(),
          end: () => {
            try {
              this.client.end(true);
            } catch (error) {
              // mqtt.js throws from end() when the client has no stream (between a
              // failed connect and its next attempt): it is ended all the same.
              this.log.debug('broker.end_failed', { error: (error as Error).message });
            }
          },
          online: (sessionPresent) => this.online(sessionPresent),
          offline: (reason) => {
            this.log.warn('broker.offline', { reason, url: this.where(), outbox: this.outbox.size });
            options.onOffline?.(reason);
          },
        },
      },
    });
  }

  start(): this {
    this.actor.start();
    return this;
  }

  get state(): BrokerLinkState {
    return this.actor.getSnapshot().value as BrokerLinkState;
  }

  /** Ends a backoff now (the node's other link to this broker just came online); otherwise nothing. */
  retryNow(): void {
    this.actor.send({ type: 'link.retry' });
  }

  get reconnects(): number {
    return this.actor.getSnapshot().context.reconnects;
  }

  get outboxSize(): number {
    return this.outbox.size;
  }

  /** Publishes not yet acknowledged by the broker, or held while it is away: what egress bounds by cluster.outboxLimit. */
  get pending(): number {
    return this.unacked.size + this.outbox.size;
  }

  get outboxOverflowed(): number {
    return this.outbox.overflowed;
  }

  setOutboxLimit(limit: number): void {
    this.outbox.limit = limit;
  }

  /** Publishes now when online, else holds it in the outbox. False when refused (outbox full). */
  publish(topic: string, payload: Buffer, retain = false): boolean {
    const publish = { topic, payload, retain };
    if (this.state === 'online') {
      this.send(publish);
      return true;
    }
    if (this.outbox.add(publish)) return true;
    this.options.onOverflow?.(publish);
    return false;
  }

  /**
   * Publishes at QoS 0, only while online (false otherwise, nothing kept): for what the
   * sender asks for again when it is lost (receipts, receipts.ts). No PUBACK to wait for,
   * and on NATS no JetStream on its way.
   */
  publishVolatile(topic: string, payload: Buffer): boolean {
    if (this.state !== 'online') return false;
    this.client.publish(topic, payload, { qos: 0, retain: false });
    return true;
  }

  /**
   * Publishes and resolves true on the broker's PUBACK. Offline, the message waits
   * in the outbox and this resolves false at once: the caller does not wait for a
   * broker that is away (the node serves locally meanwhile).
   */
  publishAcked(topic: string, payload: Buffer, retain = false): Promise<boolean> {
    if (this.state !== 'online') return Promise.resolve(this.publish(topic, payload, retain) && false);
    return new Promise((resolve) => this.client.publish(topic, payload, { qos: 1, retain }, (error) => resolve(!error)));
  }

  /** Subscribes (QoS 1) and says how the broker answered (see SubscribeOutcome). */
  subscribe(topics: string[]): Promise<SubscribeOutcome> {
    if (this.state !== 'online') return Promise.resolve('offline');
    if (topics.length === 0) return Promise.resolve('granted');
    return new Promise((resolve) => {
      this.client.subscribe(this.withQos(topics), (error, _granted, suback) => {
        // mqtt.js fails the call on a SUBACK with a 0x80 return code, and hands over
        // the SUBACK itself; a failure without one means the packet got no answer
        // (the link dropped).
        const codes = (suback as { granted?: Array<number | { qos: number }> } | undefined)?.granted ?? [];
        if (codes.some((c) => ((typeof c === 'number' ? c : c.qos) & 0x80) !== 0)) resolve('refused');
        else resolve(error ? 'offline' : 'granted');
      });
    });
  }

  unsubscribe(topics: string[]): void {
    if (this.state === 'online' && topics.length) this.client.unsubscribe(topics);
  }

  /** Resolves when online, or after `timeoutMs` (false) — the node serves locally meanwhile. */
  whenOnline(timeoutMs: number): Promise<boolean> {
    if (this.state === 'online') return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), timeoutMs);
      const subscription = this.actor.subscribe((snapshot) => snapshot.value === 'online' && done(true));
      function done(online: boolean) {
        clearTimeout(timer);
        subscription.unsubscribe();
        resolve(online);
      }
    });
  }

  /**
   * Publishes the last words (e.g. presence offline), then disconnects cleanly. A
   * broker that does not acknowledge within a keepalive (a connection that died
   * unnoticed, a server that is failing over) does not hold the shutdown: the
   * connection is dropped, and the Will says the rest.
   */
  async close(lastWords: Publish[] = []): Promise<void> {
    if (this.state === 'online') {
      const polite = (async () => {
        await Promise.all(lastWords.map((p) => this.client.publishAsync(p.topic, p.payload, { qos: 1, retain: p.retain }).catch(() => undefined)));
        await this.client.endAsync().catch(() => undefined);
      })();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), this.options.keepalive * 1000)));
      const outcome = await Promise.race([polite, late]);
      clearTimeout(timer);
      if (outcome === 'late') {
        this.log.warn('broker.close_timeout', { url: this.where(), seconds: this.options.keepalive, advice: 'the broker did not acknowledge the last words; peers learn of this node\'s end from its Will' });
        this.client.end(true);
      }
    }
    this.unacked.clear();
    this.actor.send({ type: 'link.close' });
  }

  /** The server of the current (or last) connection, for logs: without credentials. */
  where(): string {
    const { protocol, host, port } = this.client.options;
    return `${protocol ?? 'mqtt'}://${host}:${port}`;
  }

  private connect(): void {
    if (this.client.connected) return;
    const will = this.options.will?.();
    this.client.options.will = will && { topic: will.topic, payload: will.payload, qos: 1, retain: true };
    if (this.wiped) {
      this.client.reconnect();
      return;
    }
    // One short connection with clean=true ends the earlier process's session.
    const first = this.wipeAttempts++ % this.servers.length;
    const servers = [...this.servers.slice(first), ...this.servers.slice(0, first)];
    const wipe = mqtt.connect({ ...this.clientOptions, ...servers[0], servers: servers.length > 1 ? servers : undefined, clean: true, will: undefined, manualConnect: false, reconnectPeriod: 0 });
    const done = (wiped: boolean) => {
      wipe.removeAllListeners();
      wipe.on('error', () => {});
      wipe.end(true);
      if (!wiped) return this.actor.send({ type: 'mqtt.lost', reason: 'broker unreachable' });
      this.wiped = true;
      this.log.info('broker.session_wiped', { clientId: this.options.clientId, advice: 'messages queued for an earlier process of this node were for sockets that are gone' });
      this.client.reconnect();
    };
    wipe.once('connect', () => done(true));
    wipe.once('error', () => done(false));
    wipe.once('close', () => done(false));
  }

  /**
   * Subscribes on every connection, even when the broker kept our session: a new
   * process reusing a persistent session would otherwise never receive the retained
   * state, and a re-SUBSCRIBE makes the broker re-send it (MQTT 3.1.1 section 3.8.4),
   * which also refreshes presence that changed while the link was down.
   */
  private connected(sessionPresent: boolean): void {
    const all = this.options.subscriptions();
    const chunks: string[][] = [];
    for (let i = 0; i < all.length; i += SUBSCRIBE_CHUNK) chunks.push(all.slice(i, i + SUBSCRIBE_CHUNK));
    let pending = chunks.length;
    let failed = false;
    // A link with nothing to subscribe (the history connection) is online at once.
    if (pending === 0) this.actor.send({ type: 'mqtt.connected', sessionPresent });
    for (const chunk of chunks) {
      this.client.subscribe(this.withQos(chunk), (error) => {
        if (failed) return;
        if (error) {
          failed = true;
          this.log.error('broker.subscribe_failed', { error });
          this.client.end(true);
          return;
        }
        if (--pending === 0) this.actor.send({ type: 'mqtt.connected', sessionPresent });
      });
    }
  }

  /**
   * Runs as the machine enters `online`, before its snapshot says so: what onOnline
   * publishes lands in the outbox, which is drained right after, in one go.
   */
  private online(sessionPresent: boolean): void {
    this.options.onOnline(sessionPresent);
    const held = this.outbox.drain();
    this.log.info('broker.online', { url: this.where(), sessionPresent, flushed: held.length });
    for (const publish of held) this.send(publish);
  }

  private withQos(filters: string[]): Record<string, { qos: 0 | 1 }> {
    const qosOf = this.options.qosOf ?? (() => 1 as const);
    return Object.fromEntries(filters.map((f) => [f, { qos: qosOf(f) }]));
  }

  private send(publish: Publish): void {
    // Retained state is republished whole on reconnection; events are sent again when their PUBACK is late.
    if (publish.retain) this.client.publish(publish.topic, publish.payload, { qos: 1, retain: true });
    else this.client.publish(publish.topic, publish.payload, { qos: 1, retain: false }, this.unacked.track(publish));
  }

}

/** `cluster.broker` as a list of URLs: one, or the servers of one clustered broker, comma-separated. */
export function brokerUrls(setting: string): string[] {
  return setting
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean);
}

interface Server {
  host: string;
  port: number;
  protocol: 'mqtt' | 'mqtts' | 'ws' | 'wss';
  path?: string;
}

const DEFAULT_PORTS = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 };

function serverOf(url: string): Server {
  const parsed = new URL(url);
  const protocol = parsed.protocol.replace(':', '') as Server['protocol'];
  const server: Server = { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: parsed.port ? Number(parsed.port) : DEFAULT_PORTS[protocol], protocol };
  if (parsed.pathname && parsed.pathname !== '/') server.path = parsed.pathname;
  return server;
}

/** Credentials written into the first URL (`mqtt://user:pass@host`), used when the config gives none. */
function urlCredentials(url: string): { username?: string; password?: string } {
  const parsed = new URL(url);
  return { username: decodeURIComponent(parsed.username) || undefined, password: decodeURIComponent(parsed.password) || undefined };
}

/** The password given in `cluster.passwordFile` (first line) or `cluster.password`. */
export function brokerPassword(cluster: { password: string; passwordFile: string }): string {
  if (!cluster.passwordFile) return cluster.password;
  return readFileSync(cluster.passwordFile, 'utf8').split(/\r?\n/)[0];
}

/** A URL as it may be logged: without credentials. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '[unparseable url]';
  }
}
