/**
 * The command line every bench script shares: `--quick` (a smaller preset over the
 * defaults), `-h`/`--help`, integer flags with a minimum, boolean switches, and string
 * flags the script parses itself. No positionals; an unknown flag is a `UsageError`.
 */
import { parseArgs } from 'node:util';

/** Thrown for a bad command line; the caller prints the message and the usage. */
export class UsageError extends Error {}

/** The keys of `T` whose values are of type `V`. */
type KeysOf<T, V> = { [K in keyof T]-?: T[K] extends V ? K : never }[keyof T];

/** What a script accepts, and where each flag lands in its options. */
export interface FlagSpec<T extends object, S extends string = never> {
  defaults: T;
  /** Applied over `defaults` by `--quick`, before the explicit flags. */
  quick: Partial<T>;
  /** `--flag N`: a decimal integer of at least `min`, into `options[key]`. */
  integers: ReadonlyArray<readonly [flag: string, key: KeysOf<T, number>, min: number]>;
  /** `--flag`: sets `options[key]` to true. */
  switches?: ReadonlyArray<readonly [flag: string, key: KeysOf<T, boolean>]>;
  /** `--flag VALUE`, handed back unparsed in `strings`. */
  strings?: readonly S[];
}

export interface ParsedFlags<T, S extends string> {
  options: T;
  strings: Partial<Record<S, string>>;
}

/** The options (with the raw string flags), or `undefined` when help was asked for. Throws `UsageError`. */
export function parseFlags<T extends object, S extends string = never>(argv: readonly string[], spec: FlagSpec<T, S>): ParsedFlags<T, S> | undefined {
  const switches = spec.switches ?? [];
  const strings = spec.strings ?? [];
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(switches.map(([flag]) => [flag, { type: 'boolean' as const }])),
        ...Object.fromEntries([...strings, ...spec.integers.map(([flag]) => flag)].map((flag) => [flag, { type: 'string' as const }])),
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) return undefined;
  const options: T = { ...spec.defaults, ...(values.quick ? spec.quick : {}) };
  // Generic T: its number and boolean keys are known only by KeysOf, which TS cannot index with.
  const slots = options as Record<PropertyKey, unknown>;
  for (const [flag, key] of switches) {
    if (values[flag] === true) slots[key] = true;
  }
  for (const [flag, key, min] of spec.integers) {
    const raw = values[flag];
    if (raw !== undefined) slots[key] = integer(`--${flag}`, raw, min);
  }
  const raw: Partial<Record<S, string>> = {};
  for (const flag of strings) {
    const value = values[flag];
    if (typeof value === 'string') raw[flag] = value;
  }
  return { options, strings: raw };
}

/** `raw` as a decimal integer of at least `min`; a `UsageError` naming `flag` otherwise. */
export function integer(flag: string, raw: string | boolean, min: number): number {
  const value = typeof raw === 'string' && /^[0-9]{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= min)) throw new UsageError(`${flag} must be an integer of at least ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

/**
 * The options, or the exit status when there is nothing to run: after `--help`, the
 * usage on stdout and 0; after a bad command line, the message and the usage on
 * stderr and 1.
 */
export function optionsOrStatus<T extends object>(argv: readonly string[], parse: (argv: readonly string[]) => T | undefined, usage: string): T | number {
  let options: T | undefined;
  try {
    options = parse(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\n\n${usage}`);
    return 1;
  }
  if (options) return options;
  process.stdout.write(usage);
  return 0;
}
