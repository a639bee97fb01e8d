/**
 * The remote side of delivery: what this node's delivery asks of the rest of the
 * cluster. Defined here, by its user; on a single node it is `singleNode` (nothing
 * remote), in a cluster `ClusterRemote` (src/cluster) implements it over MQTT.
 */
import type { OutboundMessage } from './message.ts';
import type { PathMatcher } from './path-filter.ts';

/** Whether pushes from other nodes reach a user's sockets here (Remote#deliverable). */
export type Deliverability = 'ready' | 'unconfirmed' | 'refused';

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
  /**
   * Sends the message on to every other node holding a socket of the user (through
   * the coalescing buffer). Returns how many other nodes hold a matching socket, as
   * far as this node's view knows: an estimate, the delivery does not depend on it.
   */
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
  /** Asks the other nodes to close every socket of an application session (its logout hook). */
  endSession(sessionKey: string): void;
  /** Messages waiting in the coalescing buffer. */
  bufferedMessages(): number;
  /** This node's sockets of the user changed (admitted or ended): tell the cluster. */
  localChanged(contextId: number, userId: number): void;
  /**
   * Resolves once pushes from any node reach this node's sockets of the user: `ready`
   * (the broker confirmed the subscription), `unconfirmed` (offline, or no answer
   * within cluster.syncTimeout: the node serves what it can), `refused` (the broker
   * said no: the socket would miss other nodes' pushes).
   */
  deliverable(contextId: number, userId: number): Promise<Deliverability>;
  /** Whether a push with this id was accepted by another node within the dedup window (read-your-writes). */
  pushSeen(id: string): Promise<boolean>;
  /** Tells the other nodes this push id was accepted; resolves once the broker has it. */
  pushAccepted(id: string): Promise<void>;
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
  endSession: () => {},
  bufferedMessages: () => 0,
  localChanged: () => {},
  deliverable: () => Promise.resolve('ready'),
  pushSeen: () => Promise.resolve(false),
  pushAccepted: () => Promise.resolve(),
  totals: () => undefined,
};
