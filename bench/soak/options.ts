/**
 * Command-line options of the soak (`npm run soak`). Defaults are a steady, modest
 * mix sized for a 2-core machine shared with other work: the point is hours of the
 * same traffic, not a peak rate.
 */
import { parseFlags, UsageError, type FlagSpec } from '../lib/flags.ts';

export type SoakBroker = 'embedded' | 'mosquitto';

export interface SoakOptions {
  /** Length of the measured run (after the warm-up). */
  minutes: number;
  /** Seconds between samples. */
  interval: number;
  broker: SoakBroker;
  /** Where the CSV, the PNG, the summary and the node configs go. */
  out: string;
  /** Users in the directory; each client logs in as one of them. */
  users: number;
  /** Clients (a login and a socket each) kept open. */
  clients: number;
  /** Clients replaced per minute (a logout or a close, then a new login and socket). */
  churn: number;
  /** Pushes per second, spread over the users and both nodes. */
  rate: number;
  /** Seconds between reloads (a config file of each node, and the directory file). */
  reloadEvery: number;
  /** The heap check: fail when a node's heap grows more than this, in percent. */
  maxGrowth: number;
}

export const DEFAULTS: Omit<SoakOptions, 'broker'> = {
  minutes: 30,
  interval: 10,
  out: 'soak-out',
  users: 20,
  clients: 40,
  churn: 60,
  rate: 20,
  reloadEvery: 15,
  maxGrowth: 10,
};

export const QUICK: Partial<SoakOptions> = { minutes: 1, interval: 5 };

export function usage(defaultBroker: SoakBroker): string {
  return `Usage: npm run soak -- [--minutes N] [options]

Starts a broker and two wsmesh nodes (child processes, as npm start runs them) and
drives a steady mix for N minutes: logins and logouts, raw /ws and Socket.IO sockets
opened and closed, pushes over HTTP to users with sockets on both nodes, config and
directory reloads. Every --interval seconds it samples each node: heap after a full
GC (through the node's inspector), RSS, active handles and event-loop lag p99 (from
/metrics), and the driver's counts. Writes soak.csv, soak.png and summary.json to
--out. Exit status 1 when a node's heap grew more than --max-growth percent (median
of the 2nd quarter's samples against the 4th's), when a push that was meant for an
open socket did not arrive (or arrived twice), on any driver error, or when a node
exited.

  --quick              ${QUICK.minutes} minute, a sample every ${QUICK.interval} s
  --minutes N          length of the run after the warm-up (default ${DEFAULTS.minutes})
  --interval S         seconds between samples (default ${DEFAULTS.interval})
  --broker KIND        embedded | mosquitto (default here: ${defaultBroker}; mosquitto when installed)
  --out DIR            output directory (default ${DEFAULTS.out})
  --users K            users in the directory (default ${DEFAULTS.users})
  --clients C          clients kept open, each a login and a socket (default ${DEFAULTS.clients})
  --churn N            clients replaced per minute (default ${DEFAULTS.churn})
  --rate R             pushes per second (default ${DEFAULTS.rate})
  --reload-every S     seconds between config and directory reloads (default ${DEFAULTS.reloadEvery})
  --max-growth P       heap growth allowed, percent (default ${DEFAULTS.maxGrowth})
  -h, --help           this text
`;
}

const SPEC: FlagSpec<Omit<SoakOptions, 'broker' | 'out'>, 'broker' | 'out'> = {
  defaults: DEFAULTS,
  quick: QUICK,
  integers: [
    ['minutes', 'minutes', 1],
    ['interval', 'interval', 1],
    ['users', 'users', 1],
    ['clients', 'clients', 1],
    ['churn', 'churn', 0],
    ['rate', 'rate', 0],
    ['reload-every', 'reloadEvery', 1],
    ['max-growth', 'maxGrowth', 0],
  ],
  strings: ['broker', 'out'],
};

/** The options, or undefined after `--help`. Throws `UsageError`. */
export function parseOptions(argv: readonly string[], defaultBroker: SoakBroker): SoakOptions | undefined {
  const parsed = parseFlags(argv, SPEC);
  if (!parsed) return undefined;
  const broker = parsed.strings.broker ?? defaultBroker;
  if (broker !== 'embedded' && broker !== 'mosquitto') throw new UsageError(`--broker must be embedded or mosquitto, got ${JSON.stringify(broker)}`);
  const options: SoakOptions = { ...parsed.options, broker, out: parsed.strings.out ?? DEFAULTS.out };
  if (options.interval * 4 > options.minutes * 60) throw new UsageError(`--interval ${options.interval} leaves no sample in a quarter of ${options.minutes} minute(s)`);
  return options;
}
