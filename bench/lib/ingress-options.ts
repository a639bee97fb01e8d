/**
 * Command-line options of the MQTT ingress benchmark (bench/ingress.ts).
 */
import { BENCH_BROKERS, brokersFlag, ratesFlag, type BenchBroker } from './cross-options.ts';
import { parseFlags, UsageError, type FlagSpec } from './flags.ts';

export interface IngressOptions {
  /** K users, each with one socket on A and one on B. */
  users: number;
  /** D simulated devices, one MQTT connection each (and, on the HTTP path, one sender each). */
  devices: number;
  /** Users each device sends to, in turn: device d's are users d*U .. d*U+U-1 (mod K). */
  usersPerDevice: number;
  /** Offered rates of the paced runs, messages/s over all devices. */
  rates: number[];
  /** Seconds of each paced run. */
  rateSeconds: number;
  /** Sends in flight at most in a paced run, over all devices (a send due while all are busy waits, and its wait counts). */
  pacedInflight: number;
  /** QoS of the paced runs' publishes (the all-out run is QoS 1). */
  pacedQos: number;
  /** Messages per device in the all-out run, each sent once the previous one was acknowledged. */
  messages: number;
  /** Unmeasured messages through each path before the first run, 0 for none. */
  warmup: number;
  payload: number;
  loginConcurrency: number;
  /** Seconds to wait for the frames of a run after its last send. */
  timeout: number;
  brokers: BenchBroker[];
}

export const DEFAULTS: IngressOptions = {
  users: 100,
  devices: 100,
  usersPerDevice: 3,
  rates: [1000, 5000],
  rateSeconds: 5,
  pacedInflight: 100,
  pacedQos: 1,
  messages: 100,
  warmup: 1000,
  payload: 100,
  loginConcurrency: 4,
  timeout: 30,
  brokers: ['embedded', 'mosquitto'],
};

export const QUICK: Partial<IngressOptions> = { users: 20, devices: 20, rates: [500, 1000], rateSeconds: 1, messages: 20, warmup: 200 };

export const USAGE = `Usage: npx tsx bench/ingress.ts [--quick] [options]

MQTT ingress against the HTTP push path, on two wsmesh nodes (child processes) and
each broker in turn. K users log in on A and open one socket on A and one on B.
D simulated devices (mqtt.js clients, all on the example's shared device account
device-1) publish to <cluster.name>/ingress/1/<user>; each device sends to U users
in turn. The baseline, in the same run: the same messages as POST /api/push (the
admin token; device d's go to A when d is even, to B when odd). Both nodes run
with websockets.remote.delayDuration 0, so a push to the other node is not held
back for coalescing. Every message must arrive exactly once on each of its user's
two sockets.
  paced:   each rate for S s (latency counted from the moment a message was due)
  all-out: each device sends N messages, QoS 1, each after the previous one's
           PUBACK (HTTP: after the previous push's 202): messages/s

  --quick                 small run: K=${QUICK.users}, D=${QUICK.devices}, rates ${QUICK.rates!.join(',')} for ${QUICK.rateSeconds} s, N=${QUICK.messages}
  --users K               users, one socket on A and one on B each (default ${DEFAULTS.users})
  --devices D             simulated devices, one MQTT connection each (default ${DEFAULTS.devices})
  --users-per-device U    users each device sends to, in turn (default ${DEFAULTS.usersPerDevice})
  --rates LIST            offered rates of the paced runs, messages/s over all devices (default ${DEFAULTS.rates.join(',')})
  --rate-seconds S        length of each paced run (default ${DEFAULTS.rateSeconds})
  --paced-inflight P      sends in flight at most in a paced run, over all devices (default ${DEFAULTS.pacedInflight})
  --paced-qos Q           QoS of the paced publishes, 0 or 1 (default ${DEFAULTS.pacedQos})
  --messages N            messages per device in the all-out run (default ${DEFAULTS.messages})
  --warmup W              unmeasured messages through each path first, 0 for none (default ${DEFAULTS.warmup})
  --payload BYTES         message size (default ${DEFAULTS.payload})
  --login-concurrency L   logins in flight (default ${DEFAULTS.loginConcurrency})
  --timeout S             seconds to wait for a run's frames after its last send (default ${DEFAULTS.timeout})
  --brokers LIST          comma-separated, of ${BENCH_BROKERS.join(', ')} (default ${DEFAULTS.brokers.join(',')}; Mosquitto and
                          NATS need their binaries: apt-get install mosquitto nats-server)
  -h, --help              this text
`;

const FLAGS: FlagSpec<IngressOptions, 'brokers' | 'rates'> = {
  defaults: DEFAULTS,
  quick: QUICK,
  integers: [
    ['users', 'users', 1],
    ['devices', 'devices', 1],
    ['users-per-device', 'usersPerDevice', 1],
    ['rate-seconds', 'rateSeconds', 1],
    ['paced-inflight', 'pacedInflight', 1],
    ['paced-qos', 'pacedQos', 0],
    ['messages', 'messages', 1],
    ['warmup', 'warmup', 0],
    ['payload', 'payload', 48],
    ['login-concurrency', 'loginConcurrency', 1],
    ['timeout', 'timeout', 1],
  ],
  strings: ['brokers', 'rates'],
};

/** The options, or `undefined` when help was asked for. Throws `UsageError`. */
export function parseIngressOptions(argv: readonly string[]): IngressOptions | undefined {
  const parsed = parseFlags(argv, FLAGS);
  if (!parsed) return undefined;
  const { options, strings } = parsed;
  if (strings.brokers !== undefined) options.brokers = brokersFlag(strings.brokers);
  if (strings.rates !== undefined) options.rates = ratesFlag(strings.rates);
  if (options.pacedQos > 1) throw new UsageError(`--paced-qos must be 0 or 1, got ${options.pacedQos} (wsmesh's ingress takes QoS 0 and 1)`);
  if (options.usersPerDevice > options.users) throw new UsageError(`--users-per-device (${options.usersPerDevice}) must not exceed --users (${options.users})`);
  return options;
}
