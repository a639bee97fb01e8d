/**
 * Loads the configuration from its sources, later wins:
 * schema defaults < each `--config` file in order < `WSMESH_*` environment < flags.
 * Records which source set every key, then resolves the derived defaults
 * (node id, route) and the generated secrets (admin token, session key).
 */
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from './args.ts';
import { ConfigError } from './error.ts';
import { readConfigFile } from './files.ts';
import { coerce, createStore, KEYS, RULES, validateValue } from './schema.ts';
import type { Config } from './types.ts';

export { ConfigError } from './error.ts';
export { helpText, parseArgs } from './args.ts';

export interface LoadOptions {
  /** Arguments after the script name, e.g. `['--port', '9000', '--config', 'my.json']`. */
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  /** Base of relative `--config` paths; `process.cwd()` by default. */
  cwd?: string;
  /** The config in force; its generated secrets are kept while their keys stay unset. */
  previous?: LoadedConfig;
  /** Host name `node.id` is derived from; `os.hostname()` by default. */
  hostname?: string;
}

export interface LoadedConfig {
  config: Config;
  /** Absolute paths of the `--config` files, in order. */
  files: string[];
  /**
   * Dotted key -> what set it: `default`, a file path, `env WSMESH_X`, `flag --x`,
   * `derived` (node.id, server.route) or `generated` (admin.token, session.keys).
   */
  sources: Record<string, string>;
  /** Secrets made up because unset: boot prints the token once and warns about the key. */
  generated: { adminToken: boolean; sessionKeys: boolean };
}

/** A value from one source, and how to name that source to an operator. */
interface Setting {
  key: string;
  value: unknown;
  source: string;
  /** `source`, with the line for `.properties`. */
  where: string;
  advice: string;
}

const FIX_FILE = 'Fix the file and restart.';

function fileSettings(file: string): Setting[] {
  return readConfigFile(file).map(({ key, value, where }) => ({ key, value, source: file, where, advice: FIX_FILE }));
}

function envSettings(env: LoadOptions['env']): Setting[] {
  const settings: Setting[] = [];
  for (const spec of KEYS.values()) {
    const raw = env[spec.env];
    if (raw === undefined) continue;
    const source = `env ${spec.env}`;
    settings.push({ key: spec.key, value: coerce(spec.key, raw), source, where: source, advice: `Fix the environment variable ${spec.env} and restart.` });
  }
  return settings;
}

function show(key: string, value: unknown): string {
  if (KEYS.get(key)?.entry.sensitive) return '[sensitive]';
  return typeof value === 'string' || Array.isArray(value) ? JSON.stringify(value) : String(value);
}

function valueAt(config: Config, key: string): unknown {
  return key.split('.').reduce<unknown>((node, name) => (node as Record<string, unknown>)[name], config);
}

function invalid(key: string, value: unknown, setting: Setting | undefined, reason: string, blamed = setting): ConfigError {
  const origin = setting ? `from ${setting.where}` : 'default';
  const advice = blamed?.advice ?? 'Fix the configuration and restart.';
  return new ConfigError(`Invalid configuration: ${key} = ${show(key, value)} (${origin}) ${reason}. ${advice}`, {
    key,
    ...(blamed ? { source: blamed.source } : {}),
  });
}

function checkValues(config: Config, provenance: ReadonlyMap<string, Setting>): void {
  for (const key of KEYS.keys()) {
    const value = valueAt(config, key);
    try {
      validateValue(key, value);
    } catch (err) {
      throw invalid(key, value, provenance.get(key), (err as Error).message);
    }
  }
}

function checkRules(config: Config, provenance: ReadonlyMap<string, Setting>): void {
  const describe = (key: string) => {
    const from = provenance.get(key);
    return `${key} (${show(key, valueAt(config, key))}${from ? `, from ${from.where}` : ''})`;
  };
  for (const rule of RULES) {
    const reason = rule.check(config, describe);
    if (reason === undefined) continue;
    const own = provenance.get(rule.key);
    // A default broken by another key's value: blame the source of that value.
    const blamed = own ?? rule.related.map((key) => provenance.get(key)).find((s) => s !== undefined);
    throw invalid(rule.key, valueAt(config, rule.key), own, reason, blamed);
  }
}

/** `<hostname>-<port>`, reduced to `[A-Za-z0-9_-]` and at most 64 characters. */
export function deriveNodeId(hostname: string, port: number): string {
  const suffix = `-${port}`;
  const host = hostname.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64 - suffix.length) || 'node';
  return host + suffix;
}

function randomSecret(): string {
  return crypto.randomBytes(32).toString('base64url');
}

/**
 * Loads and validates the configuration.
 * @throws ConfigError naming the key and the file / env variable / flag at fault.
 */
export function loadConfig(options: LoadOptions): LoadedConfig {
  const args = parseArgs(options.argv);
  const cwd = options.cwd ?? process.cwd();
  const files = args.configFiles.map((file) => path.resolve(cwd, file));
  const settings: Setting[] = [
    ...files.flatMap(fileSettings),
    ...envSettings(options.env),
    ...args.settings.map(({ key, raw, flag }) => {
      const source = `flag ${flag}`;
      return { key, value: coerce(key, raw), source, where: source, advice: `Fix the ${flag} flag and restart.` };
    }),
  ];

  const store = createStore();
  const sources: Record<string, string> = {};
  for (const key of KEYS.keys()) sources[key] = 'default';
  const provenance = new Map<string, Setting>();
  for (const setting of settings) {
    store.set(setting.key, setting.value);
    sources[setting.key] = setting.source;
    provenance.set(setting.key, setting);
  }

  const config = store.getProperties();
  checkValues(config, provenance);
  checkRules(config, provenance);

  if (config.node.id === '') {
    store.set('node.id', deriveNodeId(options.hostname ?? os.hostname(), config.server.port));
    sources['node.id'] = 'derived';
  }
  if (config.server.route === '') {
    store.set('server.route', store.get('node.id'));
    sources['server.route'] = 'derived';
  }
  const previous = options.previous;
  const generated = { adminToken: config.admin.token === '', sessionKeys: config.session.keys.length === 0 };
  if (generated.adminToken) {
    // On a reload, an unset token keeps the one in force (generated or configured):
    // a new random token that nobody was shown would lock operators out.
    store.set('admin.token', previous ? previous.config.admin.token : randomSecret());
    sources['admin.token'] = 'generated';
  }
  if (generated.sessionKeys) {
    store.set('session.keys', previous ? [...previous.config.session.keys] : [randomSecret()]);
    sources['session.keys'] = 'generated';
  }

  try {
    store.validate({ allowed: 'strict' });
  } catch (err) {
    // Unreachable while checkValues covers every key; kept so convict's own checks still guard.
    throw new ConfigError(`Invalid configuration: ${(err as Error).message}. Fix the configuration and restart.`);
  }
  return { config: store.getProperties(), files, sources, generated };
}

/** `WSMESH_*` variables that set no key (likely typos), for boot to warn about. */
export function unknownEnvVars(env: LoadOptions['env']): string[] {
  const known = new Set([...KEYS.values()].map((spec) => spec.env));
  return Object.keys(env).filter((name) => name.startsWith('WSMESH_') && !known.has(name) && env[name] !== undefined);
}
