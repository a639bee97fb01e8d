/**
 * wsmesh configuration: convict schema, `.properties` aliases, loading with
 * per-key sources, and live reload. Only this folder touches convict.
 */
export type * from './types.ts';
export { ConfigError } from './error.ts';
export { FLAGS, helpText, parseArgs, type FlagSetting, type ParsedArgs } from './args.ts';
export { deriveNodeId, loadConfig, unknownEnvVars, type LoadedConfig, type LoadOptions } from './load.ts';
export { parseProperties, PROPERTY_ALIASES, readProperties, resolvePropertyName, type PropertyEntry, type PropertySetting } from './properties.ts';
export { ConfigWatcher, diffConfig, RELOADABLE, type ConfigDiff, type ConfigWatcherEvents, type ReloadReason, type WatchOptions } from './reload.ts';
export { genericEnvName, KEYS, SCHEMA, type KeySpec, type SchemaEntry } from './schema.ts';
