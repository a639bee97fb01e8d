/**
 * One message's delivery trace over the cluster (pure): the nodes' records (each the
 * answer of a node to the `trace` question, trace/delivery-trace.ts) merged into the
 * JSON of GET /api/admin/trace/<id> (docs/api.md, "Delivery trace").
 */
import type { NodeTrace, PublishOutcome, ReceiveOutcome, SkipReason } from './delivery-trace.ts';

/** One node's answer: its record (`null`: it holds none), or an error from its responder. */
export interface NodeAnswer {
  node: string;
  body?: unknown;
  error?: string;
}

export interface ClusterTrace {
  id: string;
  /** Pushed with `"trace": true`: kept apart from the ring of recent messages on some node. */
  kept: boolean;
  accepted: Array<{ node: string; at: number; contextId: number; userId: number; pathFilter: string | null; sourceToken: string | null }>;
  /** Later pushes of the same id, answered 202 duplicate and sent nowhere. */
  refused: Array<{ node: string; at: number; reason: 'duplicate' }>;
  /** When it entered the coalescing buffer (empty with delayDuration 0: it was published at once). */
  queued: Array<{ node: string; at: number }>;
  /**
   * Coalesced: it shared its publish with `with` other messages; `mergedInto`: it was an
   * exact copy (same text and source token) of a message queued before, which carried it.
   */
  coalesced: Array<{ node: string; at: number; publish: string | null; with: number; mergedInto?: string }>;
  /** The broker publishes that carried it: `publish` is `<node>:<n>`, the node's n-th delivery publish. */
  publishes: Array<{ node: string; publish: string; topic: string; at: number; messages: number; outcome: PublishOutcome }>;
  received: Array<{ node: string; at: number; from: string; publish: string | null; outcome: ReceiveOutcome }>;
  written: Array<{ node: string; connectionId: string; at: number }>;
  /** Sockets of the user that did not get it, and why; `connectionId` null: no socket in particular (no-socket, or no socket known on that node). */
  notDelivered: Array<{ node: string; connectionId: string | null; at: number; reason: SkipReason }>;
  nodes: {
    /** Nodes whose record holds the message. */
    holding: string[];
    /** Nodes that answered (with or without a record). */
    answered: string[];
    /** Live nodes that did not answer in time: their part of the story is missing. */
    unanswered: string[];
    /** Nodes whose responder failed (or that do not know the question). */
    failed: Array<{ node: string; error: string }>;
  };
}

/** The cluster's trace of `id`, or undefined when no node that answered holds it. */
export function assembleTrace(id: string, answers: readonly NodeAnswer[], unanswered: readonly string[]): ClusterTrace | undefined {
  const trace: ClusterTrace = {
    id,
    kept: false,
    accepted: [],
    refused: [],
    queued: [],
    coalesced: [],
    publishes: [],
    received: [],
    written: [],
    notDelivered: [],
    nodes: { holding: [], answered: [], unanswered: [...unanswered], failed: [] },
  };
  for (const answer of answers) {
    trace.nodes.answered.push(answer.node);
    if (answer.error !== undefined) {
      trace.nodes.failed.push({ node: answer.node, error: answer.error });
      continue;
    }
    const record = answer.body as NodeTrace | null | undefined;
    if (!record) continue;
    merge(trace, answer.node, record);
  }
  if (trace.nodes.holding.length === 0) return undefined;
  // A socket that got the message in one attempt got it: a later refused repeat does not undo that.
  const got = new Set(trace.written.map((w) => `${w.node}\u0000${w.connectionId}`));
  trace.notDelivered = trace.notDelivered.filter((s) => s.connectionId === null || !got.has(`${s.node}\u0000${s.connectionId}`));
  for (const list of [trace.accepted, trace.refused, trace.queued, trace.coalesced, trace.publishes, trace.received, trace.written, trace.notDelivered]) list.sort(byTime);
  return trace;
}

function merge(trace: ClusterTrace, node: string, record: NodeTrace): void {
  trace.nodes.holding.push(node);
  trace.kept ||= record.kept;
  for (const a of record.accepted) trace.accepted.push({ node, ...a });
  for (const r of record.refused) trace.refused.push({ node, ...r });
  for (const q of record.queued) trace.queued.push({ node, ...q });
  for (const m of record.mergedAway) trace.coalesced.push({ node, at: m.at, publish: m.publish, with: Math.max(0, m.messages - 1), mergedInto: m.twin });
  for (const p of record.published) {
    trace.publishes.push({ node, publish: p.publish, topic: p.topic, at: p.at, messages: p.messages, outcome: p.outcome });
    if (p.messages > 1) trace.coalesced.push({ node, at: p.at, publish: p.publish, with: p.messages - 1 });
  }
  for (const r of record.received) trace.received.push({ node, ...r });
  for (const w of record.written) trace.written.push({ node, connectionId: w.connectionId, at: w.at });
  for (const s of record.skipped) trace.notDelivered.push({ node: s.node ?? node, connectionId: s.connectionId, at: s.at, reason: s.reason });
}

function byTime(a: { at: number; node: string }, b: { at: number; node: string }): number {
  return a.at - b.at || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0);
}
