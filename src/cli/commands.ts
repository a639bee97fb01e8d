/**
 * The table of `wsmesh` subcommands, in the order `wsmesh help` lists them. A new
 * command (sockets, stats, push, trace, mqtt, statecharts) is one more entry here.
 */
import { brokerCommand } from './broker.ts';
import type { Command } from './command.ts';
import { HASH_PASSWORD_USAGE, runHashPassword } from './hash-password.ts';
import { ExitCode } from './io.ts';
import { mqttCommand } from './mqtt-publish.ts';
import { pushCommand } from './push.ts';
import { socketsCommand } from './sockets.ts';
import { startCommand } from './start.ts';
import { statechartsCommand } from './statecharts.ts';
import { statsCommand } from './stats.ts';
import { traceCommand } from './trace.ts';

const hashPasswordCommand: Command = {
  name: 'hash-password',
  summary: 'print the scrypt hash of a password read from stdin, for the directory file',
  usage: HASH_PASSWORD_USAGE,
  async run(args, io) {
    if (args.length > 0) {
      io.stderr.write('hash-password: takes no arguments; the password is read from stdin, so it stays out of shell history and ps\n');
      return ExitCode.USAGE;
    }
    return runHashPassword(io.stdin, io.stdout, io.stderr);
  },
};

export const COMMANDS: readonly Command[] = [
  startCommand,
  brokerCommand,
  hashPasswordCommand,
  // The admin API's commands (docs/cli.md).
  socketsCommand,
  statsCommand,
  pushCommand,
  traceCommand,
  // Through the broker, as a device does (docs/cli.md).
  mqttCommand,
  statechartsCommand,
];
