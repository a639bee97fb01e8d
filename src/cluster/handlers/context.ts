/**
 * What a topic handler may use: the parts of the cluster side it reads and feeds.
 * Each handler (one file per topic kind, dispatched from index.ts) gets the parsed
 * topic, the body whose seal was already checked (undefined: an empty payload, a
 * retained delete, which cannot be sealed), and these parts.
 */
import type { Logger } from '../../log/logger.ts';
import type { NodeStats } from '../../delivery/stats.ts';
import type { OutboundMessage } from '../../delivery/message.ts';
import type { PathMatcher } from '../../delivery/path-filter.ts';
import type { AwaitingReceipts } from '../awaiting-receipts.ts';
import type { Barrier } from '../barrier.ts';
import type { EndConfirmations } from '../end-confirmations.ts';
import type { ClusterView } from '../cluster-view.ts';
import type { RecentIds } from '../dedup.ts';
import type { Peers } from '../peers.ts';
import type { Queries } from '../queries.ts';
import type { Receipts } from '../receipts.ts';
import type { ReplicatedSessionStore } from '../replicated-sessions.ts';
import type { ParsedTopic, Topics } from '../topics.ts';
import type { DeliveryTrace } from '../../trace/delivery-trace.ts';

/** What the cluster needs of the local node. */
export interface LocalNode {
  /** Writes to this node's matching sockets; drops ids it delivered already. `trace`: the message's handle in the delivery trace. */
  deliver(outbound: OutboundMessage, trace?: number): number;
  /** None of this node's sockets of the user gets the message (a stale delivery): counted and traced. */
  skip(outbound: OutboundMessage, reason: 'stale', trace?: number): number;
  close(contextId: number, userId: number, matches: PathMatcher, code: number): number;
  /** Closes this node's sockets of a session (4401, after the farewell). */
  endSession(sessionKey: string): number;
  /** A slot of a user's history, or a reader's marker (src/history/broker-history.ts). */
  history(contextId: number, userId: number, body: string | undefined, marker: string | undefined, retained: boolean): void;
}

export interface ClusterParts {
  nodeId: string;
  epoch: string;
  topics: Topics;
  view: ClusterView;
  peers: Peers;
  sessions: ReplicatedSessionStore;
  barrier: Barrier;
  /** Logouts of this node waiting for every live node to confirm them. */
  endConfirmations: EndConfirmations;
  /** Ids of pushes accepted anywhere (the 202's duplicate check). */
  pushIds: RecentIds;
  /** Questions to every live node and this node's responders (queries.ts). */
  queries: Queries;
  /** Delivery publishes of this node waiting for the other nodes' receipts. */
  awaiting: AwaitingReceipts;
  /** Receipts this node owes the senders of the deliveries it got. */
  receipts: Receipts;
  /** Ids of close commands already applied. */
  commandIds: RecentIds;
  local: LocalNode;
  stats: NodeStats;
  /** What this node saw of each message (src/trace). */
  trace: DeliveryTrace;
  log: Logger;
  now(): number;
  /** The dedup window (ms): a delivery or command older than this is a replay. */
  window(): number;
  /** Publishes a sealed body, or clears a retained slot with `undefined`. */
  publish(topic: string, body: string | undefined, retain: boolean): boolean;
  /** A body that does not decode: counted and logged. */
  invalid(kind: string, where: string): void;
}

/** `retained`: a stored copy sent because this node subscribed, not a message as it happened. */
export type Handler<K extends ParsedTopic['kind']> = (topic: Extract<ParsedTopic, { kind: K }>, body: string | undefined, parts: ClusterParts, retained: boolean) => void;
