/**
 * `websockets.enabled` for one user, resolved through the cascade and cached per user
 * (the reference caches it too, and drops the cache on reload). Checked at every
 * handshake, so the common case is one Map lookup.
 */
import { resolveSetting } from './cascade.ts';
import type { Directory } from './directory.ts';
import { ENABLED_KEY, SETTINGS } from './settings.ts';

export class EnabledResolver {
  /** `${contextId}:${userId}` -> resolved value. Only users that exist are cached, so probing ids cannot grow it. */
  private readonly cache = new Map<string, boolean>();
  /** What the cache was computed from; a different directory or server value drops it. */
  private cachedFor: { directory: Directory; serverValue: boolean | undefined } | undefined;

  /**
   * Whether web sockets are enabled for the user, resolved user -> context -> context
   * sets -> `serverValue` -> default (true).
   *
   * A missing user or context answers `false` (and is not cached). Whether the user
   * or the context is disabled (`enabled: false`) is NOT considered here: the
   * handshake checks that separately (step 4, before this one, step 7), so each
   * refusal has its own reason.
   *
   * The cache is also dropped when called with another `Directory` instance or
   * another `serverValue` than the cached answers were computed from, so a caller
   * that forgets `clear()` still gets fresh answers.
   */
  isEnabled(directory: Directory, contextId: number, userId: number, serverValue: boolean | undefined): boolean {
    if (this.cachedFor?.directory !== directory || this.cachedFor.serverValue !== serverValue) {
      this.clear();
      this.cachedFor = { directory, serverValue };
    }
    const key = `${contextId}:${userId}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;

    const context = directory.context(contextId);
    const user = directory.user(contextId, userId);
    if (!context || !user) return false;
    const { value } = resolveSetting(
      ENABLED_KEY,
      {
        user: user.config,
        context: context.config,
        contextSets: directory.contextSetsOf(context).map((set) => set.config),
        server: serverValue === undefined ? {} : { [ENABLED_KEY]: serverValue },
      },
      SETTINGS[ENABLED_KEY].default,
    );
    // Fail closed: only a real `true` enables (the directory refuses non-booleans anyway).
    const enabled = value === true;
    this.cache.set(key, enabled);
    return enabled;
  }

  /** Drops every cached answer; call when the directory or the configuration reloads. */
  clear(): void {
    this.cache.clear();
    this.cachedFor = undefined;
  }

  /** Number of cached users. */
  get size(): number {
    return this.cache.size;
  }
}
