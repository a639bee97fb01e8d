/**
 * An immutable, validated directory with O(1) lookups. A reload builds a new
 * `Directory` and swaps it in whole (see watcher.ts), so a lookup never sees half a
 * file.
 */
import { readFile } from 'node:fs/promises';
import { DirectoryError } from './directory-error.ts';
import type { Context, ContextSet, DirectoryData, LoginMatch, User } from './types.ts';
import { parseDirectoryText } from './validate.ts';

export { DirectoryError } from './directory-error.ts';

const NONE: readonly ContextSet[] = Object.freeze([]);

export class Directory {
  /** The file (or other source) this directory was read from; named in errors and logs. */
  readonly source: string;
  private readonly data: DirectoryData;
  private readonly contextsById = new Map<number, Context>();
  private readonly contextsByName = new Map<string, Context>();
  /** `${contextId}:${userId}` -> user */
  private readonly usersById = new Map<string, User>();
  /** `${contextId}:${login}` -> user */
  private readonly usersByLogin = new Map<string, User>();
  /** Bare login -> its user when the login exists in exactly one context, else `null` (ambiguous). */
  private readonly bareLogins = new Map<string, User | null>();
  /** Context id -> the sets it matches, in file order (computed once, here). */
  private readonly setsByContext = new Map<number, readonly ContextSet[]>();

  private constructor(data: DirectoryData, source: string) {
    this.data = data;
    this.source = source;
    for (const context of data.contexts) {
      this.contextsById.set(context.id, context);
      this.contextsByName.set(context.name, context);
      const tags = new Set(context.tags);
      const sets = data.contextSets.filter((set) => set.withTags.every((tag) => tags.has(tag)));
      this.setsByContext.set(context.id, sets.length ? Object.freeze(sets) : NONE);
    }
    for (const user of data.users) {
      this.usersById.set(`${user.context}:${user.id}`, user);
      this.usersByLogin.set(`${user.context}:${user.login}`, user);
      this.bareLogins.set(user.login, this.bareLogins.has(user.login) ? null : user);
    }
  }

  /**
   * Parses and validates a directory file's text. Throws `DirectoryError` naming
   * `source`, the JSON location (e.g. `users[2].context`) and what to fix.
   */
  static parse(text: string, source: string): Directory {
    return new Directory(parseDirectoryText(text, source), source);
  }

  /** A directory without contexts or users: every login fails. */
  static empty(source = '(empty)'): Directory {
    return new Directory({ contexts: [], contextSets: [], users: [] }, source);
  }

  context(id: number): Context | undefined {
    return this.contextsById.get(id);
  }

  contextByName(name: string): Context | undefined {
    return this.contextsByName.get(name);
  }

  user(contextId: number, userId: number): User | undefined {
    return this.usersById.get(`${contextId}:${userId}`);
  }

  /**
   * Finds a user by login, qualified or bare:
   * - `alice@demo`: the user `alice` of the context named `demo`. The context name is
   *   what follows the LAST `@`, so logins may themselves contain `@`
   *   (`alice@example.com@demo`);
   * - `alice`: only when exactly one context has a user with this login; when several
   *   do, the bare login is ambiguous and the answer is `undefined`;
   * - `alice@example.com` when no context is named `example.com`: looked up as a bare
   *   login (a login may be an e-mail address).
   * Disabled users and contexts are found too: refusing them is the caller's job.
   */
  findLogin(login: string): LoginMatch | undefined {
    const at = login.lastIndexOf('@');
    if (at > 0) {
      const context = this.contextsByName.get(login.slice(at + 1));
      if (context) {
        const user = this.usersByLogin.get(`${context.id}:${login.slice(0, at)}`);
        return user ? { user, context } : undefined;
      }
    }
    const user = this.bareLogins.get(login);
    return user ? { user, context: this.contextsById.get(user.context)! } : undefined;
  }

  /** The context sets whose `withTags` are all carried by `context`, in file order. */
  contextSetsOf(context: Context | number): readonly ContextSet[] {
    return this.setsByContext.get(typeof context === 'number' ? context : context.id) ?? NONE;
  }

  contexts(): readonly Context[] {
    return this.data.contexts;
  }

  contextSets(): readonly ContextSet[] {
    return this.data.contextSets;
  }

  users(): readonly User[] {
    return this.data.users;
  }
}

/**
 * Reads and parses a directory file. Every failure, including an unreadable file, is
 * a `DirectoryError` naming the file.
 */
export async function loadDirectory(file: string): Promise<Directory> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'the file does not exist; create it or fix directory.file' : `cannot be read (${code ?? String(err)})`;
    throw new DirectoryError(file, '', problem, { cause: err });
  }
  return Directory.parse(text, file);
}
