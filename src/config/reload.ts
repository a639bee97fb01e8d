/**
 * Live reload: which keys apply at once, the diff between two configs, and a
 * watcher that re-loads on a signal (boot calls `reload('signal')` on SIGHUP) or
 * when a `--config` file changes. An invalid new config is reported and the old
 * one stays in force.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { loadConfig, type LoadedConfig, type LoadOptions } from './load.ts';
import { KEYS } from './schema.ts';
import type { Config } from './types.ts';

/** Keys that take effect without a restart; every other key needs one. */
export const RELOADABLE: ReadonlySet<string> = new Set([
  'log.level',
  'admin.token',
  'session.maxAge',
  'session.ipCheck',
  'websockets.enabled',
  'websockets.maxSocketsPerUser',
  'websockets.allowedOrigins',
  'websockets.pingInterval',
  'websockets.pingTimeout',
  'websockets.maxBufferedBytes',
  'websockets.dedupWindow',
  'websockets.history.ttl',
  'cluster.outboxLimit',
  'cluster.confirmTimeout',
  'mqtt.egress',
  'mqtt.maxPayload',
  'server.trustProxy',
  'server.trustedProxies',
  'server.drainDuration',
  'server.shutdownTimeout',
  'metrics.token',
  'server.proxyHops',
  ...[...KEYS.keys()].filter((key) => key.startsWith('websockets.remote.')),
]);

export interface ConfigDiff {
  /** Every dotted key whose value differs, in schema order. */
  changed: string[];
  /** The changed keys in RELOADABLE. */
  reloadable: string[];
  /** The changed keys that only apply after a restart. */
  restartRequired: string[];
}

function flatten(node: unknown, prefix: string, out: Map<string, unknown>): Map<string, unknown> {
  if (typeof node === 'object' && node !== null && !Array.isArray(node)) {
    for (const [name, value] of Object.entries(node)) flatten(value, prefix ? `${prefix}.${name}` : name, out);
  } else {
    out.set(prefix, node);
  }
  return out;
}

/** Classifies the keys that differ between two configs (arrays compared by value). */
export function diffConfig(prev: Config, next: Config): ConfigDiff {
  const before = flatten(prev, '', new Map());
  const after = flatten(next, '', new Map());
  const keys = new Set([...before.keys(), ...after.keys()]);
  const changed = [...keys].filter((key) => !isDeepStrictEqual(before.get(key), after.get(key)));
  return {
    changed,
    reloadable: changed.filter((key) => RELOADABLE.has(key)),
    restartRequired: changed.filter((key) => !RELOADABLE.has(key)),
  };
}

export type ReloadReason = 'signal' | 'file';

export interface ConfigWatcherEvents {
  /** A valid config that differs from the previous one is now current. */
  reload: [loaded: LoadedConfig, diff: ConfigDiff, reason: ReloadReason];
  /** The new config is invalid (a ConfigError); the previous one stays current. */
  error: [err: Error];
}

export interface WatchOptions {
  /** Quiet time after the last file event before reloading; editors write in bursts. */
  debounceMs?: number;
}

const DEFAULT_WATCH: Required<WatchOptions> = { debounceMs: 100 };
/** How often a deleted `--config` file is looked for again. */
const RETRY_MS = 1000;

/**
 * Holds the current config and re-loads it. `current` is the last valid load,
 * including keys that wait for a restart: `diff.restartRequired` names them once.
 * Listen to `'error'`: like any EventEmitter, an unhandled one throws.
 */
export class ConfigWatcher extends EventEmitter<ConfigWatcherEvents> {
  #current: LoadedConfig;
  readonly #options: LoadOptions;
  readonly #debounceMs: number;
  readonly #watchers = new Map<string, fs.FSWatcher>();
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(options: LoadOptions, initial: LoadedConfig, watch: WatchOptions = {}) {
    super();
    this.#options = options;
    this.#current = initial;
    this.#debounceMs = watch.debounceMs ?? DEFAULT_WATCH.debounceMs;
  }

  get current(): LoadedConfig {
    return this.#current;
  }

  /** Re-loads now; returns true when a changed config took effect. */
  reload(reason: ReloadReason): boolean {
    let next: LoadedConfig;
    try {
      next = loadConfig({ ...this.#options, previous: this.#current });
    } catch (err) {
      this.emit('error', err as Error);
      return false;
    }
    const diff = diffConfig(this.#current.config, next.config);
    this.#current = next;
    if (diff.changed.length === 0) return false;
    this.emit('reload', next, diff, reason);
    return true;
  }

  /** Watches every `--config` file; a change reloads after `debounceMs`. */
  start(): this {
    if (this.#running) return this;
    this.#running = true;
    if (!this.#watchAll()) this.#timer = setTimeout(() => this.#retry(), RETRY_MS);
    return this;
  }

  /** Closes every watcher and timer. */
  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
  }

  /** Watches the files not watched yet; false while some cannot be (deleted, mid-replace). */
  #watchAll(): boolean {
    let complete = true;
    for (const file of this.#current.files) {
      if (this.#watchers.has(file)) continue;
      try {
        const watcher = fs.watch(file, (event) => this.#onEvent(file, event));
        // A watched file deleted under us errors on some platforms: treat it as a rename.
        watcher.on('error', () => this.#onEvent(file, 'rename'));
        this.#watchers.set(file, watcher);
      } catch {
        complete = false;
      }
    }
    return complete;
  }

  #onEvent(file: string, event: string): void {
    if (!this.#running) return;
    if (event === 'rename') {
      // Editors replace the file (write a temp, rename it over it): the inode we
      // watch is gone, so the path is watched again when the burst settles.
      this.#watchers.get(file)?.close();
      this.#watchers.delete(file);
    }
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#settle(), this.#debounceMs);
  }

  #settle(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const complete = this.#watchAll();
    // A deleted file is reported once by this reload, then waited for.
    this.reload('file');
    if (!complete) this.#timer = setTimeout(() => this.#retry(), RETRY_MS);
  }

  #retry(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    if (this.#watchAll()) this.reload('file');
    else this.#timer = setTimeout(() => this.#retry(), RETRY_MS);
  }
}
