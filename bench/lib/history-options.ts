/**
 * Command-line options of the history-cost benchmark (bench/history-cost.ts).
 */
import { parseFlags, UsageError, type FlagSpec } from './flags.ts';

export const HISTORY_BROKERS = ['embedded', 'mosquitto', 'nats'] as const;
export type HistoryBroker = (typeof HISTORY_BROKERS)[number];

/** `ring`: one retained message per pushed message (slot = seq % size); `blob`: one retained message per (user, node) holding the whole ring. */
export const HISTORY_DESIGNS = ['ring', 'blob'] as const;
export type HistoryDesign = (typeof HISTORY_DESIGNS)[number];

export interface HistoryOptions {
  /** U: users, each with H entries. */
  users: number;
  /** H: the entries per user, one run per value (`--entries 10,100`). */
  entries: number[];
  /** Ring size: slot = seq % size. */
  size: number;
  /** Characters of each pushed message. */
  payload: number;
  /** Publisher connections (each a writing node: user u is written by publisher u % P). */
  publishers: number;
  /** QoS 1 publishes in flight per publisher connection. */
  inflight: number;
  /** Users read back (random, one at a time) per run. */
  reads: number;
  /** Upper bound on the read phase, seconds (a slow broker reads fewer users). */
  readSeconds: number;
  /** Seconds of the steady-state push phase (each push: one entry; the blob design rewrites its ring). */
  steadySeconds: number;
  /** Upper bound on the fill, seconds: past it the fill stops and the run measures what got in. */
  fillSeconds: number;
  /** Samples of each probe (connect, subscribe to an empty filter). */
  probes: number;
  brokers: HistoryBroker[];
  designs: HistoryDesign[];
  /** Skip the broker restart at the end of each run. */
  noRestart: boolean;
}

export const DEFAULTS: HistoryOptions = {
  users: 10_000,
  entries: [10, 100],
  size: 100,
  payload: 200,
  publishers: 4,
  inflight: 100,
  reads: 200,
  readSeconds: 60,
  steadySeconds: 10,
  fillSeconds: 1500,
  probes: 20,
  brokers: [...HISTORY_BROKERS],
  designs: [...HISTORY_DESIGNS],
  noRestart: false,
};

export const QUICK: Partial<HistoryOptions> = { users: 1000, entries: [10], reads: 50, readSeconds: 15, steadySeconds: 3, fillSeconds: 120, probes: 5 };

export const USAGE = `Usage: npx tsx bench/history-cost.ts [--quick] [options]

What per-user message history kept on the broker as retained messages costs the
broker: for each broker (the embedded aedes broker as a child process, Mosquitto
with mosquitto.conf's persistence, a 3-server NATS cluster) and each design, on a
fresh broker each time:
  ring  one retained QoS 1 message per pushed message, to
        wsmesh/internal/history/<ctx>/<user>/<node>/<seq % size>
  blob  one retained message per (user, node) holding the whole ring as a JSON
        array, rewritten on each push
the broker's memory (RSS) with no history (the baseline), then after writing H
entries for each of U users; disk (Mosquitto's database after a save, NATS's store
dirs); write rates (the fill; then steady-state pushes); the time to read one user's
history (subscribe QoS 0 to <ctx>/<user>/#, publish a marker, wait for it); the
time of a connect and of a subscription to an empty filter, before and after; the
time a restart takes with the history in it.

  --quick               small run: U=${QUICK.users}, H=${QUICK.entries!.join(',')}, ${QUICK.reads} reads
  --users U             users (default ${DEFAULTS.users})
  --entries H[,H..]     entries per user, one run each (default ${DEFAULTS.entries.join(',')})
  --size S              ring size, slot = seq % S (default ${DEFAULTS.size})
  --payload N           characters of each message (default ${DEFAULTS.payload})
  --publishers P        publisher connections (default ${DEFAULTS.publishers})
  --inflight F          QoS 1 publishes in flight per publisher (default ${DEFAULTS.inflight})
  --reads R             users read back per run (default ${DEFAULTS.reads})
  --read-seconds S      at most this long reading (default ${DEFAULTS.readSeconds})
  --steady-seconds S    steady-state pushes for this long (default ${DEFAULTS.steadySeconds})
  --fill-seconds S      stop the fill after this long and measure what got in (default ${DEFAULTS.fillSeconds})
  --probes N            samples of each connect and subscribe probe (default ${DEFAULTS.probes})
  --brokers LIST        ${HISTORY_BROKERS.join(',')} (default all)
  --designs LIST        ${HISTORY_DESIGNS.join(',')} (default both)
  --no-restart          skip the restart at the end of each run
  -h, --help            this text
`;

const SPEC: FlagSpec<HistoryOptions, 'entries' | 'brokers' | 'designs'> = {
  defaults: DEFAULTS,
  quick: QUICK,
  integers: [
    ['users', 'users', 1],
    ['size', 'size', 1],
    ['payload', 'payload', 1],
    ['publishers', 'publishers', 1],
    ['inflight', 'inflight', 1],
    ['reads', 'reads', 0],
    ['read-seconds', 'readSeconds', 1],
    ['steady-seconds', 'steadySeconds', 0],
    ['fill-seconds', 'fillSeconds', 1],
    ['probes', 'probes', 1],
  ],
  switches: [['no-restart', 'noRestart']],
  strings: ['entries', 'brokers', 'designs'],
};

function list<T extends string>(flag: string, raw: string, allowed: readonly T[]): T[] {
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = items.filter((item) => !allowed.includes(item as T));
  if (items.length === 0 || bad.length) throw new UsageError(`--${flag}: expected a comma-separated list of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  return items as T[];
}

export function parseHistoryOptions(argv: readonly string[]): HistoryOptions | undefined {
  const parsed = parseFlags(argv, SPEC);
  if (!parsed) return undefined;
  const { options, strings } = parsed;
  if (strings.entries !== undefined) {
    options.entries = strings.entries.split(',').map((s) => {
      const value = Number(s.trim());
      if (!Number.isInteger(value) || value < 1) throw new UsageError(`--entries: expected positive integers, got ${JSON.stringify(strings.entries)}`);
      return value;
    });
  }
  if (strings.brokers !== undefined) options.brokers = list('brokers', strings.brokers, HISTORY_BROKERS);
  if (strings.designs !== undefined) options.designs = list('designs', strings.designs, HISTORY_DESIGNS);
  return options;
}
