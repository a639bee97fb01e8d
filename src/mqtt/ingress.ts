/**
 * MQTT ingress on a node: a device's or a backend's message, received on the
 * user's ingress topic, written to this node's matching sockets.
 *
 * Each node subscribes to `<name>/ingress/<context>/<user>/#` for exactly the users
 * it holds sockets of, beside their delivery topic, and before the socket's 101
 * (cluster/user-subscriptions.ts). The broker hands each message once to each such
 * node, and each node writes it to its own sockets only: every socket is on one
 * node, so each matching socket gets it once, and no node that holds one misses it.
 * docs/iot.md weighs this against one node taking each message (shared
 * subscriptions, which neither aedes nor NATS 2.9 offers).
 *
 * A QoS 1 message can come twice on one link: the broker resends what it sent
 * before a reconnect and saw no PUBACK for, flagged DUP, with its original packet
 * id (MQTT 3.1.1 section 4.4). A DUP whose packet id, topic and payload this node
 * received within the dedup window is dropped as a `duplicate`.
 */
import { createHash } from 'node:crypto';
import type { OutboundMessage } from '../delivery/message.ts';
import { messageId } from '../cluster/codec.ts';
import type { RecentIds } from '../cluster/dedup.ts';
import type { Logger } from '../log/logger.ts';
import { checkIngress, type IngressDropReason, type IngressRules } from './ingress-check.ts';
import { parseIngressTopic } from './ingress-topic.ts';

/** What the node counts of its ingress (delivery/stats.ts holds it). */
export interface IngressStats {
  received: number;
  /** Frames written to sockets. */
  written: number;
  readonly dropped: Map<IngressDropReason, number>;
}

export interface PacketFacts {
  retain: boolean;
  dup: boolean;
  /** The packet id; absent at QoS 0. */
  messageId?: number;
}

export interface IngressDeps {
  rules(): IngressRules;
  /**
   * With mqtt.ingressSubscription `node`: whether this node holds a socket of the user.
   * A message for a user it does not is not its business: passed by, neither checked
   * nor counted as a drop (the node that holds the user's sockets does that).
   */
  holds?(contextId: number, userId: number): boolean;
  /** Writes to this node's matching sockets; returns how many. */
  deliver(outbound: OutboundMessage): number;
  stats: IngressStats;
  log: Logger;
  /** Packets received recently, by packet id, topic and payload digest. */
  recent: RecentIds;
}

export function countIngressDrop(stats: IngressStats, reason: IngressDropReason): void {
  stats.dropped.set(reason, (stats.dropped.get(reason) ?? 0) + 1);
}

export class IngressReceiver {
  constructor(private readonly deps: IngressDeps) {}

  receive(topic: string, payload: Buffer, packet: PacketFacts): void {
    const { stats, log } = this.deps;
    stats.received++;
    if (this.deps.holds && !this.heldHere(topic)) return;
    // A retained message is sent to every new subscriber: state, not an event. A
    // socket opened an hour later must not get an hour-old message as if it were new.
    if (packet.retain) return this.drop('retained', topic, payload);
    const verdict = checkIngress(topic, payload, this.deps.rules());
    if (!verdict.ok) return this.drop(verdict.reason, topic, payload);
    if (packet.messageId !== undefined) {
      const key = `${packet.messageId}\0${topic}\0${createHash('sha1').update(payload).digest('base64')}`;
      if (packet.dup && this.deps.recent.has(key)) return this.drop('duplicate', topic, payload);
      this.deps.recent.add(key);
    }
    const { target, text } = verdict;
    stats.written += this.deps.deliver({ id: messageId(), message: text, contextId: target.contextId, userId: target.userId, pathFilter: target.pathFilter });
    log.debug('ingress.delivered', { topic, bytes: payload.length });
  }

  private heldHere(topic: string): boolean {
    const target = parseIngressTopic(topic, this.deps.rules().prefix);
    return !('problem' in target) && this.deps.holds!(target.contextId, target.userId);
  }

  private drop(reason: IngressDropReason, topic: string, payload: Buffer): void {
    countIngressDrop(this.deps.stats, reason);
    // Never the payload: it is a user's message. The publishing account is not known
    // here (MQTT does not say who published); the embedded broker logs it.
    this.deps.log.warn('ingress.dropped', { reason, topic, bytes: payload.length, account: null });
  }
}
