/**
 * History kept on the broker, with no server beside it: each slot of a user's ring is
 * a retained message (QoS 1) on `<name>/internal/history/<ctx>/<user>/<origin>/<slot>`,
 * sealed like every internal payload. It outlives the node that wrote it: Mosquitto
 * persists retained messages, NATS keeps them in JetStream, replicated.
 *
 * Reading: subscribe (QoS 0: on NATS a QoS 1 subscription is a JetStream consumer)
 * to the user's filter, which brings every retained slot; then publish a marker
 * under the same filter. Mosquitto and NATS send the retained slots while handling
 * the SUBSCRIBE, so they are in before the marker. aedes streams them lazily, one
 * per tick, after its SUBACK, so the marker can overtake them (measured: only the
 * first slot of each ring was in): the read therefore ends once the marker is back
 * and then QUIET_MS passed with no stored (retained) slot arriving. Entries written meanwhile come too,
 * as plain messages. Readers of one user share the read.
 */
import { randomBytes } from 'node:crypto';
import type { SubscribeOutcome } from '../cluster/user-subscriptions.ts';
import type { Topics } from '../cluster/topics.ts';
import type { Timers } from '../time/timers.ts';
import { decodeEntry, encodeEntry } from './entry-codec.ts';
import type { HistoryEntry } from './position.ts';
import type { HistoryStore } from './store.ts';

export interface BrokerHistoryOptions {
  topics: Topics;
  /** Publishes a sealed body (retained or not), or clears a retained slot with `undefined`. */
  publish(topic: string, body: string | undefined, retain: boolean): boolean;
  subscribe(filters: string[]): Promise<SubscribeOutcome>;
  unsubscribe(filters: string[]): void;
  timers: Timers;
  /** How long a read may take before it is given up (ms; cluster.syncTimeout). */
  readTimeout: () => number;
}

/** After the marker, how long no slot may arrive before the read is complete (see above). */
const QUIET_MS = 30;

interface Read {
  marker: string;
  markerBack: boolean;
  quiet?: unknown;
  entries: Map<string, HistoryEntry>;
  done: (entries: HistoryEntry[] | undefined) => void;
  promise: Promise<HistoryEntry[] | undefined>;
}

export class BrokerHistory implements HistoryStore {
  private readonly reads = new Map<string, Read>();

  constructor(private readonly options: BrokerHistoryOptions) {}

  write(entry: HistoryEntry, slot: number): void {
    this.options.publish(this.options.topics.history(entry.contextId, entry.userId, entry.origin, slot), encodeEntry(entry), true);
  }

  clear(contextId: number, userId: number, origin: string, slots: number): void {
    for (let slot = 0; slot < slots; slot++) this.options.publish(this.options.topics.history(contextId, userId, origin, slot), undefined, true);
  }

  read(contextId: number, userId: number): Promise<HistoryEntry[] | undefined> {
    const key = `${contextId}:${userId}`;
    const running = this.reads.get(key);
    if (running) return running.promise;
    const read = { marker: randomBytes(9).toString('base64url'), markerBack: false, entries: new Map() } as Read;
    read.promise = new Promise((resolve) => (read.done = resolve));
    this.reads.set(key, read);
    void this.run(contextId, userId, key, read);
    return read.promise;
  }

  /** A history message for a user (checked and parsed by the cluster): an entry, or a reader's marker. */
  arrived(contextId: number, userId: number, body: string | undefined, marker: string | undefined, retained = true): void {
    const read = this.reads.get(`${contextId}:${userId}`);
    if (!read) return;
    if (marker !== undefined) {
      if (marker !== read.marker) return;
      read.markerBack = true;
      this.quietThen(read);
      return;
    }
    const entry = body === undefined ? undefined : decodeEntry(body);
    // Also a check on the seal's word: the body names the user its topic does.
    if (entry && entry.contextId === contextId && entry.userId === userId) read.entries.set(`${entry.origin}:${entry.seq}`, entry);
    // Only a stored slot still on its way delays the end: entries written meanwhile keep
    // coming for as long as pushes do (they also reach the socket live).
    if (read.markerBack && retained) this.quietThen(read);
  }

  private quietThen(read: Read): void {
    const { timers } = this.options;
    if (read.quiet !== undefined) timers.clearTimeout(read.quiet);
    read.quiet = timers.setTimeout(() => read.done([...read.entries.values()]), QUIET_MS);
  }

  private async run(contextId: number, userId: number, key: string, read: Read): Promise<void> {
    const { topics, timers } = this.options;
    const filter = topics.historyFilter(contextId, userId);
    const timer = timers.setTimeout(() => read.done(undefined), this.options.readTimeout());
    try {
      const outcome = await this.options.subscribe([filter]);
      if (outcome !== 'granted' || !this.options.publish(topics.historyMarker(contextId, userId, read.marker), '{}', false)) read.done(undefined);
      await read.promise;
    } finally {
      timers.clearTimeout(timer);
      if (read.quiet !== undefined) timers.clearTimeout(read.quiet);
      this.reads.delete(key);
      this.options.unsubscribe([filter]);
    }
  }
}
