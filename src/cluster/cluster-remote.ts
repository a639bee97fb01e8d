/**
 * The cluster side of delivery over MQTT: implements `Remote` with the broker link,
 * the view of the other nodes, the coalescing buffer and replicated sessions.
 *
 * Out: a message for a user with sockets on other nodes is queued in the buffer;
 * each flush groups the due entries per target node and publishes one inbox message
 * per node (QoS 1), addressed to the node's current epoch.
 * In: a dispatch table per topic kind (presence, registry, sessions, inbox, commands).
 * Topic layout and payloads: topics.ts, codec.ts, docs/cluster.md.
 */
import type { AnyActorRef } from 'xstate';
import type { Logger } from '../log/logger.ts';
import type { OutboundMessage } from '../delivery/message.ts';
import { compilePathFilter, type PathMatcher } from '../delivery/path-filter.ts';
import type { SocketIndex } from '../delivery/socket-index.ts';
import type { NodeStats } from '../delivery/stats.ts';
import type { QueuedEntry } from './coalesce.ts';
import { ClusterView } from './cluster-view.ts';
import { decodeCommand, decodeInbox, decodePresence, decodeRegistry, encode, messageId, type CloseCommand, type InboxItem, type PresencePayload } from './codec.ts';
import { RecentIds } from './dedup.ts';
import { ReplicatedSessionStore } from './replicated-sessions.ts';
import type { Remote, RemoteSocketRow } from './remote.ts';
import type { ParsedTopic, Topics } from './topics.ts';

/** What the cluster needs of the local node. */
export interface LocalNode {
  deliver(outbound: OutboundMessage): number;
  close(contextId: number, userId: number, matches: PathMatcher, code: number): number;
}

/** How the cluster publishes (the broker link, or a fake below the socket in unit tests). */
export interface Publisher {
  publish(topic: string, payload: Buffer, retain?: boolean): boolean;
}

export interface ClusterRemoteOptions {
  nodeId: string;
  route: string;
  /** Identifies this process: mail and registry entries of earlier processes are told apart by it. */
  epoch: string;
  topics: Topics;
  index: SocketIndex;
  stats: NodeStats;
  log: Logger;
  now?: () => number;
  /**
   * How long a peer's `offline` waits before it counts (ms). A broker that shuts
   * down publishes every client's Last Will before closing the connections, so each
   * node hears the others "die" just before its own link drops; those are dropped by
   * `linkLost()`, and a real death still counts within the grace.
   */
  offlineGrace?: number;
}

type Handler = (topic: ParsedTopic, payload: Buffer) => void;

export class ClusterRemote implements Remote {
  readonly view: ClusterView;
  readonly sessions: ReplicatedSessionStore;
  private readonly recent = new RecentIds();
  private readonly startedAt: number;
  private publisher: Publisher | undefined;
  private buffer: AnyActorRef | undefined;
  private local: LocalNode | undefined;
  private readonly handlers: Record<ParsedTopic['kind'], Handler>;
  /** Peers whose `offline` waits out the grace: node -> timer. */
  private readonly pendingOffline = new Map<string, NodeJS.Timeout>();

  constructor(private readonly options: ClusterRemoteOptions) {
    this.view = new ClusterView(options.nodeId);
    this.startedAt = (options.now ?? Date.now)();
    this.sessions = new ReplicatedSessionStore(options.nodeId, {
      publish: (topic, payload, retain) => this.publish(topic, payload, retain),
      topicOf: (id) => options.topics.session(id),
    });
    this.handlers = {
      presence: (t, p) => this.onPresence(t as Extract<ParsedTopic, { kind: 'presence' }>, p),
      registry: (t, p) => this.onRegistry(t as Extract<ParsedTopic, { kind: 'registry' }>, p),
      session: (t, p) => this.onSession(t as Extract<ParsedTopic, { kind: 'session' }>, p),
      inbox: (_t, p) => this.onInbox(p),
      command: (_t, p) => this.onCommand(p),
    };
  }

  attach(parts: { publisher: Publisher; buffer: AnyActorRef; local: LocalNode }): void {
    this.publisher = parts.publisher;
    this.buffer = parts.buffer;
    this.local = parts.local;
  }

  // ---- Remote ---------------------------------------------------------------------

  route(outbound: OutboundMessage, matches: PathMatcher): number {
    const targets = this.view.nodesFor(outbound.contextId, outbound.userId, matches, outbound.sourceToken);
    if (targets.length === 0) return 0;
    this.buffer!.send({ type: 'buffer.enqueue', arrival: { ...outbound } });
    return targets.length;
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

  close(contextId: number, userId: number, pathFilter: string | null, code: number): number {
    const nodes = this.view.nodesFor(contextId, userId, compilePathFilter(pathFilter));
    const command: CloseCommand = { v: 1, id: messageId(), from: this.options.nodeId, type: 'close', ctx: contextId, user: userId, filter: pathFilter, code };
    this.publish(this.options.topics.commands(), encode(command));
    return nodes.length;
  }

  list(filter: { contextId?: number; userId?: number }): RemoteSocketRow[] {
    return this.view.list(filter);
  }

  bufferedMessages(): number {
    return (this.buffer?.getSnapshot().context as { queue?: { messages: number } } | undefined)?.queue?.messages ?? 0;
  }

  localChanged(contextId: number, userId: number): void {
    const { topics, nodeId, epoch, index } = this.options;
    const sockets = [...index.ofUser(contextId, userId)].map((h) => ({ c: h.connectionId, p: h.path, a: h.remoteAddress, t: h.connectedAt }));
    const payload = sockets.length ? encode({ v: 1, sockets }) : Buffer.alloc(0);
    this.publish(topics.registry(nodeId, epoch, contextId, userId), payload, true);
  }

  totals(): { nodes: number; sockets: number } {
    const others = this.view.liveNodes();
    return { nodes: others.length + 1, sockets: others.reduce((sum, n) => sum + n.sockets, this.options.index.size) };
  }

  // ---- out --------------------------------------------------------------------------

  /** The buffer's flush: one inbox publish per target node, with all its due entries. */
  flush(entries: QueuedEntry[]): void {
    const perNode = new Map<string, InboxItem[]>();
    for (const entry of entries) {
      const matches = compilePathFilter(entry.pathFilter);
      // Targets are computed now, not at arrival: sockets may have moved meanwhile.
      const skip = entry.payloads.length === 1 ? entry.payloads[0].s : undefined;
      const targets = this.view.nodesFor(entry.contextId, entry.userId, matches, skip);
      if (targets.length === 0) {
        this.options.stats.drop('offline', entry.payloads.length);
        this.options.log.debug('cluster.undeliverable', { contextId: entry.contextId, userId: entry.userId, messages: entry.payloads.length, reason: 'offline' });
        continue;
      }
      const item: InboxItem = { ctx: entry.contextId, user: entry.userId, filter: entry.pathFilter, payloads: entry.payloads };
      for (const node of targets) {
        let items = perNode.get(node);
        if (!items) perNode.set(node, (items = []));
        items.push(item);
      }
    }
    for (const [node, items] of perNode) {
      const to = this.view.epochOf(node);
      if (!to) continue;
      const id = messageId();
      if (!this.publish(this.options.topics.inbox(node), encode({ v: 1, id, from: this.options.nodeId, to, items }))) continue;
      this.options.stats.remotePublishes++;
      this.options.stats.remoteSent += items.reduce((sum, i) => sum + i.payloads.length, 0);
    }
  }

  /** Presence and all of this node's state, republished on every (re)connection. */
  announce(): void {
    const { topics, nodeId } = this.options;
    this.publish(topics.presence(nodeId), encode(this.presence('online')), true);
    const users = new Set<string>();
    for (const handle of this.options.index.all()) users.add(`${handle.contextId}:${handle.userId}`);
    for (const key of users) {
      const [contextId, userId] = key.split(':').map(Number);
      this.localChanged(contextId, userId);
    }
    for (const record of this.sessions.issuedHere()) this.sessions.republish(record);
  }

  presence(state: 'online' | 'offline'): PresencePayload {
    const { nodeId, epoch, route } = this.options;
    return { v: 1, node: nodeId, epoch, route, state, since: this.startedAt };
  }

  /** Removes the registry entries left by dead processes; only one node (the lowest id) does it. */
  sweep(): number {
    const live = [this.options.nodeId, ...this.view.liveNodes().map((n) => n.id)].sort();
    if (live[0] !== this.options.nodeId) return 0;
    let removed = 0;
    for (const node of this.view.knownNodes()) {
      for (const stale of this.view.staleEntries(node)) {
        this.publish(this.options.topics.registry(stale.node, stale.epoch, stale.contextId, stale.userId), Buffer.alloc(0), true);
        this.view.applyRegistry(stale.node, stale.epoch, stale.contextId, stale.userId, undefined);
        removed++;
      }
    }
    if (removed) this.options.log.info('cluster.registry_swept', { removed });
    return removed;
  }

  // ---- in ---------------------------------------------------------------------------

  receive(topic: string, payload: Buffer): void {
    const parsed = this.options.topics.parse(topic);
    if (!parsed) return;
    try {
      this.handlers[parsed.kind](parsed, payload);
    } catch (error) {
      // A bad message must never take the node down.
      this.options.stats.drop('invalid');
      this.options.log.error('cluster.message_failed', { topic, error });
    }
  }

  private onPresence(topic: { node: string }, payload: Buffer): void {
    const presence = payload.length ? decodePresence(payload) : undefined;
    if (payload.length && !presence) return this.invalid('presence', topic.node);
    const node = topic.node;
    if (!presence || presence.state === 'offline') {
      if (node === this.options.nodeId || this.pendingOffline.has(node)) return;
      const timer = setTimeout(() => {
        this.pendingOffline.delete(node);
        this.applyPresence(node, presence);
      }, this.options.offlineGrace ?? 300);
      this.pendingOffline.set(node, timer.unref());
      return;
    }
    clearTimeout(this.pendingOffline.get(node));
    this.pendingOffline.delete(node);
    this.applyPresence(node, presence);
  }

  private applyPresence(node: string, presence: PresencePayload | undefined): void {
    const change = this.view.applyPresence(node, presence);
    if (change === 'online') this.options.log.info('cluster.node_up', { peer: node, route: presence?.route });
    if (change === 'offline') {
      this.options.log.warn('cluster.node_down', { peer: node });
      this.sweep();
    }
  }

  /** Our link dropped: `offline`s heard just before were the broker leaving, not the peers. */
  linkLost(): void {
    for (const timer of this.pendingOffline.values()) clearTimeout(timer);
    this.pendingOffline.clear();
  }

  /** Cancels pending timers (shutdown). */
  stop(): void {
    this.linkLost();
  }

  private onRegistry(topic: Extract<ParsedTopic, { kind: 'registry' }>, payload: Buffer): void {
    const { node, epoch, contextId, userId } = topic;
    if (node === this.options.nodeId) {
      // Entries of an earlier process of this node: its sockets are gone.
      if (epoch !== this.options.epoch && payload.length) this.publish(this.options.topics.registry(node, epoch, contextId, userId), Buffer.alloc(0), true);
      return;
    }
    const entry = payload.length ? decodeRegistry(payload) : undefined;
    if (payload.length && !entry) return this.invalid('registry', node);
    this.view.applyRegistry(node, epoch, contextId, userId, entry?.sockets);
  }

  private onSession(topic: { sessionId: string }, payload: Buffer): void {
    if (this.sessions.apply(topic.sessionId, payload) === 'invalid') this.invalid('session', topic.sessionId);
  }

  private onInbox(payload: Buffer): void {
    const mail = decodeInbox(payload);
    if (!mail) return this.invalid('inbox', 'inbox');
    if (mail.to !== this.options.epoch) {
      // Mail for an earlier process of this node (queued at the broker while it was down).
      const count = mail.items.reduce((sum, i) => sum + i.payloads.length, 0);
      this.options.stats.drop('stale', count);
      this.options.log.info('cluster.stale_mail', { from: mail.from, messages: count });
      return;
    }
    if (!this.recent.firstSeen(mail.id)) {
      this.options.stats.drop('duplicate');
      return;
    }
    for (const item of mail.items) {
      for (const payload of item.payloads) {
        this.options.stats.remoteReceived++;
        this.local!.deliver({ message: payload.m, contextId: item.ctx, userId: item.user, pathFilter: item.filter, sourceToken: payload.s });
      }
    }
  }

  private onCommand(payload: Buffer): void {
    const command = decodeCommand(payload);
    if (!command) return this.invalid('command', 'commands');
    if (command.from === this.options.nodeId || !this.recent.firstSeen(command.id)) return;
    const closed = this.local!.close(command.ctx, command.user, compilePathFilter(command.filter), command.code);
    this.options.log.info('cluster.close_command', { from: command.from, contextId: command.ctx, userId: command.user, closed });
  }

  private invalid(kind: string, where: string): void {
    this.options.stats.drop('invalid');
    this.options.log.warn('cluster.invalid_message', { kind, where });
  }

  /** False when the outbox refused it (counted and logged here). */
  private publish(topic: string, payload: Buffer, retain = false): boolean {
    if (!this.publisher) return false;
    if (this.publisher.publish(topic, payload, retain)) return true;
    this.options.stats.drop('outboxFull');
    this.options.log.warn('cluster.outbox_full', { topic, advice: 'the broker is unreachable and cluster.outboxLimit is reached; messages to other nodes are dropped' });
    return false;
  }
}
