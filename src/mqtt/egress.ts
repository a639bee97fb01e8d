/**
 * MQTT egress: with `mqtt.egress` on, every text frame a client sends is published
 * (QoS 1) to `<name>/egress/<contextId>/<userId>/<connectionId>`, for backends
 * subscribed to `<name>/egress/#`.
 *
 *   a raw socket:       {"node", "path", "at", "message"}
 *   a Socket.IO event:  {"node", "path", "at", "event", "args"}
 *
 * A socket never waits for the broker: the publish is queued on the node's link and
 * the frame's handling goes on. What the link holds unacknowledged (or, offline, in
 * its outbox) is bounded by `cluster.outboxLimit`; a frame past it is dropped,
 * counted by reason and logged, at most one line a second with the count since.
 */
import type { ConnectionContext } from '../actors/connection.machine.ts';
import type { ClientEvent } from '../protocol/wire-protocol.ts';
import type { EgressDropReason, NodeStats } from '../delivery/stats.ts';
import type { Logger } from '../log/logger.ts';
import type { Topics } from '../cluster/topics.ts';

export interface EgressLink {
  /** Publishes not yet acknowledged, or held while offline. */
  readonly pending: number;
  /** False when refused (the outbox is full while offline). */
  publish(topic: string, payload: Buffer): boolean;
}

export interface EgressDeps {
  nodeId: string;
  topics: Pick<Topics, 'egress'>;
  enabled(): boolean;
  limit(): number;
  link(): EgressLink | undefined;
  stats: NodeStats;
  log: Logger;
  now(): number;
}

/** The payload of one client frame (pure). */
export function egressPayload(nodeId: string, path: string, at: number, message: { text: string; event?: ClientEvent }): string {
  return message.event
    ? JSON.stringify({ node: nodeId, path, at, event: message.event.name, args: message.event.args })
    : JSON.stringify({ node: nodeId, path, at, message: message.text });
}

const LOG_EVERY_MS = 1000;

export class Egress {
  private unlogged = 0;
  private lastLog = -Infinity;

  constructor(private readonly deps: EgressDeps) {}

  /** The connection hook: called for each client message, after it was counted. */
  readonly frame = (connection: ConnectionContext, message: { text: string; event?: ClientEvent }): void => {
    const { deps } = this;
    if (!deps.enabled() || !connection.identity) return;
    const link = deps.link();
    if (!link) return this.drop('offline', connection);
    if (link.pending >= deps.limit()) return this.drop('outboxFull', connection);
    const { contextId, userId } = connection.identity;
    const at = deps.now();
    const topic = deps.topics.egress(contextId, userId, connection.connectionId);
    if (!link.publish(topic, Buffer.from(egressPayload(deps.nodeId, connection.path, at, message)))) return this.drop('outboxFull', connection);
    deps.stats.egress.published++;
  };

  private drop(reason: EgressDropReason, connection: ConnectionContext): void {
    const { stats, log, now } = this.deps;
    stats.egress.dropped.set(reason, (stats.egress.dropped.get(reason) ?? 0) + 1);
    this.unlogged++;
    if (now() - this.lastLog < LOG_EVERY_MS) return;
    log.warn('egress.dropped', {
      reason,
      dropped: this.unlogged,
      connectionId: connection.connectionId,
      advice: 'the broker is slow or away: client frames past cluster.outboxLimit are not published to egress; check the broker, or raise cluster.outboxLimit',
    });
    this.unlogged = 0;
    this.lastLog = now();
  }
}
