/**
 * The `wsmesh` dispatcher: `wsmesh <command> [args]`, commands from a table.
 *
 *   wsmesh help | --help | -h        list the commands (stdout, exit 0)
 *   wsmesh help <command>            a command's usage
 *   wsmesh <command> --help | -h     the same (unless the command takes raw args)
 *   wsmesh | wsmesh <unknown>        usage on stderr, exit 2
 */
import type { Command } from './command.ts';
import { COMMANDS } from './commands.ts';
import { ExitCode, type CliIo } from './io.ts';

const HELP = new Set(['help', '--help', '-h']);

/** Usage text listing `commands`. */
export function usage(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length), 'help'.length);
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  lines.push(`  ${'help'.padEnd(width)}  list the commands, or show one: wsmesh help <command>`);
  return `Usage: wsmesh <command> [args]\n\nCommands:\n${lines.join('\n')}\n`;
}

/**
 * Runs `argv` (the arguments after the program name). Resolves to the exit code, or
 * to `undefined` when the command keeps running (see `Command.run`).
 */
export async function runCli(argv: readonly string[], io: CliIo, commands: readonly Command[] = COMMANDS): Promise<number | undefined> {
  const [name, ...args] = argv;
  if (name === undefined) {
    io.stderr.write(usage(commands));
    return ExitCode.USAGE;
  }
  if (HELP.has(name)) return help(args[0], io, commands);
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`wsmesh: unknown command ${JSON.stringify(name)}\n\n${usage(commands)}`);
    return ExitCode.USAGE;
  }
  if (!command.rawArgs && args.some((a) => a === '--help' || a === '-h')) {
    io.stdout.write(`${command.usage}\n`);
    return ExitCode.OK;
  }
  return command.run(args, io);
}

function help(topic: string | undefined, io: CliIo, commands: readonly Command[]): number {
  if (topic === undefined) {
    io.stdout.write(usage(commands));
    return ExitCode.OK;
  }
  const command = commands.find((c) => c.name === topic);
  if (!command) {
    io.stderr.write(`wsmesh: unknown command ${JSON.stringify(topic)}\n\n${usage(commands)}`);
    return ExitCode.USAGE;
  }
  io.stdout.write(`${command.usage}\n`);
  return ExitCode.OK;
}
