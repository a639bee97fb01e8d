/**
 * What waits for the broker while it is unreachable. Two parts, because they obey
 * different rules:
 * - messages (inbox mail, commands): kept in order, at most `limit`; the overflow is
 *   refused and counted (the caller logs it) rather than growing without bound;
 * - retained state (presence, registry, sessions): only the last value per topic
 *   matters, so it is kept per topic and never counts against the limit.
 */

export interface Publish {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

export class Outbox {
  private readonly messages: Publish[] = [];
  private readonly state = new Map<string, Publish>();
  overflowed = 0;

  constructor(public limit: number) {}

  get size(): number {
    return this.messages.length;
  }

  /** False when the message was refused (full). */
  add(publish: Publish): boolean {
    if (publish.retain) {
      this.state.delete(publish.topic); // re-insert: keeps the order of last writes
      this.state.set(publish.topic, publish);
      return true;
    }
    if (this.messages.length >= this.limit) {
      this.overflowed++;
      return false;
    }
    this.messages.push(publish);
    return true;
  }

  /** Everything held, state first (it tells where sockets are), then messages in order. */
  drain(): Publish[] {
    const all = [...this.state.values(), ...this.messages];
    this.state.clear();
    this.messages.length = 0;
    return all;
  }
}
