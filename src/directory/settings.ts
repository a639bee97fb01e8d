/**
 * The settings a directory's `config` objects may set per user, context or context
 * set (the cascade's keys), with their type and default. A directory file is checked
 * against this table when it is loaded, so a typo'd value (`"false"` instead of
 * `false`) is refused with a message instead of silently meaning something else.
 * Keys not listed here are accepted and carried unchecked (forward compatibility).
 */

export interface SettingSpec {
  readonly type: 'boolean' | 'number' | 'string';
  /** The value when no scope of the cascade sets the key. */
  readonly default: boolean | number | string;
  readonly doc: string;
}

export const SETTINGS = {
  'websockets.enabled': {
    type: 'boolean',
    default: true,
    doc: 'Whether the user may open web sockets (reference: com.openexchange.websockets.enabled).',
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingKey = keyof typeof SETTINGS;

export const ENABLED_KEY: SettingKey = 'websockets.enabled';

/** The spec of `key`, or undefined for a key wsmesh does not know. */
export function settingSpec(key: string): SettingSpec | undefined {
  return Object.hasOwn(SETTINGS, key) ? SETTINGS[key as SettingKey] : undefined;
}
