/**
 * The delivery topics this node subscribes to: one per user it holds a socket of.
 * A push for a user is published to the user's topic; the broker hands it to
 * every node subscribed at that moment. A node subscribes before it answers a
 * socket's 101 (the upgrade waits for the SUBACK), so a push accepted anywhere
 * after the 101 reaches the socket, whatever any node's view of the registry says.
 *
 * `want` on a user's first socket, `unwant` after the last; both O(1). A user who
 * comes back while the UNSUBSCRIBE is in flight is subscribed again: MQTT keeps a
 * connection's packets in order, so the broker sees UNSUBSCRIBE then SUBSCRIBE.
 *
 * A broker may refuse a subscription (SUBACK 0x80: an ACL, or NATS's cap on the QoS 1
 * messages in flight per session). The user is then forgotten, so the socket that
 * waited is refused and the next one of that user tries again.
 */
import { userKey } from '../delivery/socket-index.ts';

/**
 * How a SUBSCRIBE ended: `granted` (SUBACK), `refused` (SUBACK 0x80 for a topic), or
 * `offline` (not sent, or the link dropped first: the next connection subscribes
 * every wanted topic anyway).
 */
export type SubscribeOutcome = 'granted' | 'refused' | 'offline';

/** What subscribing needs of the broker link. */
export interface Subscriber {
  subscribe(topics: string[]): Promise<SubscribeOutcome>;
  unsubscribe(topics: string[]): void;
}

interface Wanted {
  /** The user's delivery topic, and its QoS 0 copy filter when cluster.fastPath is on. */
  topics: string[];
  /** The SUBACK of this topic's latest SUBSCRIBE (or of the connection that subscribed it). */
  ready: Promise<SubscribeOutcome>;
}

export class UserSubscriptions {
  private readonly wanted = new Map<string, Wanted>();

  constructor(
    private readonly subscriber: Subscriber,
    private readonly topicsOf: (contextId: number, userId: number) => string[],
  ) {}

  get size(): number {
    return this.wanted.size;
  }

  want(contextId: number, userId: number): void {
    const key = userKey(contextId, userId);
    if (this.wanted.has(key)) return;
    const topics = this.topicsOf(contextId, userId);
    const wanted: Wanted = { topics, ready: this.subscriber.subscribe(topics) };
    this.wanted.set(key, wanted);
    void wanted.ready.then((outcome) => {
      // Only this SUBSCRIBE's own entry: a newer want (after an unwant) has its own.
      if (outcome === 'refused' && this.wanted.get(key) === wanted) this.wanted.delete(key);
    });
  }

  unwant(contextId: number, userId: number): void {
    const key = userKey(contextId, userId);
    const wanted = this.wanted.get(key);
    if (!wanted) return;
    this.wanted.delete(key);
    this.subscriber.unsubscribe(wanted.topics);
  }

  /** How the user's subscription stands: `offline` for a user not wanted. */
  ready(contextId: number, userId: number): Promise<SubscribeOutcome> {
    return this.wanted.get(userKey(contextId, userId))?.ready ?? Promise.resolve('offline');
  }

  /** Every wanted topic: a new connection subscribes them all. */
  topics(): string[] {
    return [...this.wanted.values()].flatMap((w) => w.topics);
  }

  /** A new connection subscribed everything: every wanted topic is ready with it. */
  resubscribed(): void {
    for (const wanted of this.wanted.values()) wanted.ready = Promise.resolve('granted');
  }
}
