/**
 * The node's link to the MQTT broker: one mqtt.js client with a fixed client id and a
 * persistent session (clean=false), so QoS 1 mail for a briefly disconnected node
 * waits at the broker; a Last Will announcing the node offline; its own reconnect
 * policy (broker.machine.ts); and an outbox for what is published while offline.
 * MQTT 3.1.1 only, so the same nodes run on Mosquitto, NATS or RabbitMQ's MQTT.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { createActor } from 'xstate';
import type { ActorOptions, AnyActorLogic } from 'xstate';
import { brokerMachine } from '../actors/broker.machine.ts';
import type { Logger } from '../log/logger.ts';
import { Outbox, type Publish } from './outbox.ts';

export interface BrokerLinkOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  keepalive: number;
  will: { topic: string; payload: Buffer };
  subscriptions: string[];
  outboxLimit: number;
  log: Logger;
  inspect?: ActorOptions<AnyActorLogic>['inspect'];
  /** Called on each (re)connection, after the subscriptions are in place. */
  onOnline: (sessionPresent: boolean) => void;
  onOffline?: (reason: string) => void;
  onMessage: (topic: string, payload: Buffer) => void;
  /** Called when the outbox refuses a message (full). */
  onOverflow?: (publish: Publish) => void;
}

export type BrokerLinkState = 'connecting' | 'online' | 'offline' | 'closed';

export class BrokerLink {
  readonly actor;
  private readonly client: MqttClient;
  private readonly outbox: Outbox;
  private readonly log: Logger;

  constructor(private readonly options: BrokerLinkOptions) {
    this.log = options.log;
    this.outbox = new Outbox(options.outboxLimit);
    const clientOptions: IClientOptions = {
      clientId: options.clientId,
      clean: false,
      protocolVersion: 4,
      keepalive: options.keepalive,
      reconnectPeriod: 0, // reconnects are broker.machine.ts's decision
      connectTimeout: 5000,
      manualConnect: true,
      resubscribe: false, // we subscribe ourselves on every connection (see connected())
      username: options.username || undefined,
      password: options.password || undefined,
      will: { topic: options.will.topic, payload: options.will.payload, qos: 1, retain: true },
    };
    this.client = mqtt.connect(options.url, clientOptions);
    this.client.on('connect', (connack) => this.connected(connack.sessionPresent));
    this.client.on('close', () => this.actor.send({ type: 'mqtt.lost', reason: 'connection closed' }));
    this.client.on('error', (error) => this.log.warn('broker.error', { error, url: redactUrl(options.url) }));
    this.client.on('message', (topic, payload) => options.onMessage(topic, payload));
    this.actor = createActor(brokerMachine, {
      systemId: 'broker',
      inspect: options.inspect,
      input: {
        io: {
          connect: () => (this.client.connected ? undefined : this.client.reconnect()),
          end: () => this.client.end(true),
          online: (sessionPresent) => this.online(sessionPresent),
          offline: (reason) => {
            this.log.warn('broker.offline', { reason, url: redactUrl(options.url), outbox: this.outbox.size });
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

  get reconnects(): number {
    return this.actor.getSnapshot().context.reconnects;
  }

  get outboxSize(): number {
    return this.outbox.size;
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

  /** Publishes the last words (e.g. presence offline), then disconnects cleanly. */
  async close(lastWords: Publish[] = []): Promise<void> {
    if (this.state === 'online') {
      await Promise.all(lastWords.map((p) => this.client.publishAsync(p.topic, p.payload, { qos: 1, retain: p.retain }).catch(() => undefined)));
      await this.client.endAsync().catch(() => undefined);
    }
    this.actor.send({ type: 'link.close' });
  }

  /**
   * Subscribes on every connection, even when the broker kept our session: a new
   * process reusing a persistent session would otherwise never receive the retained
   * state, and a re-SUBSCRIBE makes the broker re-send it (MQTT 3.1.1 section 3.8.4),
   * which also refreshes presence that changed while the link was down.
   */
  private connected(sessionPresent: boolean): void {
    const topics = Object.fromEntries(this.options.subscriptions.map((t) => [t, { qos: 1 as const }]));
    this.client.subscribe(topics, (error) => {
      if (error) {
        this.log.error('broker.subscribe_failed', { error });
        this.client.end(true);
        return;
      }
      this.actor.send({ type: 'mqtt.connected', sessionPresent });
    });
  }

  /**
   * Runs as the machine enters `online`, before its snapshot says so: what onOnline
   * publishes lands in the outbox, which is drained right after, in one go.
   */
  private online(sessionPresent: boolean): void {
    this.options.onOnline(sessionPresent);
    const held = this.outbox.drain();
    this.log.info('broker.online', { url: redactUrl(this.options.url), sessionPresent, flushed: held.length });
    for (const publish of held) this.send(publish);
  }

  private send(publish: Publish): void {
    this.client.publish(publish.topic, publish.payload, { qos: 1, retain: publish.retain });
  }
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
