/**
 * A directory file that cannot be used: unreadable, not JSON, or failing validation.
 * The message names the file, the JSON location and what to fix, e.g.
 * `config/directory.json: users[2].context: no context has id 9; add it to "contexts" or fix the user's context`.
 * Never carries a password (hash or clear) in its message.
 */
export class DirectoryError extends Error {
  /** The file (or other source) the directory was read from. */
  readonly source: string;
  /** The JSON location, e.g. `users[2].context`; empty when the problem is the whole file. */
  readonly location: string;
  /** What is wrong and how to fix it, without the source and location. */
  readonly problem: string;

  constructor(source: string, location: string, problem: string, options?: { cause?: unknown }) {
    super(location ? `${source}: ${location}: ${problem}` : `${source}: ${problem}`, options);
    this.name = 'DirectoryError';
    this.source = source;
    this.location = location;
    this.problem = problem;
  }
}
