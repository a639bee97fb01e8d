/**
 * Cross-node deliveries this node published and keeps until every node that held a
 * socket of the user confirms it got them (its receipt, receipts.ts). Why: a broker
 * acknowledges a publish (PUBACK) before it has handed it on or stored it (Mosquitto
 * persists at its autosave, NATS answers no PUBACK when a stream loses its leader),
 * so a broker killed at the wrong moment loses a message every node believes sent.
 * The sender is the one party that still has it: it sends it again, under the same
 * bytes, until the receivers say they have it; receivers drop the repeat by its
 * message ids (the dedup window).
 *
 * Who must confirm: the nodes whose registry (as this node's view shows it) has a
 * socket of the user connected no later than the publish. Recomputed at each check, so
 * a registry that arrives late (a socket opened a moment before the publish, on a node
 * whose announcement the crash held back) still counts. A node is excused once its
 * registry shows no such socket any more, or a new process of it (new epoch) replaced
 * the one that held them. A node cut off from the broker (offline, same process) is
 * not excused: its sockets may still be open, and it gets what it missed when it is
 * back. Its registry is swept from the broker while it is away, so the store keeps
 * its own copy of whom the node held (a ghost), taken as the node went offline, and
 * counts the node in for what is published to those users meanwhile. A publish with nobody to wait for is still kept for
 * `settleMs` after it was sent and after this node's link last came online, which is
 * how long a late registry may take.
 *
 * Bounded: at most `limit()` publishes (cluster.outboxLimit) for at most `timeoutMs`
 * (cluster.confirmTimeout); one given up while a node still owed a receipt is counted
 * and logged by the caller (onGiveUp), never dropped in silence.
 *
 * O(1) per publish and per receipt, plus the user's nodes; a timer sweeps the held
 * publishes every `resendAfterMs / 2` while any is held.
 */
import type { Timers } from '../time/timers.ts';

export interface HeldDelivery {
  /** The publish's number (`f` on the wire): what receipts name. */
  n: number;
  topic: string;
  /** The sealed payload, sent again byte for byte. */
  payload: Buffer;
  contextId: number;
  userId: number;
  /** Messages it carries (what a give-up costs). */
  messages: number;
  heldAt: number;
  sentAt: number;
  sends: number;
  /** Nodes that must confirm it, with the process (epoch) that held the socket; grows as late registries arrive. */
  expected: Map<string, string>;
  confirmed: Set<string>;
}

/** What the store reads of the cluster view (cluster-view.ts). */
export interface ReceiptsView {
  /** [node, epoch] of every registry entry (any liveness) with a socket of the user connected at or before `before`. */
  holders(contextId: number, userId: number, before: number): Array<[string, string]>;
  /** Whether `node`'s process `epoch` still has such a socket in the registry. */
  holds(node: string, epoch: string, contextId: number, userId: number, before: number): boolean;
  /** The node's last presence: its process and whether it is online. */
  presenceOf(node: string): { epoch: string; online: boolean } | undefined;
  /** The users `node`'s process `epoch` holds sockets of, with the earliest socket's time. */
  usersOf(node: string, epoch: string): Array<{ contextId: number; userId: number; since: number }>;
}

/** Whom a cut-off node held when it went offline: "ctx:user" -> earliest socket time. */
interface Ghost {
  epoch: string;
  at: number;
  /** Set when the node is back: the ghost lasts `settleMs` more, until its own registry is in. */
  until?: number;
  users: Map<string, number>;
}

export interface AwaitingReceiptsOptions {
  view: ReceiptsView;
  /** Sends the payload again; false when the link is not online (nothing sent). */
  send: (held: HeldDelivery) => boolean;
  timers: Timers;
  /** How long a receipt may take before the publish goes out again (ms). */
  resendAfterMs: number;
  /**
   * How long a registry may lag (ms): a publish nobody is known to need stays this
   * long after it was sent and after this node's link came online, and a node that
   * came online is trusted to have no socket only after this long (its registry
   * follows its presence).
   */
  settleMs: number;
  /** cluster.confirmTimeout, read at each use (reloadable). */
  timeoutMs: () => number;
  /** cluster.outboxLimit, read at each use. */
  limit: () => number;
  /** A publish let go while `missing` had not confirmed it (timeout or overflow). */
  onGiveUp: (held: HeldDelivery, missing: string[], why: 'timeout' | 'overflow') => void;
}

export class AwaitingReceipts {
  private readonly held = new Map<number, HeldDelivery>();
  /** When each peer last came online, as this node heard it. */
  private readonly peerSince = new Map<string, number>();
  /** Cut-off nodes, by id. */
  private readonly ghosts = new Map<string, Ghost>();
  private timer: unknown;
  private onlineSince: number;
  readonly stats = { held: 0, confirmed: 0, resent: 0, givenUp: 0 };

  constructor(private readonly options: AwaitingReceiptsOptions) {
    this.onlineSince = options.timers.now();
  }

  get size(): number {
    return this.held.size;
  }

  /** A delivery just published (or queued in the outbox). */
  hold(n: number, topic: string, payload: Buffer, contextId: number, userId: number, messages: number): void {
    const now = this.options.timers.now();
    if (this.ghosts.size) this.forgetGhosts(now);
    const expected = new Map(this.holders(contextId, userId, now));
    this.held.set(n, { n, topic, payload, contextId, userId, messages, heldAt: now, sentAt: now, sends: 1, expected, confirmed: new Set() });
    this.stats.held++;
    while (this.held.size > this.options.limit()) this.evictOldest();
    this.arm();
  }

  /** `from` confirmed publishes `ns` of this process. */
  confirm(from: string, ns: number[]): void {
    for (const n of ns) {
      const held = this.held.get(n);
      if (!held) continue;
      held.confirmed.add(from);
      if (held.expected.size > 0 && this.missing(held).length === 0) this.release(held);
    }
  }

  /** This node's link is online again: publishes that nobody seemed to need wait `settleMs` more for late registries. */
  linkOnline(): void {
    this.onlineSince = this.options.timers.now();
  }

  /** `node` came online (again): what it still owes goes out now rather than at the next sweep. */
  peerOnline(node: string): void {
    const now = this.options.timers.now();
    this.peerSince.set(node, now);
    const ghost = this.ghosts.get(node);
    if (ghost) ghost.until = now + this.options.settleMs;
    for (const held of this.held.values()) if (held.expected.has(node) && !held.confirmed.has(node)) this.resend(held, now);
  }

  /**
   * `node` is about to be seen offline. Its registry, as it last wrote it while online,
   * says which sockets it still had: a node that closed the user's sockets before it left
   * (a drain) owes nothing; one whose sockets are still listed (cut off) keeps owing.
   */
  peerOffline(node: string): void {
    const { view, timers } = this.options;
    for (const held of this.held.values()) {
      const epoch = held.expected.get(node);
      if (epoch !== undefined && !held.confirmed.has(node) && !view.holds(node, epoch, held.contextId, held.userId, held.heldAt)) held.expected.delete(node);
    }
    const epoch = view.presenceOf(node)?.epoch;
    if (epoch === undefined) return;
    const users = new Map(view.usersOf(node, epoch).map((u) => [`${u.contextId}:${u.userId}`, u.since]));
    if (users.size) this.ghosts.set(node, { epoch, at: timers.now(), users });
  }

  /** Forgets everything (the node stops). */
  clear(): void {
    this.held.clear();
    if (this.timer !== undefined) this.options.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The registry's holders of the user's sockets, and the cut-off nodes that held one when they left. */
  private holders(contextId: number, userId: number, before: number): Array<[string, string]> {
    const holders = this.options.view.holders(contextId, userId, before);
    if (this.ghosts.size === 0) return holders;
    const now = this.options.timers.now();
    for (const [node, ghost] of this.ghosts) {
      if (ghost.until !== undefined && now >= ghost.until) continue;
      const since = ghost.users.get(`${contextId}:${userId}`);
      if (since !== undefined && since <= before && !holders.some(([n]) => n === node)) holders.push([node, ghost.epoch]);
    }
    return holders;
  }

  /** Ghosts past their time: the node is back and settled, replaced, or away longer than anything is kept. */
  private forgetGhosts(now: number): void {
    for (const [node, ghost] of this.ghosts) {
      const replaced = this.options.view.presenceOf(node)?.epoch !== ghost.epoch;
      if (replaced || (ghost.until !== undefined && now >= ghost.until) || now - ghost.at >= this.options.timeoutMs()) this.ghosts.delete(node);
    }
  }

  /** The nodes that still owe a receipt for `held`. */
  private missing(held: HeldDelivery): string[] {
    const { view, settleMs, timers } = this.options;
    for (const [node, epoch] of this.holders(held.contextId, held.userId, held.heldAt)) if (!held.expected.has(node)) held.expected.set(node, epoch);
    const now = timers.now();
    const missing: string[] = [];
    for (const [node, epoch] of held.expected) {
      if (held.confirmed.has(node)) continue;
      const presence = view.presenceOf(node);
      // A new process replaced the one that held the socket: that socket is gone.
      if (presence && presence.epoch !== epoch) continue;
      // Online long enough for its registry to be in, and it shows no such socket: it closed.
      const settled = presence?.online && now - (this.peerSince.get(node) ?? this.onlineSince) >= settleMs;
      if (settled && !view.holds(node, epoch, held.contextId, held.userId, held.heldAt)) continue;
      // Offline or unknown with the same process: cut off, not gone; it may come back.
      missing.push(node);
    }
    return missing;
  }
  private release(held: HeldDelivery): void {
    this.held.delete(held.n);
    this.stats.confirmed++;
  }

  private evictOldest(): void {
    const oldest: HeldDelivery = this.held.values().next().value!;
    this.held.delete(oldest.n);
    const missing = this.missing(oldest);
    if (missing.length === 0) return; // nobody known to need it
    this.stats.givenUp++;
    this.options.onGiveUp(oldest, missing, 'overflow');
  }

  private resend(held: HeldDelivery, now: number): void {
    if (!this.options.send(held)) return; // offline: the next sweep after the link is back
    held.sentAt = now;
    held.sends++;
    this.stats.resent++;
  }

  private arm(): void {
    if (this.timer !== undefined || this.held.size === 0) return;
    this.timer = this.options.timers.setTimeout(() => {
      this.timer = undefined;
      this.sweep();
      this.arm();
    }, this.options.resendAfterMs / 2);
  }

  private sweep(): void {
    const { timers, resendAfterMs, settleMs } = this.options;
    const now = timers.now();
    const timeout = this.options.timeoutMs();
    this.forgetGhosts(now);
    for (const held of [...this.held.values()]) {
      const missing = this.missing(held);
      if (missing.length === 0) {
        const settled = now - Math.max(held.sentAt, this.onlineSince) >= settleMs;
        if (held.expected.size > 0 || settled) this.release(held);
        continue;
      }
      if (now - held.heldAt >= timeout) {
        this.held.delete(held.n);
        this.stats.givenUp++;
        this.options.onGiveUp(held, missing, 'timeout');
        continue;
      }
      if (now - held.sentAt >= resendAfterMs) this.resend(held, now);
    }
  }
}
