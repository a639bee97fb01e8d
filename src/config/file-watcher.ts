/**
 * Watches a data file (the user directory, the broker accounts) and reloads it when
 * it changes.
 *
 * - Events are debounced (`debounceMs`): an editor's save is often several writes.
 * - Editors that save by writing a new file and renaming it over the old one leave
 *   the watch on the old, deleted inode; a `rename` event therefore closes the watch
 *   and opens a new one on the path at the next reload.
 * - A file that is missing (deleted, or between an editor's delete and create) is
 *   polled every `retryMs` until it is back, then loaded.
 * - A file that fails to load emits `'error'` (the file kind's own error, e.g. a
 *   `DirectoryError`) and the previous version stays in force: the watcher never
 *   swaps in a half-valid file.
 *   Without an `'error'` listener the error is logged instead of thrown, so a bad
 *   edit can never crash a node.
 *
 * By default neither the watch nor the timers keep the process alive; `stop()` closes both.
 */
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { silentLogger, type Logger } from '../log/logger.ts';
import { systemTimers, type Timers } from '../time/timers.ts';

/** What a watched file is: how to load it, and how to say that it cannot be used. */
export interface WatchedFile<T> {
  /** Names the file's kind in log events (`directory.reload_failed`). */
  kind: string;
  /** Reads and validates the file; throws an Error saying what is wrong. */
  load(file: string): Promise<T>;
  /** An Error of the file's own kind for `problem` (the file is missing, or `load` threw something else). */
  failure(file: string, problem: string, cause?: unknown): Error;
}

export interface FileWatcherOptions {
  /** Quiet time after the last file event before reloading. */
  debounceMs: number;
  /** How often a missing file is looked for. */
  retryMs: number;
  /** Whether the fs watch keeps the process alive (the node's HTTP server does that anyway). */
  persistent: boolean;
  timers: Timers;
  logger: Logger;
}

export const WATCHER_DEFAULTS: FileWatcherOptions = {
  debounceMs: 100,
  retryMs: 500,
  persistent: false,
  timers: systemTimers,
  logger: silentLogger,
};

export interface FileWatcherEvents<T> {
  /** A new, valid file: swap it in (and drop caches derived from the old one). */
  reload: [T];
  /** The file changed but cannot be used; the previous one stays in force. */
  error: [Error];
}

/**
 * - `idle`: not started, or stopped;
 * - `watching`: an fs watch is open on the file;
 * - `missing`: the file could not be watched (it is gone); polling for it.
 */
type WatcherState = 'idle' | 'watching' | 'missing';

export class FileWatcher<T> extends EventEmitter<FileWatcherEvents<T>> {
  readonly file: string;
  private readonly options: FileWatcherOptions;
  private state: WatcherState = 'idle';
  private fsWatcher: FSWatcher | undefined;
  private timer: unknown;
  /** Incremented per load; a load whose number is no longer current is discarded. */
  private generation = 0;

  constructor(
    file: string,
    private readonly watched: WatchedFile<T>,
    options: Partial<FileWatcherOptions> = {},
  ) {
    super();
    this.file = file;
    this.options = { ...WATCHER_DEFAULTS, ...options };
  }

  /** `'idle'`, `'watching'` or `'missing'`; for status pages and tests. */
  get status(): WatcherState {
    return this.state;
  }

  /** Starts watching. Does not load the file: the caller loaded it before. */
  start(): void {
    if (this.state !== 'idle') return;
    if (this.attach()) this.state = 'watching';
    else this.enterMissing();
  }

  /** Stops watching: closes the fs watch and cancels timers; a load under way is discarded. */
  stop(): void {
    this.state = 'idle';
    this.generation++;
    this.detach();
    this.cancelTimer();
  }

  private attach(): boolean {
    try {
      const fsWatcher = watch(this.file, { persistent: this.options.persistent }, (eventType) => this.onFileEvent(eventType));
      fsWatcher.on('error', (err) => this.onWatchError(fsWatcher, err));
      this.fsWatcher = fsWatcher;
      return true;
    } catch (err) {
      this.options.logger.debug(`${this.watched.kind}.watch_failed`, { file: this.file, error: err });
      return false;
    }
  }

  private detach(): void {
    this.fsWatcher?.close();
    this.fsWatcher = undefined;
  }

  private onFileEvent(eventType: string): void {
    if (this.state === 'idle') return;
    // After a rename (or delete) the watch follows the old inode, not the path.
    if (eventType === 'rename') this.detach();
    this.schedule(this.options.debounceMs);
  }

  private onWatchError(fsWatcher: FSWatcher, err: Error): void {
    if (fsWatcher !== this.fsWatcher) return;
    this.options.logger.debug(`${this.watched.kind}.watch_error`, { file: this.file, error: err });
    this.detach();
    if (this.state !== 'idle') this.schedule(this.options.debounceMs);
  }

  private schedule(ms: number): void {
    this.cancelTimer();
    this.timer = this.options.timers.setTimeout(() => {
      this.timer = undefined;
      void this.reload();
    }, ms);
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.options.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async reload(): Promise<void> {
    if (this.state === 'idle') return;
    if (!this.fsWatcher) {
      if (!this.attach()) {
        this.enterMissing();
        return;
      }
      this.state = 'watching';
    }
    const generation = ++this.generation;
    let outcome: { value: T } | { error: Error };
    try {
      outcome = { value: await this.watched.load(this.file) };
    } catch (err) {
      outcome = { error: err instanceof Error ? err : this.watched.failure(this.file, String(err), err) };
    }
    // A newer load started, or stop() ran (it bumps the generation) while this one read the file.
    if (generation !== this.generation) return;
    if ('error' in outcome) this.report(outcome.error);
    else this.emit('reload', outcome.value);
  }

  /** The file is gone: say so once, then poll for it. */
  private enterMissing(): void {
    if (this.state !== 'missing') {
      this.state = 'missing';
      this.report(this.watched.failure(this.file, `the file is missing; the previous ${this.watched.kind} stays in force until it is back`));
    }
    this.schedule(this.options.retryMs);
  }

  private report(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else this.options.logger.warn(`${this.watched.kind}.reload_failed`, { file: this.file, error });
  }
}
