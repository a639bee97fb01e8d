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
 */
import { userKey } from '../delivery/socket-index.ts';

/** What subscribing needs of the broker link. */
export interface Subscriber {
  /** Resolves true on the SUBACK; false when offline (the next connection subscribes everything anyway). */
  subscribe(topics: string[]): Promise<boolean>;
  unsubscribe(topics: string[]): void;
}

interface Wanted {
  topic: string;
  /** The SUBACK of this topic's latest SUBSCRIBE (or of the connection that subscribed it). */
  ready: Promise<boolean>;
}

export class UserSubscriptions {
  private readonly wanted = new Map<string, Wanted>();

  constructor(
    private readonly subscriber: Subscriber,
    private readonly topicOf: (contextId: number, userId: number) => string,
  ) {}

  get size(): number {
    return this.wanted.size;
  }

  want(contextId: number, userId: number): void {
    const key = userKey(contextId, userId);
    if (this.wanted.has(key)) return;
    const topic = this.topicOf(contextId, userId);
    this.wanted.set(key, { topic, ready: this.subscriber.subscribe([topic]) });
  }

  unwant(contextId: number, userId: number): void {
    const key = userKey(contextId, userId);
    const wanted = this.wanted.get(key);
    if (!wanted) return;
    this.wanted.delete(key);
    this.subscriber.unsubscribe([wanted.topic]);
  }

  /** Resolves true once the broker confirmed the user's subscription; false when it could not (offline). */
  ready(contextId: number, userId: number): Promise<boolean> {
    return this.wanted.get(userKey(contextId, userId))?.ready ?? Promise.resolve(false);
  }

  /** Every wanted topic: a new connection subscribes them all. */
  topics(): string[] {
    return [...this.wanted.values()].map((w) => w.topic);
  }

  /** A new connection subscribed everything: every wanted topic is ready with it. */
  resubscribed(): void {
    for (const wanted of this.wanted.values()) wanted.ready = Promise.resolve(true);
  }
}
