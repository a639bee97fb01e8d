/**
 * The cluster side of delivery over MQTT: implements `Remote` with the broker link,
 * the view of the other nodes, the coalescing buffer and replicated sessions.
 *
 * Out: a message for a user goes into the coalescing buffer; each flushed entry is
 * one publish (QoS 1) to the user's delivery topic, which every node holding a
 * socket of the user subscribes to. Nothing is routed from the view (which may
 * lag): the broker knows who subscribed.
 * In: every payload's seal is checked (envelope.ts), then a table of handlers, one
 * per topic kind (handlers/), takes it.
 * Topic layout and payloads: topics.ts, codec.ts, docs/cluster.md.
 */
import type { AnyActorRef, ActorOptions, AnyActorLogic } from 'xstate';
import type { Logger } from '../log/logger.ts';
import type { OutboundMessage } from '../delivery/message.ts';
import { compilePathFilter, type PathMatcher } from '../delivery/path-filter.ts';
import type { SocketIndex } from '../delivery/socket-index.ts';
import type { NodeStats } from '../delivery/stats.ts';
import type { Deliverability, Remote, RemoteSocketRow } from '../delivery/remote.ts';
import { systemTimers, type Timers } from '../time/timers.ts';
import { AwaitingReceipts, type HeldDelivery } from './awaiting-receipts.ts';
import { Barrier } from './barrier.ts';
import { EndConfirmations } from './end-confirmations.ts';
import type { CoalescingQueue, QueuedEntry } from './coalesce.ts';
import { ClusterView } from './cluster-view.ts';
import { encode, messageId, type CloseCommand, type DeliveryPayload, type EndSessionCommand, type PresencePayload } from './codec.ts';
import { RecentIds } from './dedup.ts';
import type { ClusterKey } from './envelope.ts';
import { dispatch } from './handlers/index.ts';
import type { ClusterParts, LocalNode } from './handlers/context.ts';
import { Peers } from './peers.ts';
import { Queries } from './queries.ts';
import { Receipts } from './receipts.ts';
import { ReplicatedSessionStore } from './replicated-sessions.ts';
import { RegistryBatch } from './registry-batch.ts';
import type { SyncLane, Topics } from './topics.ts';
import { UserSubscriptions, type SubscribeOutcome } from './user-subscriptions.ts';
import { NO_TRACE, type DeliveryTrace } from '../trace/delivery-trace.ts';

export type { LocalNode } from './handlers/context.ts';

/** How often `cluster.delivery_unconfirmed` is logged at most (each one is counted all the same). */
const UNCONFIRMED_LOG_EVERY_MS = 10_000;

/** What the cluster needs of the broker link (the real one, or a fake below the socket in unit tests). */
export interface Link {
  readonly state: string;
  publish(topic: string, payload: Buffer, retain?: boolean): boolean;
  publishAcked(topic: string, payload: Buffer, retain?: boolean): Promise<boolean>;
  /** QoS 0, only while online: false when not sent. */
  publishVolatile(topic: string, payload: Buffer): boolean;
  subscribe(topics: string[]): Promise<SubscribeOutcome>;
  unsubscribe(topics: string[]): void;
}

export interface ClusterRemoteOptions {
  nodeId: string;
  route: string;
  /** Identifies this process: registry entries of earlier processes are told apart by it. */
  epoch: string;
  topics: Topics;
  key: ClusterKey;
  index: SocketIndex;
  queue: CoalescingQueue;
  stats: NodeStats;
  log: Logger;
  timers?: Timers;
  /** How long a read-your-writes barrier or a subscription may hold a request (ms). */
  syncTimeout: number;
  /** cluster.fastPath: also subscribe each delivery topic at QoS 0 (Topics.deliverCopy). */
  fastPath?: boolean;
  /** mqtt.ingressSubscription `user` (the default): each user's ingress filter beside its delivery topic. */
  ingressPerUser?: boolean;
  /** The dedup window (ms, `websockets.dedupWindow`); read at each use, so a reload applies. */
  dedupWindow: () => number;
  /** cluster.confirmTimeout and cluster.outboxLimit (ms, publishes): what the sender keeps for receipts; read at each use. */
  confirmTimeout?: () => number;
  outboxLimit?: () => number;
  /** How long a peer's `offline` waits before it counts (ms); see peer.machine.ts. */
  offlineGrace?: number;
  /** How long after coming online the janitor waits for the retained state before judging what is stale (ms). */
  sweepDelay?: number;
  /**
   * While online, the presence is published again every this many ms (none: only on
   * each connection). A peer that missed it learns of this node within one interval:
   * on a freshly started NATS cluster a node once went 60 s without the presence of a
   * peer that saw it (both links online), and nothing else would have told it.
   */
  presenceRefresh?: number;
  /** What this node saw of each message (src/trace); none by default. */
  trace?: DeliveryTrace;
  /** Seconds each flushed entry waited in the buffer (a metric). */
  observeFlushAge?: (seconds: number) => void;
  inspect?: ActorOptions<AnyActorLogic>['inspect'];
}

export class ClusterRemote implements Remote {
  readonly view: ClusterView;
  readonly sessions: ReplicatedSessionStore;
  readonly barrier: Barrier;
  readonly endConfirmations: EndConfirmations;
  readonly peers: Peers;
  readonly pushIds: RecentIds;
  /** Questions to every live node (queries.ts): admin routes register responders and ask. */
  readonly queries: Queries;
  readonly subscriptions: UserSubscriptions;
  /** Delivery publishes kept until the other nodes confirm them, and the receipts this node owes (awaiting-receipts.ts). */
  readonly awaiting: AwaitingReceipts;
  private readonly receipts: Receipts;
  private readonly parts: ClusterParts;
  private readonly timers: Timers;
  private readonly startedAt: number;
  /** The broker connection our presences speak for (isNewerPresence in peers.ts orders by it). */
  private connection = 0;
  private link: Link | undefined;
  /** The control connection: everything under `sessions/` (Topics.controlSubscriptions says why). */
  private control: Link | undefined;
  /** History writes and reads (src/history/), on a connection of their own when there is one. */
  private historyLink: Link | undefined;
  private buffer: AnyActorRef | undefined;
  private sweepTimer: unknown;
  private presenceTimer: unknown;
  /** Delivery publishes made by this process: the n of a publish's name (`<node>:<n>`) in delivery traces. */
  private deliveryPublishes = 0;
  private readonly trace: DeliveryTrace;
  private readonly registry: RegistryBatch;

  constructor(private readonly options: ClusterRemoteOptions) {
    const timers = (this.timers = options.timers ?? systemTimers);
    this.trace = options.trace ?? NO_TRACE;
    const now = () => timers.now();
    this.startedAt = now();
    this.view = new ClusterView(options.nodeId);
    this.registry = new RegistryBatch({ publish: (contextId, userId) => this.publishRegistry(contextId, userId), timers });
    this.barrier = new Barrier((lane, n) => this.sendMarker(lane, n), timers, options.syncTimeout, setImmediate, (lane, waiters) =>
      // Each waiter now answers from what this node knows: a session logged in elsewhere may be refused.
      options.log.warn('cluster.sync_timeout', { lane, waiters, timeoutMs: options.syncTimeout, advice: 'the broker did not echo a marker in cluster.syncTimeout: check its load and latency, or raise cluster.syncTimeout' }),
    );
    this.endConfirmations = new EndConfirmations(timers);
    this.sessions = new ReplicatedSessionStore(
      options.nodeId,
      {
        publish: (topic, body) => this.publishAcked(topic, body, true),
        topicOf: (id) => options.topics.session(id),
        sync: () => this.barrier.sync('sessions'),
        confirmed: (sessionId) => this.logoutConfirmed(sessionId),
      },
      timers,
      {
        waitMs: options.syncTimeout,
        onLate: (waitedMs) =>
          options.log.warn('cluster.session_late', { waitedMs, advice: 'the broker sent a session record after a later marker (NATS does past mqtt.max_ack_pending in flight): the lookup waited for it; see docs/cluster.md' }),
      },
    );
    this.pushIds = new RecentIds(options.dedupWindow(), now);
    this.queries = new Queries(options.nodeId, timers);
    this.queries.attach({
      liveNodes: () => this.view.liveNodeIds(),
      question: (payload) => this.publish(options.topics.queries(), encode(payload), false),
      answer: (to, payload) => this.publish(options.topics.answers(to), encode(payload), false),
    });
    this.subscriptions = new UserSubscriptions(
      { subscribe: (topics) => this.link?.subscribe(topics) ?? Promise.resolve('offline' as const), unsubscribe: (topics) => this.link?.unsubscribe(topics) },
      (contextId, userId) => [
        options.topics.deliver(contextId, userId),
        ...(options.fastPath ? [options.topics.deliverCopy(contextId, userId)] : []),
        ...(options.ingressPerUser === false ? [] : [options.topics.ingressFilter(contextId, userId)]),
      ],
    );
    // QoS 0: a lost receipt costs one more send of the delivery, which brings another receipt.
    this.receipts = new Receipts((to, epoch, f) => {
      const topic = options.topics.receipts(to);
      this.link?.publishVolatile(topic, this.seal(topic, encode({ v: 1, from: options.nodeId, e: epoch, f })));
    }, timers);
    const unconfirmedLog = { at: -Infinity, since: 0 };
    this.awaiting = new AwaitingReceipts({
      view: this.view,
      send: (held) => this.resendDelivery(held),
      timers,
      resendAfterMs: options.syncTimeout,
      settleMs: options.syncTimeout,
      timeoutMs: options.confirmTimeout ?? (() => 60_000),
      limit: options.outboxLimit ?? (() => 10_000),
      onGiveUp: (held, missing, why) => {
        options.stats.drop('unconfirmed', held.messages);
        // One line per 10 s at most: a node killed for good leaves every delivery to its users unconfirmed for a while.
        const now = timers.now();
        if (now - unconfirmedLog.at < UNCONFIRMED_LOG_EVERY_MS) {
          unconfirmedLog.since++;
          return;
        }
        options.log.warn('cluster.delivery_unconfirmed', {
          contextId: held.contextId,
          userId: held.userId,
          messages: held.messages,
          sends: held.sends,
          missing,
          why,
          othersSinceLastLine: unconfirmedLog.since,
          advice:
            why === 'timeout'
              ? 'these nodes did not confirm a delivery within cluster.confirmTimeout: their sockets of the user may have missed it (check that they reach the broker)'
              : 'more deliveries await confirmation than cluster.outboxLimit: the oldest was let go (check the nodes named and the broker, or raise cluster.outboxLimit)',
        });
        unconfirmedLog.at = now;
        unconfirmedLog.since = 0;
      },
    });
    this.peers = new Peers({
      offlineGrace: options.offlineGrace ?? 300,
      timers,
      inspect: options.inspect,
      verdicts: {
        online: (node, presence) => {
          if (this.view.applyPresence(node, presence) !== 'online') return;
          options.log.info('cluster.node_up', { peer: node, route: presence.route });
          this.awaiting.peerOnline(node);
        },
        offline: (node, presence) => {
          this.awaiting.peerOffline(node);
          if (this.view.applyPresence(node, presence) !== 'offline') return;
          options.log.warn('cluster.node_down', { peer: node });
          this.endConfirmations.nodeGone(node);
          this.queries.nodeGone(node);
          this.sweep();
        },
      },
    });
    this.parts = {
      nodeId: options.nodeId,
      epoch: options.epoch,
      topics: options.topics,
      view: this.view,
      peers: this.peers,
      sessions: this.sessions,
      barrier: this.barrier,
      endConfirmations: this.endConfirmations,
      pushIds: this.pushIds,
      queries: this.queries,
      commandIds: new RecentIds(options.dedupWindow(), now),
      awaiting: this.awaiting,
      receipts: this.receipts,
      local: { deliver: () => 0, skip: () => 0, close: () => 0, endSession: () => 0, history: () => {} },
      stats: options.stats,
      trace: this.trace,
      log: options.log,
      now,
      window: () => options.dedupWindow(),
      publish: (topic, body, retain) => this.publish(topic, body, retain),
      invalid: (kind, where) => {
        options.stats.drop('invalid');
        options.log.warn('cluster.invalid_message', { kind, where });
      },
    };
  }

  attach(parts: { link: Link; control?: Link; history?: Link; buffer: AnyActorRef; local: LocalNode }): void {
    this.link = parts.link;
    this.control = parts.control;
    this.historyLink = parts.history;
    this.buffer = parts.buffer;
    this.parts.local = parts.local;
  }

  // ---- Remote ---------------------------------------------------------------------

  route(outbound: OutboundMessage, matches: PathMatcher): number {
    // Always sent on: a socket may have opened elsewhere a moment ago, and the broker
    // knows its node subscribed even when our view does not show the socket yet.
    this.buffer!.send({ type: 'buffer.enqueue', arrival: { ...outbound } });
    return this.view.nodesFor(outbound.contextId, outbound.userId, matches, outbound.sourceToken).length;
  }

  exists(contextId: number, userId: number, matches: PathMatcher): boolean {
    return this.view.exists(contextId, userId, matches);
  }

  countOfUser(contextId: number, userId: number): number {
    return this.view.countOfUser(contextId, userId);
  }

  hasConnection(contextId: number, userId: number, connectionId: string): boolean {
    return this.view.hasConnection(contextId, userId, connectionId);
  }

  endSession(sessionKey: string): void {
    const command: EndSessionCommand = { v: 1, id: messageId(), from: this.options.nodeId, at: this.timers.now(), type: 'end-session', session: sessionKey };
    this.publish(this.options.topics.commands(), encode(command), false);
  }

  close(contextId: number, userId: number, pathFilter: string | null, code: number): number {
    const nodes = this.view.nodesFor(contextId, userId, compilePathFilter(pathFilter));
    const command: CloseCommand = { v: 1, id: messageId(), from: this.options.nodeId, at: this.timers.now(), type: 'close', ctx: contextId, user: userId, filter: pathFilter, code };
    this.publish(this.options.topics.commands(), encode(command), false);
    return nodes.length;
  }

  list(filter: { contextId?: number; userId?: number }): RemoteSocketRow[] {
    return this.view.list(filter);
  }

  bufferedMessages(): number {
    return this.options.queue.messages;
  }

  localChanged(contextId: number, userId: number): void {
    // The subscription at once (a 101 waits for its SUBACK); the registry paced per user (registry-batch.ts).
    if (this.options.index.countOfUser(contextId, userId)) this.subscriptions.want(contextId, userId);
    else this.subscriptions.unwant(contextId, userId);
    this.registry.mark(contextId, userId);
  }

  /** The user's registry entry as the index holds it now (registry-batch.ts paces it); the sockets it listed. */
  private publishRegistry(contextId: number, userId: number): number {
    const { topics, nodeId, epoch, index } = this.options;
    const sockets = [...index.ofUser(contextId, userId)].map((h) => ({ c: h.connectionId, p: h.path, a: h.remoteAddress, t: h.connectedAt }));
    const topic = topics.registry(nodeId, epoch, contextId, userId);
    this.publish(topic, encode({ v: 1, sockets }), true);
    // No sockets left: the sealed empty list tells every node now; the retained slot is
    // then cleared (an unsealed delete, which nodes honour only for dead writers).
    if (sockets.length === 0) this.publish(topic, undefined, true);
    return sockets.length;
  }

  async deliverable(contextId: number, userId: number): Promise<Deliverability> {
    const outcome = await this.bounded(this.subscriptions.ready(contextId, userId), 'offline');
    if (outcome === 'granted') return 'ready';
    if (outcome === 'offline') return 'unconfirmed';
    this.options.log.warn('cluster.subscribe_refused', {
      contextId,
      userId,
      hint: "the broker refused this node's subscription to the user's delivery topic: check the node account's ACL; on NATS, lower mqtt.max_ack_pending (config/nats/README.md)",
    });
    return 'refused';
  }

  async pushSeen(id: string): Promise<boolean> {
    if (this.pushIds.has(id)) return true;
    await this.barrier.sync('pushes');
    return this.pushIds.has(id);
  }

  async pushAccepted(id: string): Promise<void> {
    this.pushIds.add(id);
    const body = encode({ v: 1, from: this.options.nodeId, at: this.timers.now(), ids: [id] });
    await this.publishAcked(this.options.topics.pushes(), body, false);
  }

  totals(): { nodes: number; sockets: number } {
    const others = this.view.liveNodes();
    return { nodes: others.length + 1, sockets: others.reduce((sum, n) => sum + n.sockets, this.options.index.size) };
  }

  /** A reloaded dedup window applies to the ids already held too. */
  windowChanged(): void {
    this.pushIds.windowMs = this.parts.commandIds.windowMs = this.options.dedupWindow();
  }

  // ---- out --------------------------------------------------------------------------

  /** The buffer's flush: one publish per entry, to its user's delivery topic. */
  flush(entries: QueuedEntry[], now: number): void {
    try {
      for (const entry of entries) {
        this.options.observeFlushAge?.((now - entry.firstArrival) / 1000);
        const f = ++this.deliveryPublishes;
        const payload: DeliveryPayload = { v: 1, from: this.options.nodeId, at: this.timers.now(), filter: entry.pathFilter, p: entry.payloads, f, e: this.options.epoch };
        const topic = this.options.topics.deliver(entry.contextId, entry.userId);
        const online = this.link?.state === 'online';
        const sealed = this.seal(topic, encode(payload));
        const sent = this.publishBytes(topic, sealed, false);
        this.traceFlush(entry, f, topic, sent ? (online ? 'sent' : 'held') : 'outbox-limit');
        if (!sent) continue;
        // Kept until the nodes holding the user's sockets confirm it: the broker may lose it after its PUBACK.
        this.awaiting.hold(f, topic, sealed, entry.contextId, entry.userId, entry.payloads.length);
        this.options.stats.remotePublishes++;
        this.options.stats.remoteSent += entry.payloads.length;
      }
    } catch (error) {
      // Never let a flush failure stop the buffer (and with it the supervisor).
      this.options.stats.drop('invalid', entries.reduce((sum, e) => sum + e.payloads.length, 0));
      this.options.log.error('cluster.flush_failed', { error, entries: entries.length });
    }
  }

  /** Each message of a flushed entry rode in publish `f`; when the outbox dropped it, the user's sockets on other nodes (as the registry shows them) will not get it. */
  private traceFlush(entry: QueuedEntry, f: number, topic: string, outcome: 'sent' | 'held' | 'outbox-limit'): void {
    const count = entry.payloads.length;
    for (const payload of entry.payloads) {
      const trace = this.trace.open(payload.i, payload.k === 1);
      this.trace.published(trace, f, count, topic, outcome);
      if (outcome !== 'outbox-limit') continue;
      const matches = compilePathFilter(entry.pathFilter);
      const missed = this.view.list({ contextId: entry.contextId, userId: entry.userId }).filter((row) => matches(row.path) && row.connectionId !== payload.s);
      this.trace.skippedRemote(trace, missed, 'outbox-limit');
      // No socket known elsewhere: the drop still cost any socket opened there meanwhile.
      if (missed.length === 0) this.trace.skipped(trace, undefined, 'outbox-limit');
    }
  }

  /** Presence and all of this node's state, republished on every (re)connection; then the janitor, once the retained state is in. */
  online(): void {
    const { topics, nodeId } = this.options;
    this.awaiting.linkOnline();
    this.subscriptions.resubscribed();
    this.publish(topics.presence(nodeId), encode(this.presence('online')), true);
    const users = new Set<string>();
    for (const handle of this.options.index.all()) users.add(`${handle.contextId}:${handle.userId}`);
    for (const key of users) {
      const [contextId, userId] = key.split(':').map(Number);
      this.localChanged(contextId, userId);
    }
    // A reconnection republishes everything now, whatever the window says.
    this.registry.flush();
    for (const record of this.sessions.issuedHere()) this.sessions.republish(record);
    this.timers.clearTimeout(this.sweepTimer);
    this.sweepTimer = this.timers.setTimeout(() => this.sweep(), this.options.sweepDelay ?? 1000);
    this.armPresenceRefresh();
  }

  /** The same presence again after `presenceRefresh` ms, and so on until the link drops (online() re-arms it). */
  private armPresenceRefresh(): void {
    const every = this.options.presenceRefresh;
    if (every === undefined) return;
    this.timers.clearTimeout(this.presenceTimer);
    this.presenceTimer = this.timers.setTimeout(() => {
      this.publish(this.options.topics.presence(this.options.nodeId), encode(this.presence('online')), true);
      this.armPresenceRefresh();
    }, every);
  }

  presence(state: 'online' | 'offline'): PresencePayload {
    const { nodeId, epoch, route } = this.options;
    return { v: 1, node: nodeId, epoch, route, state, since: this.startedAt, n: this.connection };
  }

  /** The Last Will for the next broker connection, sealed: that connection's offline. */
  nextWill(): Buffer {
    this.connection++;
    return this.sealedPresence('offline');
  }

  /** A presence payload sealed for its topic: the Last Will and the goodbye are sealed like the rest. */
  sealedPresence(state: 'online' | 'offline'): Buffer {
    const topic = this.options.topics.presence(this.options.nodeId);
    return this.options.key.seal(topic, encode(this.presence(state)));
  }

  /** Removes the registry entries left by dead processes; only one node (the lowest id) does it. */
  sweep(): number {
    const live = [this.options.nodeId, ...this.view.liveNodes().map((n) => n.id)].sort();
    if (live[0] !== this.options.nodeId) return 0;
    let removed = 0;
    for (const node of this.view.knownNodes()) {
      for (const stale of this.view.staleEntries(node)) {
        this.publish(this.options.topics.registry(stale.node, stale.epoch, stale.contextId, stale.userId), undefined, true);
        this.view.applyRegistry(stale.node, stale.epoch, stale.contextId, stale.userId, undefined);
        removed++;
      }
    }
    if (removed) this.options.log.info('cluster.registry_swept', { removed });
    return removed;
  }

  // ---- in ---------------------------------------------------------------------------

  /** `retained`: the broker sent it because this node subscribed (a stored copy), not as it happened. */
  receive(topic: string, payload: Buffer, retained = false): void {
    const parsed = this.options.topics.parse(topic);
    if (!parsed) return;
    let body: string | undefined;
    if (payload.length > 0) {
      body = this.options.key.open(topic, payload);
      if (body === undefined) {
        // Not sealed with the cluster key: whoever wrote it, it was not a node.
        this.options.stats.drop('forged');
        this.options.log.warn('cluster.forged_message', { kind: parsed.kind, topic, bytes: payload.length });
        return;
      }
    }
    try {
      dispatch(parsed, body, this.parts, retained);
    } catch (error) {
      // A bad message must never take the node down.
      this.options.stats.drop('invalid');
      this.options.log.error('cluster.message_failed', { topic, error });
    }
  }

  /** Our link dropped: pending barriers answer from what is known, and suspect peers are taken back. */
  linkLost(): void {
    // Offline, a refresh would wait in the outbox behind what matters; the reconnection publishes it anyway.
    this.timers.clearTimeout(this.presenceTimer);
    this.barrier.linkLost();
    this.peers.linkLost();
  }

  /** The control connection dropped: markers in flight may never come back; their lookups answer from what is known. */
  controlLost(): void {
    this.barrier.linkLost();
  }

  /** Cancels pending timers and stops the peer actors (shutdown). */
  stop(): void {
    this.registry.flush();
    this.timers.clearTimeout(this.sweepTimer);
    this.timers.clearTimeout(this.presenceTimer);
    this.barrier.linkLost();
    // Logouts still waiting for confirmations answer now: no timer outlives the node.
    this.endConfirmations.close();
    this.queries.close();
    this.receipts.stop();
    this.awaiting.clear();
    this.peers.stop();
  }

  // ---- publishing ---------------------------------------------------------------------

  /** False when the outbox refused it (counted and logged here). `body` undefined clears a retained slot. */
  /** Publishes a sealed body on the main link (or clears a retained slot with `undefined`): for the history rings. */
  publishSealed(topic: string, body: string | undefined, retain: boolean): boolean {
    return this.publish(topic, body, retain);
  }

  private publish(topic: string, body: string | undefined, retain: boolean): boolean {
    return this.publishBytes(topic, this.seal(topic, body), retain);
  }

  private publishBytes(topic: string, payload: Buffer, retain: boolean): boolean {
    const link = this.linkFor(topic);
    if (!link) return false;
    if (link.publish(topic, payload, retain)) return true;
    this.outboxFull(topic);
    return false;
  }

  /** A delivery sent again for want of receipts: only while online (offline, the next sweep after the link is back). */
  private resendDelivery(held: HeldDelivery): boolean {
    const link = this.linkFor(held.topic);
    return link?.state === 'online' && link.publish(held.topic, held.payload, false);
  }

  /** Resolves once the broker acknowledged it, or when it cannot now (offline: held in the outbox) or within the sync timeout. */
  private publishAcked(topic: string, body: string | undefined, retain: boolean): Promise<boolean> {
    const link = this.linkFor(topic);
    if (!link) return Promise.resolve(false);
    return this.bounded(link.publishAcked(topic, this.seal(topic, body), retain), false);
  }

  /** Sessions, their markers and confirmations go over the control connection (when there is one). */
  private linkFor(topic: string): Link | undefined {
    if (this.historyLink && topic.startsWith(this.options.topics.historyPrefix())) return this.historyLink;
    return this.control && this.options.topics.isControl(topic) ? this.control : this.link;
  }

  private seal(topic: string, body: string | undefined): Buffer {
    return body === undefined ? Buffer.alloc(0) : this.options.key.seal(topic, body);
  }

  /** Every node this one sees live applied the logout of `sessionId`, or the wait (cluster.syncTimeout) is over. */
  private async logoutConfirmed(sessionId: string): Promise<void> {
    // Offline, nobody can confirm: the tombstone waits in the outbox and the node answers from what it knows.
    if (this.linkFor(this.options.topics.sessionEnded())?.state !== 'online') return;
    const missing = await this.endConfirmations.expect(sessionId, this.view.liveNodeIds(), this.options.syncTimeout);
    if (missing.length)
      this.options.log.warn('cluster.logout_unconfirmed', {
        missing,
        timeoutMs: this.options.syncTimeout,
        advice: 'these nodes did not confirm a logout in cluster.syncTimeout and may accept the session until its tombstone reaches them: check that they are up and reach the broker',
      });
  }

  private sendMarker(lane: SyncLane, n: number): boolean {
    const topic = this.options.topics.sync(lane);
    if (this.linkFor(topic)?.state !== 'online') return false;
    return this.publish(topic, encode({ v: 1, sync: this.options.nodeId, n }), false);
  }

  private outboxFull(topic: string): void {
    this.options.stats.drop('outboxFull');
    this.options.log.warn('cluster.outbox_full', { topic, advice: 'the broker is unreachable and cluster.outboxLimit is reached; messages to other nodes are dropped' });
  }

  /** At most `syncTimeout`: a broker that does not answer must not hold a request for long. */
  /** `promise`, or `fallback` after cluster.syncTimeout. */
  private bounded<T>(promise: Promise<T>, fallback: T): Promise<T> {
    return new Promise((resolve) => {
      const timer = this.timers.setTimeout(() => resolve(fallback), this.options.syncTimeout);
      void promise.then((value) => {
        this.timers.clearTimeout(timer);
        resolve(value);
      });
    });
  }
}
