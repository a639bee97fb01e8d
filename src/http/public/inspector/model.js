// @ts-check
/**
 * What the inspector page knows of the node: the counts per machine and state, the
 * live actors it heard of (by id, with their state), and which one is selected. Pure:
 * no DOM, no fetch; main.js feeds it the stream's messages and the samples it asks for.
 *
 * Why the ordering: a sample (`GET /api/admin/inspector/actors`) travels beside the
 * event stream, so it can arrive after batches that are newer than it, and would put
 * back an actor that has since moved or ended. Every snapshot and batch carries the
 * hub's `seq` (one counter for all of them), and a sample carries the `seq` of the
 * last batch it includes. The model keeps, per actor, the `seq` of what it last
 * applied, and for an actor that ended, the `seq` of its end (up to `MAX_ENDED` of
 * them); it applies a batch's change only when the batch is newer than that, and a
 * sample's entry only when the sample is at least as new (a sample with the seq of a
 * batch was taken after that batch was sent).
 *
 * It keeps every live actor it heard of, not only the few it lists: the order of
 * each is what rejects a late sample about it.
 */

/**
 * @typedef {{ id: string, machine: string, systemId?: string, state: string, status?: string, label?: string, node?: string }} Change
 * @typedef {Change & { since?: number, events?: number, lastEvent?: string }} Summary
 * @typedef {Record<string, Record<string, number>>} Counts
 * @typedef {Record<string, { live: number, created: number, ended: number }>} Totals
 * @typedef {{ seq: number, at: number, counts: Counts, totals: Totals }} Snapshot
 * @typedef {Snapshot & { changes: Change[], left: Change[], omitted: number }} Batch
 * @typedef {{ seq: number, matching: number, actors: Summary[] }} Sample
 * @typedef {Summary & { seq: number }} Known
 * @typedef {{ key: string, state: string, count: number, actors: Known[], more: number }} GroupView
 * @typedef {{ machine: string, groups: GroupView[] }} MachineView
 */

/** Actors listed per group; the rest are counted (`and 12 more`). */
export const LIST_CAP = 8;
/** Ended actors remembered; a sample older than the oldest end forgotten is dropped whole. */
export const MAX_ENDED = 10_000;

/** @param {string} machine @param {string} state */
export const groupKey = (machine, state) => `${machine}/${state}`;

/**
 * Whether a state key (`open.idle`, or a parallel key `a.x, b.y`) is `path` or inside it.
 * @param {string} key @param {string} path
 */
export function inState(key, path) {
  return key.split(', ').some((leaf) => leaf === path || leaf.startsWith(`${path}.`));
}

/**
 * Live actors of a machine in `path` of its chart, nested states and parallel leaves included.
 * @param {Counts} counts @param {string} machine @param {string} path
 */
export function countIn(counts, machine, path) {
  let count = 0;
  for (const [key, n] of Object.entries(counts[machine] ?? {})) if (inState(key, path)) count += n;
  return count;
}

/**
 * The machines (those with a chart first, then any other counted) with their
 * occupied states, in key order, each listing the actors `listed` gives for it.
 * @template {Summary} A
 * @param {Counts} counts @param {string[]} charted @param {(key: string) => A[]} listed
 * @returns {{ machines: Array<{ machine: string, groups: Array<{ key: string, state: string, count: number, actors: A[], more: number }> }>, total: number }}
 */
export function viewOf(counts, charted, listed) {
  const names = [...new Set([...charted, ...Object.keys(counts)])];
  let total = 0;
  const machines = names.map((machine) => {
    const states = Object.entries(counts[machine] ?? {}).filter(([, n]) => n > 0).sort(([a], [b]) => (a < b ? -1 : 1));
    const groups = states.map(([state, count]) => {
      total += count;
      const key = groupKey(machine, state);
      const actors = listed(key);
      return { key, state, count, actors, more: Math.max(0, count - actors.length) };
    });
    return { machine, groups };
  });
  return { machines, total };
}

export class InspectorModel {
  /** @type {Counts} */
  counts = {};
  /** @type {Totals} */
  totals = {};
  /** Changes with each snapshot (a new stream, maybe from a restarted node, whose seq starts again). */
  epoch = 0;
  /** @type {string | undefined} */
  selected;
  /** @type {Map<string, Known>} */
  #actors = new Map();
  /** group key -> ids, in the order they entered it (the first LIST_CAP are listed). @type {Map<string, Set<string>>} */
  #groups = new Map();
  /** id -> seq from which it is known not to be live (ended, or gone from where the model had it). @type {Map<string, number>} */
  #gone = new Map();
  /** Samples older than this are dropped: they predate what the model forgot or missed. */
  #trustFrom = 0;

  /** A new stream: the counts now, and nothing known of single actors. @param {Snapshot} snapshot */
  applySnapshot(snapshot) {
    this.epoch++;
    this.counts = snapshot.counts;
    this.totals = snapshot.totals;
    this.#actors.clear();
    this.#groups.clear();
    this.#gone.clear();
    this.#trustFrom = snapshot.seq;
  }

  /** @param {Batch} batch */
  applyBatch(batch) {
    this.counts = batch.counts;
    this.totals = batch.totals;
    for (const change of batch.changes) {
      if (batch.seq > this.#seqOf(change.id)) this.#place(change, batch.seq);
    }
    for (const change of batch.left) this.#forget(change.id, batch.seq);
    // Changes left out of the batch may be ends: a sample from before it could list the ended.
    if (batch.omitted > 0) this.#trustFrom = Math.max(this.#trustFrom, batch.seq);
    // A group the counts say is empty holds nobody the model placed there up to this batch.
    for (const [key, ids] of this.#groups) {
      const [machine, state] = splitKey(key);
      if ((this.counts[machine]?.[state] ?? 0) > 0) continue;
      for (const id of ids) if (this.#seqOf(id) <= batch.seq) this.#forget(id, batch.seq);
    }
  }

  /**
   * A sample of live actors asked for during `epoch`, of one group (`key`) or of all.
   * Returns whether it was applied (a sample of an earlier stream, or older than what
   * the model forgot or missed, is not).
   * @param {Sample} sample @param {{ epoch: number, key?: string }} asked
   */
  applySample(sample, { epoch, key }) {
    if (epoch !== this.epoch || sample.seq < this.#trustFrom) return false;
    const listed = new Set();
    for (const actor of sample.actors) {
      listed.add(actor.id);
      if (sample.seq >= this.#seqOf(actor.id)) this.#place(actor, sample.seq);
    }
    // A complete listing also tells who is no longer there.
    if (sample.matching <= sample.actors.length) {
      const ids = key === undefined ? [...this.#actors.keys()] : [...(this.#groups.get(key) ?? [])];
      for (const id of ids) if (!listed.has(id) && this.#seqOf(id) <= sample.seq) this.#forget(id, sample.seq);
    }
    return true;
  }

  /**
   * Whether what was read of an actor at `seq` (its details) is still news: the
   * model has not seen it end since.
   * @param {string} id @param {number} seq
   */
  isCurrent(id, seq) {
    return (this.#gone.get(id) ?? -1) <= seq;
  }

  /** @param {string} id */
  actor(id) {
    return this.#actors.get(id);
  }

  /** Live actors in `path` of a machine's chart, nested states and parallel leaves included. @param {string} machine @param {string} path */
  countIn(machine, path) {
    return countIn(this.counts, machine, path);
  }

  /** @param {string} machine */
  live(machine) {
    return this.totals[machine]?.live ?? 0;
  }

  /**
   * The machines (those with a chart first, then any other counted) with their
   * occupied states, in key order, each listing up to LIST_CAP actors.
   * @param {string[]} charted
   * @returns {{ machines: MachineView[], total: number }}
   */
  view(charted) {
    return viewOf(this.counts, charted, (key) => this.#listed(key));
  }

  /**
   * Groups whose list disagrees with their count: fewer listed than there are (up
   * to LIST_CAP), or, in a group small enough for one sample to list whole, more
   * known than the count (some moved unannounced; the complete sample tells which).
   * @returns {string[]}
   */
  wanting() {
    const keys = [];
    for (const [machine, states] of Object.entries(this.counts)) {
      for (const [state, count] of Object.entries(states)) {
        const key = groupKey(machine, state);
        const known = this.#groups.get(key)?.size ?? 0;
        if (count > 0 && (Math.min(known, LIST_CAP) < Math.min(count, LIST_CAP) || (known > count && count <= LIST_CAP))) keys.push(key);
      }
    }
    return keys;
  }

  /** @param {string} key @returns {Known[]} */
  #listed(key) {
    const actors = [];
    for (const id of this.#groups.get(key) ?? []) {
      if (actors.length >= LIST_CAP) break;
      const actor = this.#actors.get(id);
      if (actor) actors.push(actor);
    }
    return actors;
  }

  /** The seq of what the model last applied of this actor; -1 for one it never heard of. @param {string} id */
  #seqOf(id) {
    return this.#actors.get(id)?.seq ?? this.#gone.get(id) ?? -1;
  }

  /** @param {Summary} actor @param {number} seq */
  #place(actor, seq) {
    const previous = this.#actors.get(actor.id);
    if (previous) this.#groups.get(groupKey(previous.machine, previous.state))?.delete(actor.id);
    this.#gone.delete(actor.id);
    // A change carries no `since` or event count: a sample's stay until the next sample.
    this.#actors.set(actor.id, { ...previous, ...actor, seq });
    const key = groupKey(actor.machine, actor.state);
    let ids = this.#groups.get(key);
    if (!ids) this.#groups.set(key, (ids = new Set()));
    ids.add(actor.id);
  }

  /** @param {string} id @param {number} seq */
  #forget(id, seq) {
    seq = Math.max(seq, this.#gone.get(id) ?? -1);
    const actor = this.#actors.get(id);
    if (actor) {
      this.#actors.delete(id);
      this.#groups.get(groupKey(actor.machine, actor.state))?.delete(id);
    }
    this.#gone.delete(id);
    this.#gone.set(id, seq);
    if (this.#gone.size > MAX_ENDED) {
      // The oldest (Map order is insertion order, and seqs only grow within an epoch).
      const [oldest, at] = /** @type {[string, number]} */ (this.#gone.entries().next().value);
      this.#gone.delete(oldest);
      this.#trustFrom = Math.max(this.#trustFrom, at);
    }
  }
}

/** `connection/open.idle` -> [`connection`, `open.idle`] (a state key may hold `/`, a machine id not). @param {string} key */
function splitKey(key) {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}
