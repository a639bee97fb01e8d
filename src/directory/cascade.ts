/**
 * The config cascade (pure): the value of a setting for one user is the first scope
 * that sets it, in this order (reference: Open-Xchange's ConfigView):
 *
 *   user config -> context config -> matching context sets -> server -> default
 *
 * - A scope "sets" a key when the key is an own property of its config with a value
 *   other than `undefined`. `null` is a value (it is not "unset"); the directory
 *   refuses `null` for the settings it knows (see settings.ts).
 * - Context sets: a context can match several sets. When more than one of them sets
 *   the key, the LAST one in the directory file's order wins, so a more specific set
 *   is written after a more general one (like later rules overriding earlier ones in
 *   CSS). The reference leaves this order unspecified; wsmesh makes it deterministic.
 * - When no scope sets the key, the result is `fallback` (the key's default, e.g.
 *   `websockets.enabled`: true) with scope `'default'`.
 */

export type ConfigRecord = Readonly<Record<string, unknown>>;

export type Scope = 'user' | 'context' | 'contextSet' | 'server' | 'default';

export interface CascadeLayers {
  readonly user?: ConfigRecord;
  readonly context?: ConfigRecord;
  /** The configs of the context sets the user's context matches, in directory file order. */
  readonly contextSets: readonly ConfigRecord[];
  readonly server: ConfigRecord;
}

export interface Resolved {
  /** `unknown`: the cascade is generic; callers check the type (the directory already did for known keys). */
  readonly value: unknown;
  /** Which scope decided; logged and shown in traces to explain "why disabled". */
  readonly scope: Scope;
}

/** Resolves `key` through the cascade; `fallback` is the key's default. */
export function resolveSetting(key: string, layers: CascadeLayers, fallback: unknown): Resolved {
  if (isSet(layers.user, key)) return { value: layers.user![key], scope: 'user' };
  if (isSet(layers.context, key)) return { value: layers.context![key], scope: 'context' };
  const sets = layers.contextSets;
  for (let i = sets.length - 1; i >= 0; i--) {
    if (isSet(sets[i], key)) return { value: sets[i][key], scope: 'contextSet' };
  }
  if (isSet(layers.server, key)) return { value: layers.server[key], scope: 'server' };
  return { value: fallback, scope: 'default' };
}

function isSet(config: ConfigRecord | undefined, key: string): boolean {
  // Own properties only: a key such as `constructor` must not resolve from the prototype.
  return config !== undefined && Object.hasOwn(config, key) && config[key] !== undefined;
}
