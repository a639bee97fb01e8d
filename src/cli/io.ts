/**
 * The streams a CLI command talks to: the process's in production, in-memory
 * streams in tests.
 */
import type { Writable } from 'node:stream';

/** stdin as commands need it: `isTTY` and `setRawMode` exist only on a terminal. */
export type CliInput = NodeJS.ReadableStream & {
  isTTY?: boolean;
  setRawMode?: (mode: boolean) => unknown;
};

export interface CliIo {
  readonly stdin: CliInput;
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/** Exit codes shared by every command. */
export const ExitCode = {
  OK: 0,
  /** The command failed; for the admin commands, the node answered with an HTTP error. */
  FAILURE: 1,
  /** Wrong usage: unknown command, bad arguments, empty input, no admin token. */
  USAGE: 2,
  /** The admin commands could not reach a node (connection refused, unknown host, timeout). */
  UNREACHABLE: 3,
  /** Interrupted by the user (Ctrl-C), as shells report SIGINT (128 + 2). */
  INTERRUPTED: 130,
} as const;
