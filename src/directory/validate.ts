/**
 * Strict validation of a directory file (format in types.ts). Pure: text in,
 * `DirectoryData` out, or a `DirectoryError` naming the first problem, its JSON
 * location and what to fix. Contexts are checked before users whatever the key order
 * in the file, so a user's `context` can be checked against them.
 */
import { DirectoryError } from './directory-error.ts';
import { isPasswordHash } from './password.ts';
import { findJsonSyntaxError } from '../json/syntax-error.ts';
import { settingSpec } from './settings.ts';
import type { ConfigRecord, Context, ContextSet, DirectoryData, User } from './types.ts';

type Json = Record<string, unknown>;

const ROOT_KEYS = ['contexts', 'contextSets', 'users'] as const;
const CONTEXT_KEYS = ['id', 'name', 'tags', 'enabled', 'config'] as const;
const CONTEXT_SET_KEYS = ['name', 'withTags', 'config'] as const;
const USER_KEYS = ['id', 'context', 'login', 'password', 'enabled', 'config'] as const;
const HASH_HINT = 'store the output of "npm run wsmesh -- hash-password", never a clear password';

/** Parses and validates a directory file's text; `source` names the file in errors. */
export function parseDirectoryText(text: string, source: string): DirectoryData {
  let json: unknown;
  try {
    // Some editors save a byte order mark, which JSON.parse refuses.
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    // Not JSON.parse's message, nor the error as `cause`: V8 quotes the text around an
    // unexpected token, which in this file can be a clear password typed by mistake.
    throw new DirectoryError(source, '', `is not valid JSON: ${jsonProblem(text)}`);
  }
  return new Validator(source).directory(json);
}

class Validator {
  constructor(private readonly source: string) {}

  directory(json: unknown): DirectoryData {
    const root = this.object(json, '', ROOT_KEYS, 'the directory must be a JSON object with "contexts", "contextSets" and "users"');
    const contexts = this.array(root, 'contexts', '').map((c, i) => this.context(c, `contexts[${i}]`));
    const contextSets = this.array(root, 'contextSets', '').map((s, i) => this.contextSet(s, `contextSets[${i}]`));
    this.unique(contexts, (c) => c.id, 'contexts', 'id', (c) => `context id ${c.id}`, 'give each context its own id');
    this.unique(contexts, (c) => c.name, 'contexts', 'name', (c) => `context name ${JSON.stringify(c.name)}`, 'give each context its own name');
    this.unique(contextSets, (s) => s.name, 'contextSets', 'name', (s) => `context set name ${JSON.stringify(s.name)}`, 'give each context set its own name');
    const contextIds = new Set(contexts.map((c) => c.id));
    const users = this.array(root, 'users', '').map((u, i) => this.user(u, `users[${i}]`, contextIds));
    this.unique(users, (u) => `${u.context}:${u.id}`, 'users', 'id', (u) => `user id ${u.id} in context ${u.context}`, 'give each user of a context its own id');
    this.unique(users, (u) => `${u.context}:${u.login}`, 'users', 'login', (u) => `login ${JSON.stringify(u.login)} in context ${u.context}`, 'give each user of a context its own login');
    return { contexts, contextSets, users };
  }

  private context(value: unknown, loc: string): Context {
    const o = this.object(value, loc, CONTEXT_KEYS, 'a context must be an object like {"id": 1, "name": "demo"}');
    const name = this.string(o, 'name', loc);
    if (name.includes('@')) this.fail(`${loc}.name`, `${describe(name)} contains "@", which separates login and context in "login@context"; rename the context`);
    return {
      id: this.positiveInteger(o, 'id', loc),
      name,
      tags: this.strings(o, 'tags', loc, false),
      enabled: this.boolean(o, 'enabled', loc),
      config: this.config(o, loc),
    };
  }

  private contextSet(value: unknown, loc: string): ContextSet {
    const o = this.object(value, loc, CONTEXT_SET_KEYS, 'a context set must be an object like {"name": "eu", "withTags": ["eu"]}');
    return { name: this.string(o, 'name', loc), withTags: this.strings(o, 'withTags', loc, true), config: this.config(o, loc) };
  }

  private user(value: unknown, loc: string, contextIds: ReadonlySet<number>): User {
    const o = this.object(value, loc, USER_KEYS, 'a user must be an object like {"id": 3, "context": 1, "login": "alice", "password": "scrypt$..."}');
    const id = this.positiveInteger(o, 'id', loc);
    const context = this.positiveInteger(o, 'context', loc);
    if (!contextIds.has(context)) this.fail(`${loc}.context`, `no context has id ${context}; add it to "contexts" or fix the user's context`);
    const login = this.string(o, 'login', loc);
    if (login.trim() !== login) this.fail(`${loc}.login`, `${describe(login)} starts or ends with whitespace; remove it`);
    if (!Object.hasOwn(o, 'password')) this.fail(`${loc}.password`, `is required; ${HASH_HINT}`);
    // The value is never quoted: it may be a clear password someone pasted by mistake.
    if (!isPasswordHash(o.password)) this.fail(`${loc}.password`, `is not a scrypt hash ("scrypt$N$r$p$salt$hash"); ${HASH_HINT}`);
    return { id, context, login, password: o.password as string, enabled: this.boolean(o, 'enabled', loc), config: this.config(o, loc) };
  }

  /** `config`: optional object; settings wsmesh knows must have their type. */
  private config(o: Json, loc: string): ConfigRecord {
    if (o.config === undefined) return Object.freeze({});
    const config = this.object(o.config, `${loc}.config`, undefined, 'config must be an object of settings, e.g. {"websockets.enabled": true}');
    for (const [key, value] of Object.entries(config)) {
      const spec = settingSpec(key);
      if (spec && typeof value !== spec.type) {
        this.fail(`${loc}.config[${JSON.stringify(key)}]`, `must be a ${spec.type}, got ${describe(value)}; ${spec.doc}`);
      }
    }
    return Object.freeze({ ...config });
  }

  private object(value: unknown, loc: string, allowed: readonly string[] | undefined, expected: string): Json {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(loc, `${expected}, got ${describe(value)}`);
    const o = value as Json;
    if (allowed) {
      for (const key of Object.keys(o)) {
        if (!allowed.includes(key)) {
          this.fail(join(loc, key), `unknown property; expected one of ${allowed.map((k) => JSON.stringify(k)).join(', ')} (check the spelling)`);
        }
      }
    }
    return o;
  }

  private array(o: Json, key: string, loc: string): unknown[] {
    const value = o[key];
    if (value === undefined) return [];
    if (!Array.isArray(value)) this.fail(join(loc, key), `must be an array, got ${describe(value)}`);
    return value as unknown[];
  }

  private positiveInteger(o: Json, key: string, loc: string): number {
    const value = o[key];
    if (value === undefined) this.fail(join(loc, key), 'is required (a positive integer)');
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      this.fail(join(loc, key), `must be a positive integer, got ${describe(value)}`);
    }
    return value as number;
  }

  private string(o: Json, key: string, loc: string): string {
    const value = o[key];
    if (value === undefined) this.fail(join(loc, key), 'is required (a non-empty string)');
    if (typeof value !== 'string' || value.length === 0) this.fail(join(loc, key), `must be a non-empty string, got ${describe(value)}`);
    return value as string;
  }

  private strings(o: Json, key: string, loc: string, required: boolean): readonly string[] {
    const value = o[key];
    if (value === undefined) {
      if (required) this.fail(join(loc, key), 'is required (an array of tags, e.g. ["eu"])');
      return Object.freeze([]);
    }
    if (!Array.isArray(value)) this.fail(join(loc, key), `must be an array of strings, got ${describe(value)}`);
    (value as unknown[]).forEach((tag, i) => {
      if (typeof tag !== 'string' || tag.length === 0) this.fail(`${join(loc, key)}[${i}]`, `must be a non-empty string, got ${describe(tag)}`);
    });
    return Object.freeze([...(value as string[])]);
  }

  private boolean(o: Json, key: string, loc: string): boolean {
    const value = o[key];
    if (value === undefined) return true;
    if (typeof value !== 'boolean') this.fail(join(loc, key), `must be true or false, got ${describe(value)}`);
    return value as boolean;
  }

  /** Reports the second of two entries sharing a key, pointing at the first. */
  private unique<T>(items: readonly T[], keyOf: (item: T) => string | number, array: string, field: string, what: (item: T) => string, fix: string): void {
    const seen = new Map<string | number, number>();
    items.forEach((item, i) => {
      const key = keyOf(item);
      const first = seen.get(key);
      if (first !== undefined) this.fail(`${array}[${i}].${field}`, `${what(item)} is already used by ${array}[${first}]; ${fix}`);
      seen.set(key, i);
    });
  }

  private fail(location: string, problem: string): never {
    throw new DirectoryError(this.source, location, problem);
  }
}

function join(loc: string, key: string): string {
  return loc ? `${loc}.${key}` : key;
}

/** A value as shown in a message: short, typed, never a whole object. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  return String(value);
}

/** JSON.parse's message, with the line and column of its `position` (editors show those). */
function jsonProblem(text: string): string {
  const where = findJsonSyntaxError(text);
  return where ? `${where.problem} (line ${where.line}, column ${where.column})` : 'the text does not parse';
}
