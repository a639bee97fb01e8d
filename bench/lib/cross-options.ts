/**
 * Command-line options of the cross-node benchmark. Defaults are sized for a 2-core
 * machine: two nodes and the client load (this process) share the cores.
 */
import { parseFlags, UsageError, type FlagSpec } from './flags.ts';

export interface CrossOptions {
  /** K: users (one context); each has one socket on node B. */
  users: number;
  /** M: messages of the loaded latency run (message i to user i mod K). */
  messages: number;
  /** Messages of the sequential (unloaded) run: one at a time, each waits for its frame. */
  sequential: number;
  /** Unmeasured messages first, to warm both nodes up. */
  warmup: number;
  /** Push requests in flight in the loaded run and in the bursts. */
  inflight: number;
  /** Bytes of each pushed message. */
  payload: number;
  /** B: messages of a coalescing burst. */
  burst: number;
  /** D: distinct strings among a burst's messages. */
  distinct: number;
  /** U: users the second burst is spread over. */
  burstUsers: number;
  /** Logins in flight (scrypt on the server). */
  loginConcurrency: number;
  /** Seconds to wait for the last frames of a run. */
  timeout: number;
  /** The brokers to run on, in order (`--brokers`). */
  brokers: BenchBroker[];
  /** Offered rates of the paced runs, messages/s (`--rates`). */
  rates: number[];
  /** Seconds each paced run lasts. */
  rateSeconds: number;
  /** Push requests in flight at most in a paced run (a push due while all are busy waits, and its wait counts). */
  pacedInflight: number;
}

export const BENCH_BROKERS = ['embedded', 'mosquitto', 'nats'] as const;
export type BenchBroker = (typeof BENCH_BROKERS)[number];

export const DEFAULTS: CrossOptions = {
  users: 50,
  messages: 5000,
  sequential: 200,
  warmup: 500,
  inflight: 16,
  payload: 100,
  burst: 1000,
  distinct: 100,
  burstUsers: 10,
  loginConcurrency: 4,
  timeout: 30,
  brokers: [...BENCH_BROKERS],
  rates: [1000, 5000],
  rateSeconds: 3,
  pacedInflight: 64,
};

export const QUICK: Partial<CrossOptions> = { users: 10, messages: 500, sequential: 50, warmup: 50, burst: 200, distinct: 20, burstUsers: 5, rateSeconds: 1 };

export const USAGE = `Usage: npx tsx bench/cross-node.ts [--quick] [options]

Two wsmesh nodes as child processes, on each broker in turn: the embedded one (A
hosts it), Mosquitto, and a 3-server NATS cluster (A on server 1, B on server 2).
Users log in on A, their sockets open on B, messages are pushed on A.
  phase 1 (A: websockets.remote.delayDuration 0): latency from push to frame on B
          (p50, p90, p99, max), unloaded, with F pushes in flight, and paced at each
          offered rate (latency counted from the moment a push was due); messages/s.
  phase 2 (defaults: delay 1000, max 3000, tick 500 ms): a burst of B equal-key
          messages with D distinct strings -> broker publishes, frames on B, time;
          then the same burst over U users (one publish per user's coalesced entry).

  --quick                 small run: K=${QUICK.users}, M=${QUICK.messages}, B=${QUICK.burst}, D=${QUICK.distinct}, U=${QUICK.burstUsers}
  --users K               users, one login on A and one socket on B each (default ${DEFAULTS.users})
  --messages M            messages of the loaded run (default ${DEFAULTS.messages})
  --sequential S          messages of the unloaded run, one at a time (default ${DEFAULTS.sequential})
  --warmup W              unmeasured messages before phase 1, 0 for none (default ${DEFAULTS.warmup})
  --inflight F            push requests in flight (default ${DEFAULTS.inflight})
  --payload BYTES         message size (default ${DEFAULTS.payload})
  --burst B               messages of a coalescing burst (default ${DEFAULTS.burst})
  --distinct D            distinct strings in a burst (default ${DEFAULTS.distinct})
  --burst-users U         users of the spread burst (default ${DEFAULTS.burstUsers})
  --login-concurrency L   logins in flight (default ${DEFAULTS.loginConcurrency})
  --timeout S             seconds to wait for the frames of a run (default ${DEFAULTS.timeout})
  --brokers LIST          comma-separated, of ${BENCH_BROKERS.join(', ')} (default all; Mosquitto and NATS need
                          their binaries: apt-get install mosquitto nats-server)
  --rates LIST            offered rates of the paced runs, messages/s (default ${DEFAULTS.rates.join(',')})
  --rate-seconds S        length of each paced run (default ${DEFAULTS.rateSeconds})
  --paced-inflight P      push requests in flight at most in a paced run (default ${DEFAULTS.pacedInflight})
  -h, --help              this text

Environment: BENCH_WSMESH_ARGS="--websockets.history.size 0" appends wsmesh flags to both
nodes' command lines (before the bench's per-node flags, which win).
`;

const FLAGS: FlagSpec<CrossOptions, 'brokers' | 'rates'> = {
  defaults: DEFAULTS,
  quick: QUICK,
  integers: [
    ['users', 'users', 1],
    ['messages', 'messages', 1],
    ['sequential', 'sequential', 1],
    ['warmup', 'warmup', 0],
    ['inflight', 'inflight', 1],
    ['payload', 'payload', 48],
    ['burst', 'burst', 1],
    ['distinct', 'distinct', 1],
    ['burst-users', 'burstUsers', 1],
    ['login-concurrency', 'loginConcurrency', 1],
    ['timeout', 'timeout', 1],
    ['rate-seconds', 'rateSeconds', 1],
    ['paced-inflight', 'pacedInflight', 1],
  ],
  strings: ['brokers', 'rates'],
};

/** The options, or `undefined` when help was asked for. Throws `UsageError`. */
export function parseCrossOptions(argv: readonly string[]): CrossOptions | undefined {
  const parsed = parseFlags(argv, FLAGS);
  if (!parsed) return undefined;
  const { options, strings } = parsed;
  if (strings.brokers !== undefined) options.brokers = brokersFlag(strings.brokers);
  if (strings.rates !== undefined) options.rates = ratesFlag(strings.rates);
  if (options.distinct > options.burst) throw new UsageError(`--distinct (${options.distinct}) must not exceed --burst (${options.burst})`);
  if (options.burstUsers > options.users) throw new UsageError(`--burst-users (${options.burstUsers}) must not exceed --users (${options.users})`);
  if (options.burstUsers > options.distinct) throw new UsageError(`--burst-users (${options.burstUsers}) must not exceed --distinct (${options.distinct}): each user gets D/U distinct strings`);
  return options;
}

/** `--brokers a,b`: names from BENCH_BROKERS. Throws `UsageError`. */
export function brokersFlag(value: string): BenchBroker[] {
  const brokers = value.split(',').map((b) => b.trim());
  const unknown = brokers.filter((b) => !(BENCH_BROKERS as readonly string[]).includes(b));
  if (unknown.length || brokers.length === 0) throw new UsageError(`--brokers: unknown ${unknown.join(', ') || '(empty)'}; choose from ${BENCH_BROKERS.join(', ')}`);
  return brokers as BenchBroker[];
}

/** `--rates 1000,5000`: whole messages/s. Throws `UsageError`. */
export function ratesFlag(value: string): number[] {
  const rates = value.split(',').map((r) => Number(r.trim()));
  if (rates.some((r) => !Number.isInteger(r) || r < 1)) throw new UsageError(`--rates: "${value}" is not a comma-separated list of whole messages/s (e.g. 1000,5000)`);
  return rates;
}
