/**
 * The node's counters. Plain numbers, incremented on the hot path in O(1); the
 * admin stats route reads them, the metrics issue exports them.
 */
import type { ErrorCode } from '../errors.ts';
import type { IngressStats } from '../mqtt/ingress.ts';

/** Why a client frame was not published to the egress topic (docs/iot.md). */
export type EgressDropReason = 'outboxFull' | 'offline';

/** What the broker refused a client of the embedded broker. */
export type BrokerRefusal = 'connect' | 'publish' | 'subscribe';

/**
 * Why a message did not reach a socket: the socket was closing; nobody had a matching
 * socket anywhere (offline); the outbox was full while the broker was away; it was
 * mail for an earlier process of this node (stale); an exact duplicate was coalesced
 * away; it was a redelivery of a message already delivered (duplicate); its body
 * did not decode (invalid); it came through the broker without the cluster
 * key's seal (forged); the directory disables its user now (disabled); or another
 * node never confirmed a delivery to it within cluster.confirmTimeout, or past
 * cluster.outboxLimit (unconfirmed: counted on the sender, per message).
 */
export type DropReason = 'closing' | 'offline' | 'outboxFull' | 'stale' | 'coalesced' | 'duplicate' | 'invalid' | 'forged' | 'disabled' | 'unconfirmed';

export class NodeStats {
  handshakesAccepted = 0;
  readonly handshakesRejected = new Map<ErrorCode, number>();
  messagesDelivered = 0;
  messagesReceived = 0;
  readonly dropped = new Map<DropReason, number>();
  slowConsumerCloses = 0;
  /** Delivery publishes to other nodes (one per coalesced entry, however many messages). */
  remotePublishes = 0;
  /** Messages sent to / received from other nodes. */
  remoteSent = 0;
  remoteReceived = 0;
  /** Open sockets by served prefix (`/ws`, `/socket.io`). */
  readonly socketsByPrefix = new Map<string, number>();
  /** Closed sockets by close code. */
  readonly closes = new Map<number, number>();
  /** MQTT ingress from devices and backends (mqtt/ingress.ts). */
  readonly ingress: IngressStats = { received: 0, written: 0, dropped: new Map() };
  /** Client frames published to the egress topics, and those dropped. */
  readonly egress = { published: 0, dropped: new Map<EgressDropReason, number>() };
  /** Streams begun (src/history/recovery.ts): fresh, recovered, not recovered; messages written again. */
  readonly streams = { fresh: 0, recovered: 0, notRecovered: 0, replayed: 0 };
  /** What the embedded broker refused its clients, by action. */
  readonly brokerRefused = new Map<BrokerRefusal, number>();

  /** Upgrades authenticated (`ok`) or refused (the code), by source: session, token, proxy. */
  readonly authRequests = new Map<string, number>();

  authenticated(source: string, result: string): void {
    const key = `${source} ${result}`;
    this.authRequests.set(key, (this.authRequests.get(key) ?? 0) + 1);
  }

  socketAdmitted(prefix: string): void {
    this.socketsByPrefix.set(prefix, (this.socketsByPrefix.get(prefix) ?? 0) + 1);
  }

  socketEnded(prefix: string, code: number): void {
    this.socketReleased(prefix);
    this.closes.set(code, (this.closes.get(code) ?? 0) + 1);
  }

  /** An admitted socket is gone; `socketEnded` also counts its close code. */
  socketReleased(prefix: string): void {
    this.socketsByPrefix.set(prefix, (this.socketsByPrefix.get(prefix) ?? 1) - 1);
  }

  rejected(code: ErrorCode): void {
    this.handshakesRejected.set(code, (this.handshakesRejected.get(code) ?? 0) + 1);
  }

  drop(reason: DropReason, count = 1): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + count);
  }

  toJSON() {
    return {
      handshakes: { accepted: this.handshakesAccepted, rejected: Object.fromEntries(this.handshakesRejected) },
      messages: { delivered: this.messagesDelivered, received: this.messagesReceived, dropped: Object.fromEntries(this.dropped) },
      slowConsumerCloses: this.slowConsumerCloses,
      remote: { publishes: this.remotePublishes, sent: this.remoteSent, received: this.remoteReceived },
      ingress: { received: this.ingress.received, written: this.ingress.written, dropped: Object.fromEntries(this.ingress.dropped) },
      egress: { published: this.egress.published, dropped: Object.fromEntries(this.egress.dropped) },
      brokerRefused: Object.fromEntries(this.brokerRefused),
      streams: { ...this.streams },
    };
  }
}
