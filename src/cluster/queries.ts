/**
 * Questions to every live node, answered over the broker: what an admin route asks
 * when the answer is spread over the cluster (a message's delivery trace, the
 * inspector's view of each node).
 *
 * A question has a `kind` and a JSON body. Each node registers one responder per
 * kind; the asker publishes the question once to `<name>/internal/queries` (every
 * node subscribes to it) and each node publishes its answer to the asker's own
 * `<name>/internal/answers/<node>`, sealed like every internal payload. The asker
 * answers itself directly, without the broker. It collects answers until every node
 * it saw live when it asked has answered, or the timeout: the nodes still silent
 * then are named in `unanswered`, so a dead or stalled node shows instead of being
 * missing quietly. A node that goes offline meanwhile is named at once.
 *
 * Transport-free: the cluster plugs in how to publish and who is live (attach); a
 * node alone asks only itself.
 */
import { messageId, type AnswerPayload, type QuestionPayload } from './codec.ts';
import type { Timers } from '../time/timers.ts';

/** Computes this node's answer to a question of one kind; a throw answers `failed`. */
export type Responder = (body: unknown, asker: string) => unknown;

/** One node's answer: its responder's output in `body`, or `error` (`unknown-kind`, `failed`). */
export interface QueryAnswer {
  node: string;
  body?: unknown;
  error?: string;
}

export interface QueryResult {
  /** Every answer that came in time, this node's included, by node id. */
  answers: QueryAnswer[];
  /** Nodes seen live when the question went out that did not answer in time, sorted. */
  unanswered: string[];
}

/** How a question and its answers travel; the cluster gives these (ClusterRemote). */
export interface QueryTransport {
  /** Other nodes seen live now. */
  liveNodes(): string[];
  /** Publishes to every node; false when it could not be sent (the outbox refused it). */
  question(payload: QuestionPayload): boolean;
  answer(to: string, payload: AnswerPayload): boolean;
}

interface Pending {
  answers: QueryAnswer[];
  missing: Set<string>;
  /** Nodes that went offline while asked: named unanswered, not waited for. */
  gone: string[];
  timer: unknown;
  resolve: (result: QueryResult) => void;
}

/** `unknown-kind`: the node has no responder for the kind (an older version of wsmesh, say). */
export const UNKNOWN_KIND = 'unknown-kind';
export const FAILED = 'failed';

const NO_TRANSPORT: QueryTransport = { liveNodes: () => [], question: () => false, answer: () => false };

export class Queries {
  private readonly responders = new Map<string, Responder>();
  private readonly pending = new Map<string, Pending>();
  private transport: QueryTransport = NO_TRANSPORT;

  constructor(
    private readonly nodeId: string,
    private readonly timers: Timers,
  ) {}

  attach(transport: QueryTransport): void {
    this.transport = transport;
  }

  /** The responder for questions of `kind`, on this node; one per kind (a second replaces the first). */
  register(kind: string, responder: Responder): void {
    this.responders.set(kind, responder);
  }

  /**
   * Asks every live node, this one included, and resolves with the answers that came
   * within `timeoutMs` and the nodes that did not answer. Never rejects.
   *
   * `options.nodes`: ask only these (this one among them or not); the question names
   * them, so the others do not compute an answer. A named node that is not live is
   * named unanswered at once.
   */
  async ask(kind: string, body: unknown, timeoutMs: number, options: { nodes?: readonly string[] } = {}): Promise<QueryResult> {
    const only = options.nodes === undefined ? undefined : new Set(options.nodes);
    const answers: QueryAnswer[] = [];
    if (!only || only.has(this.nodeId)) answers.push({ node: this.nodeId, ...(await this.respond(kind, body, this.nodeId)) });
    const live = this.transport.liveNodes().filter((node) => node !== this.nodeId);
    const others = only ? live.filter((node) => only.has(node)) : live;
    const notLive = only ? [...only].filter((node) => node !== this.nodeId && !live.includes(node)) : [];
    if (others.length === 0) return { answers, unanswered: notLive.sort() };
    const id = messageId();
    const result = new Promise<QueryResult>((resolve) => {
      this.pending.set(id, { answers, missing: new Set(others), gone: notLive, resolve, timer: this.timers.setTimeout(() => this.settle(id), timeoutMs) });
    });
    const question: QuestionPayload = { v: 1, id, from: this.nodeId, at: this.timers.now(), ttl: timeoutMs, kind, body };
    if (only) question.to = others;
    // Not sent (the broker is away and the outbox full): nobody can answer.
    if (!this.transport.question(question)) this.settle(id);
    return result;
  }

  /** A question from another node (handlers/question.ts): answered on its answers topic. */
  async question(question: QuestionPayload): Promise<void> {
    // Asked of other nodes only (the inspector reading one node): not computed here.
    if (question.to !== undefined && !question.to.includes(this.nodeId)) return;
    const outcome = await this.respond(question.kind, question.body, question.from);
    this.transport.answer(question.from, { v: 1, id: question.id, from: this.nodeId, ...outcome });
  }

  /** An answer to one of this node's questions (handlers/answer.ts); a late or repeated one is ignored. */
  answer(answer: AnswerPayload): void {
    const waiting = this.pending.get(answer.id);
    // Only a node still awaited: not a repeat, nor a node that was not asked.
    if (!waiting || !waiting.missing.has(answer.from)) return;
    waiting.answers.push(answer.error === undefined ? { node: answer.from, body: answer.body } : { node: answer.from, error: answer.error });
    waiting.missing.delete(answer.from);
    if (waiting.missing.size === 0) this.settle(answer.id);
  }

  /** A node went offline: no question waits for it any more (it is named unanswered). */
  nodeGone(node: string): void {
    for (const [id, waiting] of [...this.pending]) {
      if (!waiting.missing.delete(node)) continue;
      waiting.gone.push(node);
      if (waiting.missing.size === 0) this.settle(id);
    }
  }

  /** The nodes a question would reach now: this one and every other live node, sorted. */
  nodes(): string[] {
    return [this.nodeId, ...this.transport.liveNodes().filter((node) => node !== this.nodeId)].sort();
  }

  /** Questions still open (a test's and the inspector's view). */
  get size(): number {
    return this.pending.size;
  }

  /** Every question answers now with what came (shutdown). */
  close(): void {
    for (const id of [...this.pending.keys()]) this.settle(id);
  }

  private async respond(kind: string, body: unknown, asker: string): Promise<{ body?: unknown; error?: string }> {
    const responder = this.responders.get(kind);
    if (!responder) return { error: UNKNOWN_KIND };
    try {
      return { body: await responder(body, asker) };
    } catch {
      return { error: FAILED };
    }
  }

  private settle(id: string): void {
    const waiting = this.pending.get(id);
    if (!waiting) return;
    this.pending.delete(id);
    this.timers.clearTimeout(waiting.timer);
    waiting.answers.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
    waiting.resolve({ answers: waiting.answers, unanswered: [...waiting.missing, ...waiting.gone].sort() });
  }
}
