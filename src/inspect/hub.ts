/**
 * The live inspector's model of a node: every live actor with its machine, state and
 * status, and how many actors of each machine are in each state. It is XState's
 * `inspect` observer (node.ts gives it to every actor), so it sees each snapshot.
 *
 * Costs: O(1) per inspection event (Map and Set operations; a state value is turned
 * into its key only when it changed). Counts are the sizes of per-state Sets, kept
 * always. Updates for watchers are batched: changes collect in a Map (the latest per
 * actor) and leave at most every `interval` ms, capped at `maxChangesPerBatch`; with
 * nobody subscribed nothing is collected and no timer runs.
 *
 * Each tracked actor keeps its last 50 transitions (transitions.ts: a fixed ring,
 * O(1) per transition, event types and state names only, never a payload), for the
 * details view. An actor followed on demand has them from its start when it started
 * while followed, else from the moment it was followed.
 *
 * An actor leaves when a snapshot says done, stopped or error (announced to watchers
 * first). A root actor that fails in an action emits no snapshot: it is found on the
 * next event sent to it, or by `sweep()`.
 *
 * Followed on demand: the actors of a machine given by `followOnDemand` (one per
 * socket: the connections) get no observer while nobody looks, because xstate builds
 * three inspection events per event an observed actor takes (measured: 1.5% of the
 * node's CPU, and its largest allocation per delivered message, in bench/local-fanout).
 * The first look (a watcher, a listing, a count) follows every live one at once:
 * each enters the hub in the state its snapshot is in now (`since` is then the
 * moment it was followed), and gets an observer through its system. New ones are
 * followed as the source reports them. `idleMs` after the last watcher left and the
 * last look, the hub lets go of them again.
 */
import type { AnyActor, InspectionEvent, Snapshot } from 'xstate';
import { systemTimers, type Timers } from '../time/timers.ts';
import { describeActor, type ActorDetail, type ActorSummary } from './summary.ts';
import { Names, TransitionRing, type Transition } from './transitions.ts';
import { inState, machineOf, stateKey } from './state-key.ts';

export interface InspectorOptions {
  /** The shortest time between two batches, ms. */
  interval: number;
  /** Changes per batch; the rest are counted in `omitted` (the counts stay exact). */
  maxChangesPerBatch: number;
  timers: Timers;
  /** How long the hub keeps following the on-demand actors after the last look, ms. */
  idleMs: number;
}

export const DEFAULTS: InspectorOptions = { interval: 100, maxChangesPerBatch: 500, timers: systemTimers, idleMs: 60_000 };

/** The live actors of one machine that the hub follows only while somebody looks. */
export interface OnDemandSource {
  machine: string;
  /** Every live actor of the machine now (started, not yet ended). */
  live(): Iterable<AnyActor>;
}

export type ActorStatus = 'active' | 'done' | 'stopped' | 'error';

/** machine -> state key -> live actors. A state once seen stays, at 0. */
export type Counts = Record<string, Record<string, number>>;

/** Actors created and ended since the hub started, per machine. */
export type Totals = Record<string, { live: number; created: number; ended: number }>;

export interface ActorChange {
  id: string;
  machine: string;
  systemId?: string;
  state: string;
  status: ActorStatus;
  /** For actors entering a state: a few words naming it (see summary.ts). */
  label?: string;
}

export interface InspectorSnapshot {
  /**
   * Increases by one with every snapshot and batch the hub makes (for any watcher),
   * so it orders them among themselves and against samples (see sample()).
   */
  seq: number;
  at: number;
  counts: Counts;
  totals: Totals;
}

export interface InspectorBatch extends InspectorSnapshot {
  /** Actors that entered a state (the latest per actor since the last batch). */
  changes: ActorChange[];
  /** Actors that ended; `state` is the one they ended in (a final state, or the last before a stop). */
  left: ActorChange[];
  /** Changes not listed because of the cap; a client refetches its lists. */
  omitted: number;
}

export type InspectorListener = (batch: InspectorBatch) => void;

/** One live actor. Mutated in place: one object per actor for its whole life. */
export interface Tracked {
  readonly id: string;
  readonly ref: AnyActor;
  readonly machine: string;
  systemId: string | undefined;
  state: string;
  /** The snapshot value `state` was computed from (an unchanged value is not re-keyed). */
  value: unknown;
  since: number;
  events: number;
  lastEvent: string | undefined;
  /** For an actor followed on demand: removes the observer from its system. */
  unfollow?: () => void;
  /** Its last transitions; made at its first one. */
  transitions?: TransitionRing;
}

interface MachineEntry {
  readonly states: Map<string, Set<Tracked>>;
  created: number;
  ended: number;
}

/** `idle`: on-demand actors have no observer; `following`: every live one is tracked. */
type Following = { mode: 'idle' } | { mode: 'following'; idleTimer: unknown };

const ENDED = { done: true, stopped: true, error: true } as const;

export class InspectorHub {
  private readonly options: InspectorOptions;
  private readonly actors = new Map<string, Tracked>();
  private readonly machines = new Map<string, MachineEntry>();
  private readonly listeners = new Set<InspectorListener>();
  /** What changed since the last batch: a live actor, or the change announcing its end. */
  private readonly pending = new Map<string, Tracked | ActorChange>();
  private timer: unknown;
  private seq = 0;
  private source: OnDemandSource | undefined;
  private following: Following = { mode: 'idle' };
  /** The state keys and event types the transition rings refer to. */
  private readonly names = new Names();

  constructor(options: Partial<InspectorOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Give this as `inspect` to `createActor`. */
  readonly observer = (event: InspectionEvent): void => {
    switch (event.type) {
      case '@xstate.snapshot':
        return this.onSnapshot(event.actorRef as AnyActor, event.snapshot, event.event.type);
      case '@xstate.event':
        return this.onEvent(event.actorRef as AnyActor, event.sourceRef as AnyActor | undefined, event.event.type);
      case '@xstate.actor': {
        // Sent from the actor's constructor, before its first snapshot: only counted
        // here; the actor is tracked from its first snapshot (when it starts), so an
        // actor created and never started leaves nothing behind.
        const machine = machineOf(event.actorRef as AnyActor);
        // An on-demand machine's actors are counted by spawned(), which the source always calls.
        if (machine !== this.source?.machine) this.machine(machine).created++;
        return;
      }
    }
  };

  /**
   * The machine whose actors the hub follows only while somebody looks; the source
   * calls `spawned` and `ended` for each of them (two counter updates while nobody looks).
   */
  followOnDemand(source: OnDemandSource): void {
    this.source = source;
    this.machine(source.machine);
  }

  /** An actor of the on-demand machine started: called right after `start()`, so it is still in its initial state. */
  spawned(ref: AnyActor): void {
    this.machine(machineOf(ref)).created++;
    if (this.following.mode === 'following') this.follow(ref, true);
  }

  /** An actor of the on-demand machine ended (its final snapshot may have said so already). */
  ended(ref: AnyActor): void {
    this.machine(machineOf(ref)).ended++;
    const tracked = this.actors.get(ref.sessionId);
    if (!tracked) return;
    // The source may hear of the end before the hub's own observer does: read the final snapshot here.
    const snapshot = ref.getSnapshot() as Snapshot<unknown> & { value?: unknown };
    const status = snapshot.status === 'active' ? 'stopped' : (snapshot.status as ActorStatus);
    this.leave(tracked, status, snapshot.value === undefined ? tracked.state : stateKey(snapshot.value));
  }

  /** Whether the on-demand actors are followed now (somebody looked within idleMs). */
  get followingOnDemand(): boolean {
    return this.following.mode === 'following';
  }

  /** Every inspector request and watcher passes here: it (re)starts following, and the idle clock. */
  private look(): void {
    if (!this.source) return;
    const { timers, idleMs } = this.options;
    if (this.following.mode === 'idle') {
      this.following = { mode: 'following', idleTimer: undefined };
      for (const ref of this.source.live()) this.follow(ref);
    }
    timers.clearTimeout(this.following.idleTimer);
    this.following.idleTimer = this.listeners.size > 0 ? undefined : timers.setTimeout(() => this.letGo(), idleMs);
  }

  /** `justStarted`: its first transition (the start) is known, and recorded; else it is followed from the state it is in. */
  private follow(ref: AnyActor, justStarted = false): void {
    const snapshot = ref.getSnapshot() as Snapshot<unknown>;
    if (snapshot.status !== 'active' || this.actors.has(ref.sessionId)) return;
    const value = (snapshot as { value?: unknown }).value;
    const tracked = this.enter(ref, stateKey(value), value);
    if (justStarted) this.record(tracked, 'xstate.init', null, tracked.state);
    const subscription = ref.system.inspect(this.observer);
    tracked.unfollow = () => subscription.unsubscribe();
  }

  /** Nobody looked for idleMs: the on-demand actors lose their observers and leave the hub, silently. */
  private letGo(): void {
    if (this.following.mode !== 'following' || !this.source) return;
    this.options.timers.clearTimeout(this.following.idleTimer);
    this.following = { mode: 'idle' };
    const entry = this.machine(this.source.machine);
    for (const group of entry.states.values()) {
      for (const tracked of group) {
        tracked.unfollow?.();
        this.actors.delete(tracked.id);
        this.pending.delete(tracked.id);
      }
      group.clear();
    }
  }

  /** Stops the idle clock and lets go of the on-demand actors (the node stops). */
  stop(): void {
    this.letGo();
    this.options.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  /** An observer that also passes every event on to `other` (e.g. a test's own). */
  observerWith(other?: ((event: InspectionEvent) => void) | { next?: (event: InspectionEvent) => void }): (event: InspectionEvent) => void {
    if (!other) return this.observer;
    const next = typeof other === 'function' ? other : (event: InspectionEvent) => other.next?.(event);
    return (event) => {
      this.observer(event);
      next(event);
    };
  }

  /** Live actors tracked. */
  get size(): number {
    return this.actors.size;
  }

  /** Subscribers: with none, the hub only counts. */
  get watchers(): number {
    return this.listeners.size;
  }

  /** `cause`: the type of the event the snapshot results from (`xstate.init` for the first). */
  private onSnapshot(ref: AnyActor, snapshot: Snapshot<unknown>, cause: string): void {
    const status = snapshot.status as ActorStatus;
    const tracked = this.actors.get(ref.sessionId);
    const value = (snapshot as { value?: unknown }).value;
    if (status in ENDED) {
      // The state it ended in (`closed`), when the snapshot has one.
      if (tracked) this.leave(tracked, status, value === undefined ? tracked.state : stateKey(value));
      return;
    }
    if (tracked && value === tracked.value) return;
    const state = stateKey(value);
    if (!tracked) return this.record(this.enter(ref, state, value), cause, null, state);
    tracked.value = value;
    if (state === tracked.state) return;
    this.group(tracked.machine, tracked.state).delete(tracked);
    this.group(tracked.machine, state).add(tracked);
    this.record(tracked, cause, tracked.state, state);
    tracked.state = state;
    tracked.since = this.options.timers.now();
    this.changed(tracked);
  }

  private record(tracked: Tracked, event: string, from: string | null, to: string): void {
    (tracked.transitions ??= new TransitionRing()).push(this.names, this.options.timers.now(), event, from, to);
  }

  private enter(ref: AnyActor, state: string, value: unknown): Tracked {
    const tracked: Tracked = {
      id: ref.sessionId,
      ref,
      machine: machineOf(ref),
      systemId: ref.systemId,
      state,
      value,
      since: this.options.timers.now(),
      events: 0,
      lastEvent: undefined,
    };
    this.actors.set(tracked.id, tracked);
    this.group(tracked.machine, state).add(tracked);
    this.changed(tracked);
    return tracked;
  }

  private onEvent(target: AnyActor, source: AnyActor | undefined, type: string): void {
    const tracked = this.actors.get(target.sessionId);
    if (tracked) {
      tracked.events++;
      tracked.lastEvent = type;
      if (target.getSnapshot().status === 'error') this.leave(tracked, 'error');
    }
    // A child that failed tells its parent; its own snapshot event never comes.
    if (source && type.startsWith('xstate.error.actor.')) {
      const failed = this.actors.get(source.sessionId);
      if (failed) this.leave(failed, 'error');
    }
  }

  private leave(tracked: Tracked, status: ActorStatus, state = tracked.state): void {
    if (!this.actors.delete(tracked.id)) return;
    tracked.unfollow?.();
    this.group(tracked.machine, tracked.state).delete(tracked);
    // An on-demand actor's end is counted by ended(), which the source always calls.
    if (tracked.machine !== this.source?.machine) this.machine(tracked.machine).ended++;
    if (this.listeners.size === 0) return;
    const change: ActorChange = { id: tracked.id, machine: tracked.machine, state, status };
    if (tracked.systemId !== undefined) change.systemId = tracked.systemId;
    this.pending.set(tracked.id, change);
    this.schedule();
  }

  private changed(tracked: Tracked): void {
    if (this.listeners.size === 0) return;
    this.pending.set(tracked.id, tracked);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer === undefined) this.timer = this.options.timers.setTimeout(() => this.flush(), this.options.interval);
  }

  /** Sends what is pending now (the timer does it every `interval`). */
  flush(): void {
    if (this.timer !== undefined) this.options.timers.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0 || this.listeners.size === 0) return this.pending.clear();
    const changes: ActorChange[] = [];
    const left: ActorChange[] = [];
    let omitted = 0;
    for (const item of this.pending.values()) {
      if (changes.length + left.length >= this.options.maxChangesPerBatch) omitted++;
      else if ('ref' in item) changes.push(changeOf(item));
      else left.push(item);
    }
    this.pending.clear();
    const batch: InspectorBatch = { ...this.snapshot(), changes, left, omitted };
    for (const listener of [...this.listeners]) listener(batch);
  }

  /** Batches from now on; call the returned function to stop. */
  subscribe(listener: InspectorListener): () => void {
    this.listeners.add(listener);
    this.look();
    return () => {
      if (!this.listeners.delete(listener)) return;
      if (this.listeners.size === 0) {
        this.flush();
        this.look();
      }
    };
  }

  /** The counts now: what a new watcher starts from. */
  snapshot(): InspectorSnapshot {
    this.look();
    return { seq: ++this.seq, at: this.options.timers.now(), ...this.tally() };
  }

  counts(): Counts {
    this.look();
    return this.tally().counts;
  }

  /**
   * Live actors per machine without looking (no following starts): the on-demand
   * machine's from its two counters, the others' from the actors tracked. For
   * /metrics, which a scrape must read without changing what the node does.
   */
  liveCounts(): Record<string, number> {
    const live: Record<string, number> = {};
    for (const [name, entry] of this.machines) {
      if (name === this.source?.machine) live[name] = entry.created - entry.ended;
      else live[name] = [...entry.states.values()].reduce((n, actors) => n + actors.size, 0);
    }
    return live;
  }

  private tally(): { counts: Counts; totals: Totals } {
    const counts: Counts = {};
    const totals: Totals = {};
    for (const [name, entry] of this.machines) {
      const states: Record<string, number> = {};
      let live = 0;
      for (const [state, actors] of entry.states) {
        states[state] = actors.size;
        live += actors.size;
      }
      counts[name] = states;
      totals[name] = { live, created: entry.created, ended: entry.ended };
    }
    return { counts, totals };
  }

  /**
   * Up to `limit` live actors, of one machine and state if given, and at most
   * `perState` of each state (so one crowded state does not leave the others
   * unlisted). `state` matches nested states too: `open` lists actors in `open.idle`
   * and `open.probing`.
   *
   * `seq` is the last sequence number the hub gave a snapshot or batch: the sample
   * reflects every change in that batch and earlier ones. A watcher reads samples
   * beside the stream, so one may arrive after newer batches; it compares `seq`s to
   * drop what is older than the batches it already applied.
   */
  sample(filter: { machine?: string; state?: string; limit: number; perState?: number }): { seq: number; matching: number; actors: ActorSummary[] } {
    this.look();
    const actors: ActorSummary[] = [];
    let matching = 0;
    for (const [name, entry] of this.machines) {
      if (filter.machine !== undefined && name !== filter.machine) continue;
      for (const [state, group] of entry.states) {
        if (filter.state !== undefined && !inState(state, filter.state)) continue;
        matching += group.size;
        let listed = 0;
        for (const tracked of group) {
          if (actors.length >= filter.limit || listed++ >= (filter.perState ?? Infinity)) break;
          actors.push(describeActor(tracked, false));
        }
      }
    }
    return { seq: this.seq, matching, actors };
  }

  /**
   * One live actor with a summary of its context (never its socket or secrets) and
   * its last transitions, oldest first; `seq` as in sample().
   */
  describe(id: string): (ActorDetail & { seq: number; transitions: Transition[] }) | undefined {
    this.look();
    const tracked = this.actors.get(id);
    if (!tracked) return undefined;
    const status = tracked.ref.getSnapshot().status as ActorStatus;
    if (status in ENDED) {
      this.leave(tracked, status);
      return undefined;
    }
    const transitions = tracked.transitions?.list(this.names) ?? [];
    return { ...(describeActor(tracked, true) as ActorDetail), seq: this.seq, transitions };
  }

  /** Drops actors that ended without a snapshot saying so (a root actor that failed). O(actors). */
  sweep(): number {
    let dropped = 0;
    for (const tracked of [...this.actors.values()]) {
      const status = tracked.ref.getSnapshot().status as ActorStatus;
      if (status in ENDED) {
        this.leave(tracked, status);
        dropped++;
      }
    }
    return dropped;
  }

  private machine(name: string): MachineEntry {
    let entry = this.machines.get(name);
    if (!entry) this.machines.set(name, (entry = { states: new Map(), created: 0, ended: 0 }));
    return entry;
  }

  private group(machine: string, state: string): Set<Tracked> {
    const states = this.machine(machine).states;
    let group = states.get(state);
    if (!group) states.set(state, (group = new Set()));
    return group;
  }
}

/** Built when a batch leaves, so an actor that changed ten times in it is summarised once. */
function changeOf(tracked: Tracked): ActorChange {
  const { label } = describeActor(tracked, false);
  const change: ActorChange = { id: tracked.id, machine: tracked.machine, state: tracked.state, status: 'active', label };
  if (tracked.systemId !== undefined) change.systemId = tracked.systemId;
  return change;
}
