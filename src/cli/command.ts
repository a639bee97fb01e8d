/**
 * A `wsmesh` subcommand. Commands are entries of the table in commands.ts; the
 * dispatcher (run.ts) finds one by name, handles `--help`, and runs it.
 */
import { ExitCode, type CliIo } from './io.ts';

export interface Command {
  /** What is typed after `wsmesh`. */
  readonly name: string;
  /** One line, shown in `wsmesh help`. */
  readonly summary: string;
  /** Shown by `wsmesh help <name>` and `wsmesh <name> --help`. */
  readonly usage: string;
  /**
   * The arguments go to the command untouched, `--help` included (for commands that
   * hand them on, like `start` to the node's boot).
   */
  readonly rawArgs?: boolean;
  /**
   * Runs the command with the arguments after its name. Resolves to the exit code,
   * or to `undefined` for a command that keeps the process running (`start`): the
   * dispatcher then leaves `process.exitCode` alone.
   */
  run(args: readonly string[], io: CliIo): Promise<number | undefined>;
}

/** A command that parses its arguments itself, before doing anything (see `parsedCommand`). */
export interface ParsedCommandSpec<T> {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  /** The parsed arguments, or the reason they are wrong. */
  parse(args: readonly string[]): T | string;
  run(parsed: T, io: CliIo): Promise<number>;
}

/** A `Command` that answers wrong arguments with the reason and its usage on stderr, exit 2, and runs otherwise. */
export function parsedCommand<T>(spec: ParsedCommandSpec<T>): Command {
  return {
    name: spec.name,
    summary: spec.summary,
    usage: spec.usage,
    async run(args, io) {
      const parsed = spec.parse(args);
      if (typeof parsed === 'string') {
        io.stderr.write(`${spec.name}: ${parsed}\n\n${spec.usage}\n`);
        return ExitCode.USAGE;
      }
      return spec.run(parsed, io);
    },
  };
}
