/**
 * A `wsmesh` subcommand. Commands are entries of the table in commands.ts; the
 * dispatcher (run.ts) finds one by name, handles `--help`, and runs it.
 */
import type { CliIo } from './io.ts';

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
