// @ts-check
/**
 * What the page knows of another node, or of every node: the latest answer of
 * `GET /api/admin/inspector/actors?node=<id>|all`, which main.js asks for every few
 * seconds (the event stream is this node's only). Pure: no DOM, no fetch.
 *
 * Each answer is a whole picture (counts, and up to `limit` actors of each node), so
 * the newest replaces the last; an answer to an earlier request that arrives after a
 * later one is dropped by its request number. Actors of several nodes may share an
 * id (ids are per process): each is known by its node and id.
 */
import { countIn, groupKey, LIST_CAP, viewOf } from './model.js';

/**
 * @typedef {import('./model.js').Counts} Counts
 * @typedef {import('./model.js').Totals} Totals
 * @typedef {import('./model.js').Summary & { node: string }} NodeSummary
 * @typedef {{
 *   node: string, at: number, counts: Counts, totals: Totals, matching: number, actors: NodeSummary[],
 *   nodes: { answered: Array<{ node: string, seq: number, at: number, matching: number }>, unanswered: string[], failed: Array<{ node: string, error: string }> },
 * }} ClusterSample
 */

/** The key of an actor of a node: ids are unique per process only. @param {string} node @param {string} id */
export const actorKey = (node, id) => `${node} ${id}`;

export class SampledModel {
  /** @type {Counts} */
  counts = {};
  /** @type {Totals} */
  totals = {};
  /** The node (or `all`) this model shows. */
  node;
  /** @type {ClusterSample['nodes'] | undefined} */
  nodes;
  /** When the answer applied was merged (the asking node's clock). @type {number | undefined} */
  at;
  /** group key -> its actors, in the order of the answer. @type {Map<string, NodeSummary[]>} */
  #groups = new Map();
  /** @type {Map<string, NodeSummary>} */
  #actors = new Map();
  /** The number of the last request made, and of the last applied. */
  #asked = 0;
  #applied = 0;

  /** @param {string} node */
  constructor(node) {
    this.node = node;
  }

  /** A number for the request about to be made; give it back with its answer. */
  ask() {
    return ++this.#asked;
  }

  /**
   * The answer to request `n`; returns whether it was applied (one older than an
   * answer already applied, or for another node, is not).
   * @param {ClusterSample} sample @param {number} n
   */
  apply(sample, n) {
    if (n <= this.#applied || sample.node !== this.node) return false;
    this.#applied = n;
    this.counts = sample.counts;
    this.totals = sample.totals;
    this.nodes = sample.nodes;
    this.at = sample.at;
    this.#groups.clear();
    this.#actors.clear();
    for (const actor of sample.actors) {
      this.#actors.set(actorKey(actor.node, actor.id), actor);
      const key = groupKey(actor.machine, actor.state);
      let group = this.#groups.get(key);
      if (!group) this.#groups.set(key, (group = []));
      group.push(actor);
    }
    return true;
  }

  /** @param {string} node @param {string} id */
  actor(node, id) {
    return this.#actors.get(actorKey(node, id));
  }

  /** @param {string} machine @param {string} path */
  countIn(machine, path) {
    return countIn(this.counts, machine, path);
  }

  /** @param {string} machine */
  live(machine) {
    return this.totals[machine]?.live ?? 0;
  }

  /** As InspectorModel.view: each group lists up to LIST_CAP of the actors the answer holds. @param {string[]} charted */
  view(charted) {
    return viewOf(this.counts, charted, (key) => (this.#groups.get(key) ?? []).slice(0, LIST_CAP));
  }
}
