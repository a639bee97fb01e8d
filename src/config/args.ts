/**
 * Command-line flags: `--config FILE` (repeatable), `--help`, and for every key
 * its generic `--<dotted.key>` and short flag, as `--flag value` or `--flag=value`.
 */
import { ConfigError } from './error.ts';
import { FORMATS } from './formats.ts';
import { KEYS } from './schema.ts';

/** A flag that sets a key; `raw` is the string given, converted later. */
export interface FlagSetting {
  key: string;
  raw: string;
  /** The flag as written, e.g. `--port`. */
  flag: string;
}

export interface ParsedArgs {
  /** `--config` files, in command-line order, as written (not resolved). */
  configFiles: string[];
  /** Key settings, in command-line order (a repeated flag: the last wins). */
  settings: FlagSetting[];
  help: boolean;
}

const CONFIG_FLAG = '--config';
const HELP_FLAGS = new Set(['--help', '-h']);

function flagTable(): ReadonlyMap<string, string> {
  const table = new Map<string, string>();
  for (const spec of KEYS.values()) for (const flag of spec.flags) table.set(flag, spec.key);
  return table;
}

/** Flag (with `--`) -> dotted key. */
export const FLAGS: ReadonlyMap<string, string> = flagTable();

function takesNoValue(key: string): boolean {
  return KEYS.get(key)?.entry.format === 'bool';
}

function placeholderOf(key: string): string {
  const { entry } = KEYS.get(key)!;
  return FORMATS[entry.format].placeholder(entry);
}

function missingValue(flag: string, placeholder: string, key?: string): ConfigError {
  return new ConfigError(`Invalid configuration: flag ${flag} needs a value (${flag} ${placeholder} or ${flag}=${placeholder}). Fix the command line and restart.`, {
    ...(key ? { key } : {}),
    source: `flag ${flag}`,
  });
}

/**
 * Splits the arguments after the script name.
 * @throws ConfigError on an unknown flag, a stray argument or a missing value.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const parsed: ParsedArgs = { configFiles: [], settings: [], help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (HELP_FLAGS.has(arg)) {
      parsed.help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      throw new ConfigError(`Invalid configuration: unexpected argument "${arg}". Flags take the form --name value or --name=value; run with --help to list them.`, {
        source: 'command line',
      });
    }
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    let value = eq === -1 ? undefined : arg.slice(eq + 1);
    const key = FLAGS.get(flag);
    if (flag !== CONFIG_FLAG && key === undefined) {
      throw new ConfigError(`Invalid configuration: unknown command-line flag ${flag}. Fix the command line (run with --help to list the flags) and restart.`, {
        source: `flag ${flag}`,
      });
    }
    if (value === undefined) {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        value = next;
        i++;
      } else if (key !== undefined && takesNoValue(key)) {
        value = 'true';
      } else {
        throw missingValue(flag, key ? placeholderOf(key) : '<file>', key);
      }
    }
    if (key === undefined) parsed.configFiles.push(value);
    else parsed.settings.push({ key, raw: value, flag });
  }
  return parsed;
}

function describeDefault(value: unknown): string {
  if (Array.isArray(value)) return value.length ? value.join(',') : '(none)';
  if (value === '') return '(empty)';
  return String(value);
}

/** The `--help` text: sources, precedence, and every flag with its env variable and default. */
export function helpText(): string {
  const lines = [
    'Usage: wsmesh [--config FILE]... [--<key> VALUE]...',
    '',
    'Sources, later wins: defaults < each --config file in order < WSMESH_* environment < flags.',
    'Lists are comma-separated in flags, environment and .properties files.',
    '',
    '  --config <file>  Load a .json (nested keys) or .properties file; repeatable.',
    '  --help, -h       Print this help.',
    '',
  ];
  for (const spec of KEYS.values()) {
    lines.push(`  ${spec.flags.join(', ')} ${placeholderOf(spec.key)}`);
    lines.push(`      ${spec.entry.doc}`);
    lines.push(`      env ${spec.env}, default ${describeDefault(spec.entry.default)}`);
  }
  return lines.join('\n') + '\n';
}
