/**
 * Command-line options of the capacity benchmark (bench/capacity.ts).
 */
import { integer, parseFlags, UsageError, type FlagSpec } from './flags.ts';

export interface CapacityOptions {
  /** Sockets open at each memory reading, ascending; the last is where latency and the inspector are measured. */
  levels: number[];
  /** Users; socket j belongs to user j mod K (below K sockets, some users have none yet). */
  users: number;
  /** Paced pushes per second at the top level. */
  rate: number;
  /** Seconds of the paced run. */
  seconds: number;
  /** Pushes of each burst (without, with, without the inspector). */
  messages: number;
  /** Pushes in flight in a burst. */
  inflight: number;
  payload: number;
  concurrency: number;
  loginConcurrency: number;
}

export const DEFAULTS: CapacityOptions = {
  levels: [1000, 5000, 10_000, 19_000],
  // 5 sockets per user at 19k: 1k pushes/s are 5k frames/s (a user has a few tabs and devices, not 19).
  users: 3800,
  rate: 1000,
  seconds: 10,
  messages: 4000,
  inflight: 32,
  payload: 100,
  concurrency: 64,
  loginConcurrency: 4,
};

export const QUICK: Partial<CapacityOptions> = { levels: [200, 1000], users: 100, rate: 200, seconds: 3, messages: 500 };

export const USAGE = `Usage: npx tsx bench/capacity.ts [--quick] [options]

One wsmesh node at up to 19,000 sockets: memory per socket at each level, delivery
latency of paced pushes at the top level, and delivery throughput with the live
inspector's stream connected against without it.

  --quick                 small run: levels ${QUICK.levels!.join(',')}, ${QUICK.users} users, ${QUICK.rate}/s for ${QUICK.seconds} s
  --levels A,B,...        sockets open at each reading, ascending (default ${DEFAULTS.levels.join(',')})
  --users K               users, one login each (default ${DEFAULTS.users})
  --rate R                paced pushes per second (default ${DEFAULTS.rate})
  --seconds S             length of the paced run (default ${DEFAULTS.seconds})
  --messages M            pushes per burst (default ${DEFAULTS.messages})
  --inflight F            pushes in flight in a burst (default ${DEFAULTS.inflight})
  --payload BYTES         message size (default ${DEFAULTS.payload})
  --concurrency C         handshakes in flight (default ${DEFAULTS.concurrency})
  --login-concurrency L   logins in flight (default ${DEFAULTS.loginConcurrency})
  -h, --help              this text
`;

const FLAGS: FlagSpec<CapacityOptions, 'levels'> = {
  defaults: DEFAULTS,
  quick: QUICK,
  integers: [
    ['users', 'users', 1],
    ['rate', 'rate', 1],
    ['seconds', 'seconds', 1],
    ['messages', 'messages', 1],
    ['inflight', 'inflight', 1],
    ['payload', 'payload', 16],
    ['concurrency', 'concurrency', 1],
    ['login-concurrency', 'loginConcurrency', 1],
  ],
  strings: ['levels'],
};

export function parseCapacityOptions(argv: readonly string[]): CapacityOptions | undefined {
  const parsed = parseFlags(argv, FLAGS);
  if (!parsed) return undefined;
  const options = parsed.options;
  if (parsed.strings.levels !== undefined) options.levels = parsed.strings.levels.split(',').map((part) => integer('--levels', part.trim(), 1));
  if (options.levels.some((level, i) => i > 0 && level <= options.levels[i - 1])) throw new UsageError(`--levels must ascend, got ${options.levels.join(',')}`);
  if (options.users > options.levels.at(-1)!) throw new UsageError(`--users (${options.users}) must not exceed the last level (${options.levels.at(-1)}): every user needs a socket there`);
  return options;
}
