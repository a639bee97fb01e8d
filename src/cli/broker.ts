/**
 * `wsmesh broker [--host H] [--port P]`: the embedded MQTT broker alone, in the
 * foreground. A development cluster without Mosquitto: start one broker, then
 * every node with `--broker mqtt://H:P`. Tests use it as a broker process they
 * can kill and restart.
 */
import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { startEmbeddedBroker, type EmbeddedBroker } from '../cluster/embedded-broker.ts';
import { NO_ACCOUNTS, type Accounts } from '../mqtt/accounts.ts';
import { AccountsWatcher, loadAccounts } from '../mqtt/accounts-file.ts';
import { brokerPassword } from '../cluster/broker-link.ts';
import type { LogLevel } from '../config/types.ts';
import { KEYS } from '../config/schema.ts';
import { createLogger } from '../log/logger.ts';
import { parsedCommand, type Command } from './command.ts';
import { BROKER_ACL_USAGE, runBrokerAcl } from './broker-acl.ts';
import { ExitCode } from './io.ts';

/** The defaults of `cluster.embedded.*`, so `wsmesh broker` listens where a node's embedded broker would. */
const DEFAULTS = {
  host: String(KEYS.get('cluster.embedded.host')?.entry.default ?? '127.0.0.1'),
  port: Number(KEYS.get('cluster.embedded.port')?.entry.default ?? 1883),
  logLevel: 'info' as LogLevel,
};

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export const BROKER_USAGE = `Usage: wsmesh broker [--host H] [--port P] (--username U --password-file F | --allow-anonymous)
                     [--accounts-file F [--cluster-name N]] [--log-level L]

Runs the embedded MQTT broker (aedes, MQTT 3.1.1, in-memory persistence) alone in
the foreground, for a development cluster without Mosquitto: start nodes with
--broker mqtt://H:P. Prints "wsmesh broker listening on mqtt://H:P" on stdout once
it accepts connections; logs (JSON) go to stderr, client connects at debug.
Stops on SIGTERM or SIGINT (exit 0). Nothing survives a restart: retained messages
and queued QoS 1 messages live in memory only.

Every client must present U and the password (the first line of F): give the
nodes the same pair as cluster.username and cluster.passwordFile. Only with
--allow-anonymous may clients connect without one (a throwaway test broker).

  --host H             address to listen on (default ${DEFAULTS.host})
  --port P             TCP port, 0 for a free one (default ${DEFAULTS.port})
  --username U         the one account the broker accepts
  --password-file F    a file whose first line is that account's password
  --allow-anonymous    also accept clients without credentials
  --accounts-file F    also admit the devices, backends and nodes of this accounts
                       file (mqtt.accountsFile, docs/iot.md), each with its kind's
                       rights; reloaded when it changes
  --cluster-name N     the cluster.name those rights are under (default wsmesh);
                       given, the --username account gets a node's rights too
                       (otherwise it may do anything: one broker, many clusters)
  --log-level L        debug, info, warn or error (default ${DEFAULTS.logLevel})`;

interface BrokerArgs {
  accountsFile?: string;
  clusterName?: string;
  host: string;
  port: number;
  logLevel: LogLevel;
  username?: string;
  passwordFile?: string;
  allowAnonymous: boolean;
}

const runCommand = parsedCommand({
  name: 'broker',
  summary: 'run the embedded MQTT broker alone (a dev cluster without Mosquitto)',
  usage: BROKER_USAGE,
  parse: parseBrokerArgs,
  run: (parsed, io) => runBroker(parsed, io.stdout, io.stderr),
});

/** `wsmesh broker ...` runs the broker; `wsmesh broker acl ...` writes Mosquitto's and NATS's account files instead. */
export const brokerCommand: Command = {
  name: 'broker',
  summary: 'run the embedded MQTT broker alone (a dev cluster without Mosquitto); `broker acl` writes Mosquitto and NATS account files',
  usage: `${BROKER_USAGE}\n\n${BROKER_ACL_USAGE}`,
  run: (args, io) => (args[0] === 'acl' ? runBrokerAcl(args.slice(1), io) : runCommand.run(args, io)),
};

async function runBroker(args: BrokerArgs, stdout: Writable, stderr: Writable): Promise<number> {
  const log = createLogger(args.logLevel, (line) => stderr.write(line + '\n'));
  // Listen for the signals before announcing anything: a supervisor may signal as
  // soon as it reads the "listening" line, and Node's default for SIGINT is to die.
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const signalled = new Promise<NodeJS.Signals>((resolve) => (onSignal = resolve));
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  let watcher: AccountsWatcher | undefined;
  try {
    let broker: EmbeddedBroker;
    let accounts: Accounts = NO_ACCOUNTS;
    try {
      if (args.accountsFile) accounts = await loadAccounts(args.accountsFile);
      const account = args.username ? { username: args.username, password: brokerPassword({ password: '', passwordFile: args.passwordFile! }) } : undefined;
      broker = await startEmbeddedBroker(
        {
          host: args.host,
          port: args.port,
          allowAnonymous: args.allowAnonymous,
          account,
          guard: { root: args.clusterName ?? 'wsmesh', restrictNodePair: args.clusterName !== undefined, accounts: () => accounts },
        },
        log,
      );
    } catch (err) {
      stderr.write(`broker: ${err instanceof Error ? err.message : String(err)}\n`);
      return ExitCode.FAILURE;
    }
    watcher = args.accountsFile ? new AccountsWatcher(args.accountsFile, { logger: log }) : undefined;
    watcher?.on('reload', (next) => {
      accounts = next;
      log.info('accounts.reloaded', { source: next.source, accounts: next.byId.size, clientsEnded: broker.accountsChanged() });
    });
    watcher?.on('error', (error) => log.error('accounts.reload_failed', { error, advice: 'the previous accounts stay in force; fix the file' }));
    watcher?.start();
    stdout.write(`wsmesh broker listening on ${broker.url}\n`);
    log.info('broker.signal', { signal: await signalled });
    await broker.close();
    // Asked to stop, and stopped: a clean exit for either signal.
    return ExitCode.OK;
  } finally {
    watcher?.stop();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

/** The parsed arguments, or the reason they are wrong. Accepts `--flag value` and `--flag=value`. */
export function parseBrokerArgs(args: readonly string[]): BrokerArgs | string {
  const out: BrokerArgs = { ...DEFAULTS, allowAnonymous: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    if (flag === '--allow-anonymous' && inline === undefined) {
      out.allowAnonymous = true;
      continue;
    }
    if (!['--host', '--port', '--log-level', '--username', '--password-file', '--accounts-file', '--cluster-name'].includes(flag)) return `unknown argument ${JSON.stringify(arg)}`;
    const value = inline ?? args[++i];
    if (value === undefined || value === '') return `${flag} needs a value`;
    if (flag === '--username') out.username = value;
    else if (flag === '--accounts-file') out.accountsFile = value;
    else if (flag === '--cluster-name') {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(value)) return `--cluster-name must be 1 to 64 letters, digits, '_' or '-' (a cluster.name): ${JSON.stringify(value)}`;
      out.clusterName = value;
    }
    else if (flag === '--password-file') {
      try {
        readFileSync(value, 'utf8');
      } catch (err) {
        return `--password-file ${JSON.stringify(value)} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
      }
      out.passwordFile = value;
    } else if (flag === '--host') {
      if (/\s/.test(value)) return `--host must be a host name or IP address: ${JSON.stringify(value)}`;
      out.host = value;
    } else if (flag === '--port') {
      const port = Number(value);
      if (!/^[0-9]+$/.test(value) || port > 65535) return `--port must be a TCP port (0 to 65535): ${JSON.stringify(value)}`;
      out.port = port;
    } else {
      if (!LOG_LEVELS.includes(value as LogLevel)) return `--log-level must be one of ${LOG_LEVELS.join(', ')}: ${JSON.stringify(value)}`;
      out.logLevel = value as LogLevel;
    }
  }
  if ((out.username === undefined) !== (out.passwordFile === undefined)) return '--username and --password-file go together';
  if (out.username === undefined && !out.allowAnonymous) return 'give the account every client must present (--username U --password-file F), or --allow-anonymous for a throwaway broker';
  return out;
}
