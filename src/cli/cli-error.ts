/**
 * A failure a command reports and exits with: the message says what to do next, the
 * exit code says what kind of failure it was (see `ExitCode`). Usage errors also
 * print the command's usage.
 */
import { ExitCode } from './io.ts';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** Print the command's usage after the message. */
    readonly showUsage = false,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Wrong arguments: the message, then the usage; exit 2. */
export function usageError(message: string): CliError {
  return new CliError(message, ExitCode.USAGE, true);
}
