/**
 * The directory: who may log in (users, grouped in contexts, i.e. tenants) and the
 * per-user / per-context / per-context-set configuration of the cascade.
 *
 * The file format (JSON), with the defaults of the optional fields:
 *
 * ```json
 * {
 *   "contexts":    [{"id": 1, "name": "demo", "tags": [], "enabled": true, "config": {}}],
 *   "contextSets": [{"name": "eu", "withTags": ["eu"], "config": {}}],
 *   "users":       [{"id": 3, "context": 1, "login": "alice", "password": "scrypt$...",
 *                    "enabled": true, "config": {}}]
 * }
 * ```
 *
 * Required: `contexts[].id`, `contexts[].name`, `contextSets[].name`,
 * `contextSets[].withTags`, `users[].id`, `users[].context`, `users[].login`,
 * `users[].password` (a hash from `wsmesh hash-password`, never a clear password).
 * Each top-level array may be omitted (empty). Unknown properties are refused, so a
 * typo (`"enabeld"`) is reported rather than ignored.
 */
import type { ConfigRecord } from './cascade.ts';

export type { ConfigRecord } from './cascade.ts';

export interface Context {
  /** Positive integer, unique in the directory. */
  readonly id: number;
  /** Unique in the directory; the part after `@` in a qualified login. No `@` allowed. */
  readonly name: string;
  /** Context sets select contexts by these tags. */
  readonly tags: readonly string[];
  readonly enabled: boolean;
  readonly config: ConfigRecord;
}

export interface ContextSet {
  /** Unique in the directory; shown in logs and traces. */
  readonly name: string;
  /** A context matches this set when it carries every one of these tags (none: every context). */
  readonly withTags: readonly string[];
  readonly config: ConfigRecord;
}

export interface User {
  /** Positive integer, unique within its context (the same id may exist in another context). */
  readonly id: number;
  /** The id of the user's context. */
  readonly context: number;
  /** Unique within its context; compared exactly (case-sensitive). */
  readonly login: string;
  /** A scrypt hash (see password.ts). A secret: never log it, never list it. */
  readonly password: string;
  readonly enabled: boolean;
  readonly config: ConfigRecord;
}

/** What `Directory.findLogin` answers: the user and the context they belong to. */
export interface LoginMatch {
  readonly user: User;
  readonly context: Context;
}

/** The validated content of a directory file. */
export interface DirectoryData {
  readonly contexts: readonly Context[];
  readonly contextSets: readonly ContextSet[];
  readonly users: readonly User[];
}
