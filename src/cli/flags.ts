/**
 * Flag parsing for the admin commands: `--flag value`, `--flag=value` and switches.
 * Every problem is a usage error naming the flag; there are no positional arguments.
 */
import { usageError } from './cli-error.ts';

/** The accepted flags, `--name` -> whether it takes a value. */
export type FlagSpec = Readonly<Record<string, 'value' | 'switch'>>;

export class ParsedFlags {
  constructor(private readonly given: ReadonlyMap<string, string | true>) {}

  /** Whether the flag was given (a switch, or a flag with its value). */
  has(flag: string): boolean {
    return this.given.has(flag);
  }

  string(flag: string): string | undefined {
    const value = this.given.get(flag);
    return typeof value === 'string' ? value : undefined;
  }

  /** The value, or a usage error saying the flag is required. */
  requiredString(flag: string): string {
    const value = this.string(flag);
    if (value === undefined) throw usageError(`${flag} is required`);
    return value;
  }

  /** A positive integer (ids), or a usage error; undefined when the flag is absent. */
  positiveInt(flag: string): number | undefined {
    const value = this.string(flag);
    if (value === undefined) return undefined;
    const number = Number(value);
    if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(number) || number < 1) {
      throw usageError(`${flag} must be a positive integer: ${JSON.stringify(value)}`);
    }
    return number;
  }

  requiredPositiveInt(flag: string): number {
    const number = this.positiveInt(flag);
    if (number === undefined) throw usageError(`${flag} is required`);
    return number;
  }
}

/** Parses `args` against `spec`; throws a usage error for anything it does not accept. */
export function parseFlags(args: readonly string[], spec: FlagSpec): ParsedFlags {
  const given = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('-') || arg === '-') throw usageError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const kind = Object.hasOwn(spec, flag) ? spec[flag] : undefined;
    if (kind === undefined) throw usageError(`unknown flag ${flag}`);
    if (given.has(flag)) throw usageError(`${flag} is given twice`);
    if (kind === 'switch') {
      if (inline !== undefined) throw usageError(`${flag} takes no value`);
      given.set(flag, true);
      continue;
    }
    // A following flag is not taken as the value (`--user --context 1` is a mistake);
    // a value that starts with "--" can still be given as --flag=--value.
    const value = inline ?? (args[i + 1]?.startsWith('--') ? undefined : args[++i]);
    if (value === undefined || value === '') throw usageError(`${flag} needs a value`);
    given.set(flag, value);
  }
  return new ParsedFlags(given);
}
