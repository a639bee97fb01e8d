/**
 * `wsmesh mqtt publish`: one message to a user's sockets the way a device sends it,
 * through the broker: a PUBLISH to `<cluster>/ingress/<context>/<user>[/<path>]` with
 * the device's account. For trying a device account, its grants and the ingress from
 * a shell. `wsmesh mqtt` is a command group, like `sockets`; `publish` is its one
 * subcommand so far.
 *
 * The password is never a flag (arguments land in shell history and in `ps`): it comes
 * from WSMESH_MQTT_PASSWORD or the first line of `--password-file F`, and no message
 * prints it.
 */
import { readFileSync } from 'node:fs';
import { Topics } from '../cluster/topics.ts';
import { KEYS } from '../config/schema.ts';
import { compilePathFilter } from '../delivery/path-filter.ts';
import { synopsis } from './admin-command.ts';
import { CliError, usageError } from './cli-error.ts';
import type { Command } from './command.ts';
import { parseFlags, type FlagSpec } from './flags.ts';
import { ExitCode, type CliIo } from './io.ts';
import { publishOnce, type PublishFailure, type PublishOnceRequest } from './mqtt-publish-once.ts';
import { plural } from './table.ts';

/** Where a node's embedded broker listens, and the nodes' default cluster.name; timeouts a device would use. */
export const DEFAULTS = {
  broker: `mqtt://${String(KEYS.get('cluster.embedded.host')?.entry.default ?? '127.0.0.1')}:${Number(KEYS.get('cluster.embedded.port')?.entry.default ?? 1883)}`,
  clusterName: String(KEYS.get('cluster.name')?.entry.default ?? 'wsmesh'),
  connectTimeoutMs: 5000,
  ackTimeoutMs: 5000,
};

export type MqttPublishTimeouts = Pick<typeof DEFAULTS, 'connectTimeoutMs' | 'ackTimeoutMs'>;

export const MQTT_PUBLISH_USAGE = `Usage: wsmesh mqtt publish --context N --user N --message TEXT [--path FILTER] [--qos 0|1] [--broker URL] [--username ID] [--password-file F] [--cluster-name NAME]

Publishes one message to a user's sockets through the MQTT broker, as a device does:
to <cluster-name>/ingress/<context>/<user>, followed by the segments of --path
(/ws/mail: .../3/ws/mail, /ws/mail/*: .../3/ws/mail/*, *: .../3/*), the topics the
nodes take device messages from (docs/cluster.md, "Topics"). Prints the topic once
the broker has acknowledged the message (QoS 1) or taken it (QoS 0).

  --context N           the user's context (required)
  --user N              the user (required)
  --message TEXT        the message (required): the payload, as UTF-8 text
  --path FILTER         only sockets whose path matches: /ws/mail exactly,
                        /ws/mail/* the path and below, * every socket with a path
  --qos 0|1             1 waits for the broker's acknowledgement, 0 does not (default 1)
  --broker URL          mqtt://, mqtts://, ws:// or wss://host:port (default ${DEFAULTS.broker})
  --cluster-name NAME   the nodes' cluster.name, the topics' first level (default ${DEFAULTS.clusterName})

Credentials: an account of the broker accounts file (its id and password):
  --username ID         the MQTT user name (default: $WSMESH_MQTT_USERNAME)
  --password-file F     read the password from the first line of F (default:
                        $WSMESH_MQTT_PASSWORD); there is no --password flag, so the
                        password stays out of shell history and ps
Without a user name the client connects anonymously. Flags win over the environment.

Exit codes: 0 published, 1 the broker could not be reached, refused the account or
the message, or did not acknowledge it; 2 usage error.`;

export const MQTT_USAGE = `Usage: wsmesh mqtt publish --context N --user N --message TEXT [--path FILTER] [--qos 0|1] [--broker URL]

Talks to the cluster's MQTT broker as a device does. For the flags:
wsmesh mqtt publish --help.`;

const FLAGS: FlagSpec = {
  '--context': 'value',
  '--user': 'value',
  '--message': 'value',
  '--path': 'value',
  '--qos': 'value',
  '--broker': 'value',
  '--username': 'value',
  '--password-file': 'value',
  '--cluster-name': 'value',
};

const BROKER_SCHEMES = ['mqtt:', 'mqtts:', 'ws:', 'wss:'];
const CREDENTIALS_HINT = 'check --username and the password (WSMESH_MQTT_PASSWORD or --password-file)';

/** A publish, checked and ready to send. */
export type PublishPlan = Omit<PublishOnceRequest, keyof MqttPublishTimeouts>;

export const mqttCommand: Command = {
  name: 'mqtt',
  summary: "publish to a user's sockets through the broker, as a device does",
  usage: MQTT_USAGE,
  rawArgs: true,
  async run(args, io) {
    const [name, ...rest] = args;
    if (name === '--help' || name === '-h' || name === 'help') {
      io.stdout.write(`${rest[0] === 'publish' ? MQTT_PUBLISH_USAGE : MQTT_USAGE}\n`);
      return ExitCode.OK;
    }
    if (name !== 'publish') {
      const what = name === undefined ? 'a subcommand is required' : `unknown subcommand ${JSON.stringify(name)}`;
      io.stderr.write(`wsmesh mqtt: ${what}\n\n${MQTT_USAGE}\n`);
      return ExitCode.USAGE;
    }
    if (rest.some((a) => a === '--help' || a === '-h')) {
      io.stdout.write(`${MQTT_PUBLISH_USAGE}\n`);
      return ExitCode.OK;
    }
    return runMqttPublish(rest, io);
  },
};

/** `wsmesh mqtt publish` with the arguments after `publish`; resolves to the exit code. */
export async function runMqttPublish(args: readonly string[], io: CliIo, env: NodeJS.ProcessEnv = process.env, timeouts: MqttPublishTimeouts = DEFAULTS): Promise<number> {
  try {
    const plan = planPublish(args, env);
    const failure = await publishOnce({ ...plan, ...timeouts });
    if (failure) throw new CliError(describeFailure(failure, plan, timeouts), ExitCode.FAILURE);
    io.stdout.write(`published to ${plan.topic} (qos ${plan.qos}, ${plural(Buffer.byteLength(plan.payload), 'byte')})\n`);
    return ExitCode.OK;
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    const usage = err.showUsage ? `\n${synopsis(MQTT_PUBLISH_USAGE)}\nwsmesh mqtt publish --help shows every flag.\n` : '';
    io.stderr.write(`wsmesh mqtt publish: ${err.message}\n${usage}`);
    return err.exitCode;
  }
}

/** Checks the arguments and the environment; throws a `CliError` (exit 2) for anything wrong, before any connection. */
export function planPublish(args: readonly string[], env: NodeJS.ProcessEnv): PublishPlan {
  if (args.some((arg) => arg === '--password' || arg.startsWith('--password='))) {
    throw usageError('there is no --password flag, so the password stays out of shell history and ps: set WSMESH_MQTT_PASSWORD or use --password-file F');
  }
  const flags = parseFlags(args, FLAGS);
  const contextId = flags.requiredPositiveInt('--context');
  const userId = flags.requiredPositiveInt('--user');
  const payload = flags.requiredString('--message');
  const topic = ingressTopic(flags.string('--cluster-name') ?? DEFAULTS.clusterName, contextId, userId, flags.string('--path'));
  const qos = parseQos(flags.string('--qos'));
  const url = brokerUrl(flags.string('--broker') ?? DEFAULTS.broker);
  const username = flags.string('--username') ?? (env.WSMESH_MQTT_USERNAME || undefined);
  const passwordFile = flags.string('--password-file');
  const password = passwordFile !== undefined ? readPassword(passwordFile) : env.WSMESH_MQTT_PASSWORD || undefined;
  if (password !== undefined && username === undefined) {
    throw usageError('a password without a user name: give the account id with --username or WSMESH_MQTT_USERNAME');
  }
  return { url, topic, payload, qos, username, password };
}

/**
 * The topic a device publishes to: `<cluster>/ingress/<context>/<user>`, then the path
 * filter's segments, which the nodes read back with parseIngressTopic (src/mqtt). `*`
 * and `/*` (every socket with a path) are both the one segment `*`.
 */
export function ingressTopic(clusterName: string, contextId: number, userId: number, path?: string): string {
  let base: string;
  try {
    base = new Topics(clusterName).ingress(contextId, userId);
  } catch {
    throw usageError(`--cluster-name must be the nodes' cluster.name, 1 to 64 letters, digits, "_" or "-": ${JSON.stringify(clusterName)}`);
  }
  if (path === undefined) return base;
  try {
    compilePathFilter(path);
  } catch (err) {
    throw usageError(`--path: ${(err as Error).message}`);
  }
  return `${base}/${path === '*' ? '*' : path.slice(1)}`;
}

function parseQos(value: string | undefined): 0 | 1 {
  if (value === undefined || value === '1') return 1;
  if (value === '0') return 0;
  throw usageError(`--qos must be 0 or 1: ${JSON.stringify(value)}`);
}

function brokerUrl(raw: string): string {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || !BROKER_SCHEMES.includes(url.protocol) || !url.hostname) {
    throw usageError(`--broker must be a broker URL like ${DEFAULTS.broker} (mqtt, mqtts, ws or wss): ${JSON.stringify(raw)}`);
  }
  // Credentials in the URL would be in shell history and ps, and printed in messages.
  if (url.username || url.password) {
    throw usageError('--broker must not hold credentials: give the user name with --username and the password in WSMESH_MQTT_PASSWORD or --password-file');
  }
  return raw;
}

function readPassword(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read the password file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, ExitCode.USAGE);
  }
  // The first line, as the nodes read cluster.passwordFile (broker-link.ts): spaces are kept.
  const password = text.split(/\r?\n/)[0];
  if (password === '') throw new CliError(`the password file ${file} has an empty first line: write the account's password there`, ExitCode.USAGE);
  return password;
}

/** What went wrong, and what to do about it; never the password. */
export function describeFailure(failure: PublishFailure, plan: PublishPlan, timeouts: MqttPublishTimeouts): string {
  const at = `the broker at ${plan.url}`;
  switch (failure.kind) {
    case 'unreachable':
      if (failure.code === 'ENOTFOUND' || failure.code === 'EAI_AGAIN') return `cannot reach ${at}: unknown host (${failure.code}): check --broker`;
      return `cannot reach ${at} (${failure.code}): is it running? pass --broker mqtt://host:port`;
    case 'refused':
      return refusal(failure.returnCode, plan);
    case 'timeout':
      return failure.stage === 'connect'
        ? `no answer from ${at} within ${seconds(timeouts.connectTimeoutMs)}: is it an MQTT broker, and running? pass --broker mqtt://host:port`
        : `${at} did not acknowledge the message within ${seconds(timeouts.ackTimeoutMs)}; it may or may not have been delivered`;
    case 'closed':
      return failure.stage === 'connect'
        ? `${at} closed the connection before accepting it: is it an MQTT 3.1.1 broker? check --broker`
        : `${at} closed the connection instead of acknowledging the message: the account may not publish to ${plan.topic} ` +
            "(a device only to its own context and users: check --context, --user and the account's rights on the broker)";
    case 'error':
      return failure.stage === 'connect' ? `cannot connect to ${at}: ${failure.message}` : `the publish to ${plan.topic} failed: ${failure.message}`;
  }
}

/** CONNACK return codes, MQTT 3.1.1 section 3.2.2.3. */
function refusal(returnCode: number, plan: PublishPlan): string {
  if (returnCode === 4 || returnCode === 5) {
    if (plan.username === undefined) return 'the broker wants a user name and password: set WSMESH_MQTT_USERNAME and WSMESH_MQTT_PASSWORD, or pass --username and --password-file';
    if (plan.password === undefined) return `the broker refused the user name ${JSON.stringify(plan.username)} without a password: set WSMESH_MQTT_PASSWORD or pass --password-file`;
    const what = returnCode === 4 ? 'the user name or password' : `the account ${JSON.stringify(plan.username)} (not authorized)`;
    return `the broker refused ${what}: ${CREDENTIALS_HINT}`;
  }
  if (returnCode === 1) return 'the broker refused MQTT 3.1.1 (return code 1): point --broker at a broker that speaks it';
  if (returnCode === 3) return 'the broker is unavailable (return code 3): try again later';
  return `the broker refused the connection (return code ${returnCode})`;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
