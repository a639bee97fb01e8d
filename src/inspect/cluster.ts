/**
 * The inspector over the cluster: what each node answers about its own actors when
 * another node asks (the questions `inspector.actors` and `inspector.actor`, asked
 * over the broker by cluster/queries.ts), and how the asker merges the answers for
 * GET /api/admin/inspector/actors?node=<id>|all (docs/api.md, "Inspector").
 *
 * Answers hold what the local API shows and nothing more: actor summaries, counts,
 * and for one actor its context summary (summary.ts: allowlists, no socket, no
 * secret) and its last transitions (event types and state names, no payload).
 */
import type { ActorDetail, ActorSummary } from './summary.ts';
import type { Counts, InspectorHub, Totals } from './hub.ts';
import type { Transition } from './transitions.ts';

/** The question kinds; each node registers a responder for both. */
export const ACTORS_QUESTION = 'inspector.actors';
export const ACTOR_QUESTION = 'inspector.actor';

/** Actors listed per node at most (the `limit` of a listing). */
export const MAX_LIMIT = 1000;
/** Longer than any machine id, state key or actor id: a bigger value is not one. */
const MAX_TEXT = 256;

export interface SampleQuery {
  machine?: string;
  state?: string;
  limit: number;
  /** At most this many actors of each state. */
  perState?: number;
}

/** One node's answer to `inspector.actors`: its counts now and a sample of its actors. */
export interface NodeSample {
  seq: number;
  at: number;
  counts: Counts;
  totals: Totals;
  matching: number;
  actors: ActorSummary[];
}

export type NodeActor = ActorDetail & { seq: number; transitions: Transition[] };

/** One node's answer to `inspector.actor`: the actor, or null when it has no live actor of that id. */
export interface ActorAnswer {
  actor: NodeActor | null;
}

/** What the inspector needs of the cluster's questions (cluster/queries.ts `Queries` is one). */
export interface Responders {
  register(kind: string, responder: (body: unknown) => unknown): void;
}

/** Registers this node's answers to the inspector's questions. */
export function answerInspectorQuestions(responders: Responders, hub: InspectorHub): void {
  responders.register(ACTORS_QUESTION, (body) => sampleOf(hub, readSampleQuery(body)));
  responders.register(ACTOR_QUESTION, (body): ActorAnswer => ({ actor: hub.describe(readActorId(body)) ?? null }));
}

/** This node's counts and a sample of its actors (what a node answers to `inspector.actors`). */
export function sampleOf(hub: InspectorHub, query: SampleQuery): NodeSample {
  const { at, counts, totals } = hub.snapshot();
  const { seq, matching, actors } = hub.sample(query);
  return { seq, at, counts, totals, matching, actors };
}

/** A question's body as a sample query; throws on anything else (the asker gets `failed`). */
export function readSampleQuery(body: unknown): SampleQuery {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b !== 'object' || Array.isArray(b)) throw new TypeError('not an object');
  const query: SampleQuery = { limit: Number.isSafeInteger(b.limit) && (b.limit as number) >= 1 ? Math.min(b.limit as number, MAX_LIMIT) : fail('limit') };
  if (b.machine !== undefined) query.machine = text(b.machine, 'machine');
  if (b.state !== undefined) query.state = text(b.state, 'state');
  if (b.perState !== undefined) query.perState = Number.isSafeInteger(b.perState) && (b.perState as number) >= 1 ? Math.min(b.perState as number, MAX_LIMIT) : fail('perState');
  return query;
}

export function readActorId(body: unknown): string {
  return text((body as { id?: unknown } | null)?.id, 'id');
}

// ---- the asker's side: merging the answers ----------------------------------------------

/** An answer as cluster/queries.ts gives it. */
export interface NodeAnswer {
  node: string;
  body?: unknown;
  error?: string;
}

export interface ClusterSample {
  /** What was asked: one node's id, or `all`. */
  node: string;
  /** When the asker merged the answers (its clock, ms). */
  at: number;
  /** The counts of the nodes that answered, summed. */
  counts: Counts;
  totals: Totals;
  /** Actors matching the filter on the nodes that answered, summed. */
  matching: number;
  /** Up to `limit` actors of each node that answered, each with its node. */
  actors: Array<ActorSummary & { node: string }>;
  nodes: {
    /** Each node that answered, with the seq and time of its answer and how many of its actors matched. */
    answered: Array<{ node: string; seq: number; at: number; matching: number }>;
    /** Nodes asked that did not answer within the wait (cluster.syncTimeout). */
    unanswered: string[];
    /** Nodes that answered with an error (`unknown-kind`: a version without the inspector's questions; `failed`; `invalid`: an answer of the wrong shape). */
    failed: Array<{ node: string; error: string }>;
  };
}

/** Merges the nodes' answers to `inspector.actors` (pure). */
export function mergeSamples(node: string, answers: readonly NodeAnswer[], unanswered: readonly string[], now: number): ClusterSample {
  const merged: ClusterSample = { node, at: now, counts: {}, totals: {}, matching: 0, actors: [], nodes: { answered: [], unanswered: [...unanswered], failed: [] } };
  for (const answer of answers) {
    if (answer.error !== undefined) {
      merged.nodes.failed.push({ node: answer.node, error: answer.error });
      continue;
    }
    const sample = answer.body;
    if (!isNodeSample(sample)) {
      merged.nodes.failed.push({ node: answer.node, error: 'invalid' });
      continue;
    }
    merged.nodes.answered.push({ node: answer.node, seq: sample.seq, at: sample.at, matching: sample.matching });
    merged.matching += sample.matching;
    for (const actor of sample.actors) merged.actors.push({ ...actor, node: answer.node });
    for (const [machine, states] of Object.entries(sample.counts)) {
      const sum = (merged.counts[machine] ??= {});
      for (const [state, count] of Object.entries(states)) sum[state] = (sum[state] ?? 0) + count;
    }
    for (const [machine, total] of Object.entries(sample.totals)) {
      const sum = (merged.totals[machine] ??= { live: 0, created: 0, ended: 0 });
      sum.live += total.live;
      sum.created += total.created;
      sum.ended += total.ended;
    }
  }
  return merged;
}

/** One node's answer to `inspector.actor`: the actor (with its node), null when that node has no such live actor, or the error. */
export function actorFrom(answer: NodeAnswer): { actor: (NodeActor & { node: string }) | null } | { error: string } {
  if (answer.error !== undefined) return { error: answer.error };
  const actor = (answer.body as ActorAnswer | null)?.actor;
  if (actor === null) return { actor: null };
  if (!actor || typeof actor !== 'object' || typeof actor.id !== 'string' || !Array.isArray(actor.transitions)) return { error: 'invalid' };
  return { actor: { ...actor, node: answer.node } };
}

function isNodeSample(value: unknown): value is NodeSample {
  const s = value as NodeSample | null;
  return (
    !!s &&
    typeof s === 'object' &&
    Number.isFinite(s.seq) &&
    Number.isFinite(s.at) &&
    Number.isFinite(s.matching) &&
    isRecord(s.counts) &&
    Object.values(s.counts).every((states) => isRecord(states) && Object.values(states).every(Number.isFinite)) &&
    isRecord(s.totals) &&
    Object.values(s.totals).every((t) => isRecord(t) && [t.live, t.created, t.ended].every(Number.isFinite)) &&
    Array.isArray(s.actors) &&
    s.actors.every((a) => isRecord(a) && typeof a.id === 'string' && typeof a.machine === 'string' && typeof a.state === 'string')
  );
}

function isRecord(value: unknown): value is Record<string, any> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TEXT) return fail(name);
  return value;
}

function fail(name: string): never {
  throw new TypeError(`${name} is not valid`);
}
