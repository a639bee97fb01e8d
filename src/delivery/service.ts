/**
 * The web socket service: the operations the brief names (sendMessage, exists,
 * closeWebSockets, counts, listing), over this node's index and the cluster's
 * `Remote`. Local delivery is O(sockets of the one user): the index hands over that
 * user's sockets; nothing scans the node.
 *
 * Every message has an id from where it entered. This node delivers an id at most
 * once within the dedup window, whether it comes from a push here or from another
 * node (a QoS 1 redelivery, or the same id accepted by two nodes at once).
 */
import { CloseCode } from '../errors.ts';
import { compilePathFilter, type PathMatcher } from './path-filter.ts';
import { deliverMessage, type DeliveryOutcome } from '../actors/connection-delivery.ts';
import type { OutboundMessage } from './message.ts';
import type { ConnectionHandle, SocketIndex } from './socket-index.ts';
import type { NodeStats } from './stats.ts';
import type { Deliverability, Remote, RemoteSocketRow } from './remote.ts';
import type { RecentIds } from '../cluster/dedup.ts';
import { NO_TRACE, type DeliveryTrace } from '../trace/delivery-trace.ts';

export interface SendResult {
  id: string;
  /** Sockets on this node the message was written to. */
  local: number;
  /** Other nodes holding a matching socket, as this node's view knows them (an estimate). */
  remote: number;
  /** The id was accepted before (here or on another node) within the dedup window: delivered to nobody again. */
  duplicate?: true;
}

export type SocketRow = RemoteSocketRow;

export interface DeliveryIds {
  /** Ids of pushes this node accepted. */
  accepted: RecentIds;
  /** Ids this node wrote to its sockets. */
  delivered: RecentIds;
  /** Application sessions ended by their logout hook (keys of appSessionKey). */
  endedSessions: RecentIds;
}

/** What delivery consults besides the index: the delivery trace, and whether a user may receive now. */
export interface DeliveryExtras {
  /** Records each message's way and each socket's outcome (src/trace). */
  trace?: DeliveryTrace;
  /**
   * False when the directory in force disables the user (or the context, or
   * websockets.enabled through the cascade): a reload may do that while the user's
   * sockets are open, and those sockets then get nothing more (counted `disabled`).
   */
  receives?: (contextId: number, userId: number) => boolean;
}

export class WebSocketService {
  private readonly trace: DeliveryTrace;
  private readonly receives: (contextId: number, userId: number) => boolean;

  constructor(
    private readonly nodeId: string,
    private readonly index: SocketIndex,
    private readonly remote: Remote,
    private readonly stats: NodeStats,
    private readonly ids: DeliveryIds,
    extras: DeliveryExtras = {},
  ) {
    this.trace = extras.trace ?? NO_TRACE;
    this.receives = extras.receives ?? (() => true);
  }

  /**
   * Accepts a push: a repeat of an id accepted within the dedup window, here or
   * elsewhere, answers `duplicate` and goes nowhere. Throws ERR_INVALID_PATH_FILTER
   * before anything is sent.
   */
  async push(outbound: OutboundMessage, clientId: boolean): Promise<SendResult> {
    const matches = compilePathFilter(outbound.pathFilter);
    if (clientId && (this.ids.accepted.has(outbound.id) || (await this.remote.pushSeen(outbound.id)) || this.ids.accepted.has(outbound.id))) {
      this.traceRefused(outbound);
      return { id: outbound.id, local: 0, remote: 0, duplicate: true };
    }
    this.ids.accepted.add(outbound.id);
    const result = this.send(outbound, matches);
    // Made here, an id cannot be repeated by a client: only a given one is announced.
    if (clientId) await this.remote.pushAccepted(outbound.id);
    return result;
  }

  /** Throws ERR_INVALID_PATH_FILTER before anything is sent. */
  sendMessage(outbound: OutboundMessage): SendResult {
    return this.send(outbound, compilePathFilter(outbound.pathFilter));
  }

  /**
   * Local half of delivery; the cluster calls it for messages that arrive from other
   * nodes. `trace`: the message's handle in the delivery trace (opened here when not given).
   */
  deliverLocally(outbound: OutboundMessage, matches: PathMatcher = compilePathFilter(outbound.pathFilter), trace = this.trace.open(outbound.id, outbound.keep)): number {
    if (!this.ids.delivered.firstSeen(outbound.id)) {
      this.stats.drop('duplicate');
      this.trace.droppedCopy(trace);
      return 0;
    }
    if (!this.receives(outbound.contextId, outbound.userId)) return this.skipLocally(outbound, 'disabled', trace);
    let written = 0;
    for (const handle of this.index.ofUser(outbound.contextId, outbound.userId)) {
      if (handle.connectionId === outbound.sourceToken || !matches(handle.path)) {
        this.trace.skipped(trace, handle.connectionId, handle.connectionId === outbound.sourceToken ? 'source-token' : 'path-filter');
        continue;
      }
      const slowBefore = this.stats.slowConsumerCloses;
      // Admitted but not open yet, or closing, or unencodable: counted by its reason.
      const outcome = deliverMessage(handle.actor, outbound.message);
      if (outcome === 'written') written++;
      else this.stats.drop(outcome);
      this.traceWrite(trace, handle, outcome, slowBefore);
    }
    this.stats.messagesDelivered += written;
    return written;
  }

  /**
   * Records that none of this node's sockets of the user got the message, and why
   * (a delivery dropped as stale, a user disabled); counted as dropped for that reason.
   */
  skipLocally(outbound: OutboundMessage, reason: 'disabled' | 'stale', trace = this.trace.open(outbound.id, outbound.keep)): number {
    this.stats.drop(reason);
    for (const handle of this.index.ofUser(outbound.contextId, outbound.userId)) this.trace.skipped(trace, handle.connectionId, reason);
    return 0;
  }

  exists(contextId: number, userId: number, pathFilter: unknown = null): boolean {
    const matches = compilePathFilter(pathFilter);
    for (const handle of this.index.ofUser(contextId, userId)) if (matches(handle.path)) return true;
    return this.remote.exists(contextId, userId, matches);
  }

  /** Resolves once pushes from any node reach this node's sockets of the user (see Remote#deliverable). */
  deliverable(contextId: number, userId: number): Promise<Deliverability> {
    return this.remote.deliverable(contextId, userId);
  }

  /**
   * Closes the user's matching sockets on this node and asks the other nodes to do
   * the same (one command, every node). Returns how many sockets that is, counting
   * the other nodes' from the registry.
   */
  closeWebSockets(contextId: number, userId: number, pathFilter: unknown = null, code: number = CloseCode.CLOSED_BY_ADMIN): number {
    const matches = compilePathFilter(pathFilter);
    const remote = this.remote.list({ contextId, userId }).filter((row) => matches(row.path)).length;
    const closed = this.closeLocally(contextId, userId, matches, code);
    this.remote.close(contextId, userId, (pathFilter as string | null) ?? null, code);
    return closed + remote;
  }

  closeLocally(contextId: number, userId: number, matches: PathMatcher, code: number): number {
    const targets = [...this.index.ofUser(contextId, userId)].filter((handle) => matches(handle.path));
    // An operator's close is a server disconnect: Socket.IO clients must not reconnect at once.
    const farewell = code === CloseCode.CLOSED_BY_ADMIN ? ('closed-by-admin' as const) : undefined;
    for (const handle of targets) handle.actor.send({ type: 'conn.close', code, reason: 'closed by operator', farewell });
    return targets.length;
  }

  /**
   * The application's logout hook: closes the sockets of its session here and on every
   * other node (4401, after the protocol's farewell). Returns how many were here.
   */
  endAppSession(sessionKey: string): number {
    const closed = this.closeAppSessionHere(sessionKey);
    this.remote.endSession(sessionKey);
    return closed;
  }

  /**
   * An application session ended (here or by another node's command): its sockets here
   * close, and for a day an upgrade of it is refused (the upgrade checks
   * appSessionEnded before its 101): one in flight at the moment of the hook, or a
   * token that carries the session's `sid`.
   */
  closeAppSessionHere(sessionKey: string): number {
    this.ids.endedSessions.add(sessionKey);
    return this.closeSession(sessionKey);
  }

  appSessionEnded(sessionKey: string): boolean {
    return this.ids.endedSessions.has(sessionKey);
  }

  /** Closes every socket of a session that ended, after the protocol's farewell. */
  closeSession(sessionId: string): number {
    const targets = [...this.index.ofSession(sessionId)];
    for (const handle of targets) {
      handle.actor.send({ type: 'conn.close', code: CloseCode.SESSION_ENDED, reason: 'session ended', farewell: 'session-ended' });
    }
    return targets.length;
  }

  localCount(): number {
    return this.index.size;
  }

  bufferedMessages(): number {
    return this.remote.bufferedMessages();
  }

  /** Nodes and sockets over the whole cluster; undefined on a single node. */
  clusterTotals(): { nodes: number; sockets: number } | undefined {
    return this.remote.totals();
  }

  list(filter: { contextId?: number; userId?: number; scope?: 'local' | 'cluster' }): SocketRow[] {
    const local =
      filter.contextId !== undefined && filter.userId !== undefined
        ? [...this.index.ofUser(filter.contextId, filter.userId)]
        : [...this.index.all()].filter((h) => filter.contextId === undefined || h.contextId === filter.contextId);
    const rows = local.filter((h) => filter.userId === undefined || h.userId === filter.userId).map((h) => this.row(h));
    return filter.scope === 'cluster' ? rows.concat(this.remote.list(filter)) : rows;
  }

  private send(outbound: OutboundMessage, matches: PathMatcher): SendResult {
    const { id, contextId, userId } = outbound;
    const trace = this.trace.accepted(id, outbound.keep === true, contextId, userId, outbound.pathFilter, outbound.sourceToken);
    const result = { id, local: this.deliverLocally(outbound, matches, trace), remote: this.remote.route(outbound, matches) };
    // Nothing is lost silently: a message no socket anywhere is known to take is counted.
    if (result.local === 0 && result.remote === 0) {
      this.stats.drop('offline');
      // Sockets that were there but did not match have their own reasons already.
      if (this.index.countOfUser(contextId, userId) === 0 && this.remote.countOfUser(contextId, userId) === 0) this.trace.skipped(trace, undefined, 'no-socket');
    }
    return result;
  }

  /** A frame's outcome in the trace: a write that made the socket a slow consumer (1013) did not reach it surely. */
  private traceWrite(trace: number, handle: ConnectionHandle, outcome: DeliveryOutcome, slowBefore: number): void {
    if (outcome === 'written') {
      if (this.stats.slowConsumerCloses === slowBefore) this.trace.written(trace, handle.connectionId);
      else this.trace.skipped(trace, handle.connectionId, 'slow-consumer');
      return;
    }
    const slow = outcome === 'closing' && handle.actor.getSnapshot().context.close?.code === CloseCode.TRY_AGAIN_LATER;
    this.trace.skipped(trace, handle.connectionId, slow ? 'slow-consumer' : outcome);
  }

  /** A repeated id, answered duplicate: every socket of the user known here or in the registry did not get it from this push. */
  private traceRefused(outbound: OutboundMessage): void {
    const trace = this.trace.open(outbound.id, outbound.keep);
    this.trace.refused(trace);
    for (const handle of this.index.ofUser(outbound.contextId, outbound.userId)) this.trace.skipped(trace, handle.connectionId, 'duplicate');
    this.trace.skippedRemote(trace, this.remote.list({ contextId: outbound.contextId, userId: outbound.userId }), 'duplicate');
  }

  private row(handle: ConnectionHandle): SocketRow {
    return {
      contextId: handle.contextId,
      userId: handle.userId,
      path: handle.path,
      connectionId: handle.connectionId,
      node: this.nodeId,
      remoteAddress: handle.remoteAddress,
      connectedAt: handle.connectedAt,
    };
  }
}
