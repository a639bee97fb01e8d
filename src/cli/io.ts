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
  FAILURE: 1,
  /** Wrong usage: unknown command, bad arguments, empty input. */
  USAGE: 2,
  /** Interrupted by the user (Ctrl-C), as shells report SIGINT (128 + 2). */
  INTERRUPTED: 130,
} as const;
