/**
 * The remote side of delivery: what the node asks of the rest of the cluster. On a
 * single node it is `singleNode` (nothing remote); the cluster issue implements it
 * over MQTT (registry, coalescing buffer, cross-node commands) behind this interface.
 */
import type { OutboundMessage } from '../delivery/message.ts';
import type { PathMatcher } from '../delivery/path-filter.ts';

export interface RemoteSocketRow {
  contextId: number;
  userId: number;
  path: string;
  connectionId: string;
  node: string;
  remoteAddress: string;
  /** Epoch ms. */
  connectedAt: number;
}

export interface Remote {
  /** Queues the message for the other nodes that hold matching sockets; how many nodes. */
  route(message: OutboundMessage, matches: PathMatcher): number;
  /** Whether another node holds a socket of the user matching the filter. */
  exists(contextId: number, userId: number, matches: PathMatcher): boolean;
  /** Sockets of the user on other nodes (the per-user limit is cluster-wide). */
  countOfUser(contextId: number, userId: number): number;
  /** Whether another node holds this connection id for the user. */
  hasConnection(contextId: number, userId: number, connectionId: string): boolean;
  /** Asks the other nodes to close the user's matching sockets; how many nodes were asked. */
  close(contextId: number, userId: number, pathFilter: string | null, code: number): number;
  list(filter: { contextId?: number; userId?: number }): RemoteSocketRow[];
  /** Messages waiting in the coalescing buffer. */
  bufferedMessages(): number;
  /** This node's sockets of the user changed (admitted or ended): tell the cluster. */
  localChanged(contextId: number, userId: number): void;
  /** Cluster totals for the stats route; undefined on a single node. */
  totals(): { nodes: number; sockets: number } | undefined;
}

export const singleNode: Remote = {
  route: () => 0,
  exists: () => false,
  countOfUser: () => 0,
  hasConnection: () => false,
  close: () => 0,
  list: () => [],
  bufferedMessages: () => 0,
  localChanged: () => {},
  totals: () => undefined,
};
