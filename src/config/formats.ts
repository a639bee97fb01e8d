/**
 * Value formats of the wsmesh schema. Each one validates a typed value and coerces
 * the string form that environment variables, flags and `.properties` files carry
 * (arrays are comma-separated there). The formats are registered with convict by
 * name, so the schema stays a plain table of entries.
 *
 * A validator throws an `Error` whose message completes the sentence
 * "`key = value` ..." (e.g. "must be an integer >= 1").
 */

/** Per-key parameters a format reads from its schema entry. */
export interface FormatParams {
  /** Lowest integer accepted by `int-range`. */
  min?: number;
  /** Highest integer accepted by `int-range`. */
  max?: number;
  /** Pattern a `text` value must match. */
  pattern?: RegExp;
  /** Human wording of `pattern`, used in error messages. */
  hint?: string;
  /** Accepted values of `one-of`. */
  values?: readonly string[];
}

export interface Format {
  validate(value: unknown, params: FormatParams): void;
  /** Converts the string form; returns the input unchanged when it cannot, so `validate` reports it. */
  coerce(raw: string): unknown;
  /** Placeholder of the value in `--help`. */
  placeholder(params: FormatParams): string;
}

export type FormatName = 'int-range' | 'tcp-port' | 'bool' | 'text' | 'one-of' | 'list' | 'path-list' | 'origin-list';

const INTEGER = /^[+-]?\d+$/;
/** Each segment non-empty, so no trailing `/`, no `//`, and `/` alone is refused. */
const URL_PATH = /^(\/[^/\s?#]+)+$/;

function fail(message: string): never {
  throw new Error(message);
}

function toInteger(raw: string): unknown {
  const trimmed = raw.trim();
  return INTEGER.test(trimmed) ? Number(trimmed) : raw;
}

function toList(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function validateIntRange(value: unknown, { min, max }: FormatParams): void {
  const inRange = Number.isInteger(value) && (min === undefined || (value as number) >= min) && (max === undefined || (value as number) <= max);
  if (inRange) return;
  if (min !== undefined && max !== undefined) fail(`must be an integer from ${min} to ${max}`);
  if (min !== undefined) fail(`must be an integer >= ${min}`);
  if (max !== undefined) fail(`must be an integer <= ${max}`);
  fail('must be an integer');
}

function validateStrings(value: unknown, what: string, accept: (item: string) => boolean): void {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item !== '' && accept(item))) {
    fail(`must be a list of ${what} (a JSON array, or comma-separated in env, flags and .properties)`);
  }
}

function isOrigin(item: string): boolean {
  try {
    const url = new URL(item);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === item;
  } catch {
    return false;
  }
}

/** Every format the schema may name; adding one here makes it available to new keys. */
export const FORMATS: Record<FormatName, Format> = {
  'int-range': { validate: validateIntRange, coerce: toInteger, placeholder: () => '<int>' },
  'tcp-port': {
    validate: (value) => validateIntRange(value, { min: 0, max: 65535 }),
    coerce: toInteger,
    placeholder: () => '<port>',
  },
  bool: {
    validate: (value) => {
      if (typeof value !== 'boolean') fail('must be true or false');
    },
    coerce: (raw) => {
      const word = raw.trim().toLowerCase();
      return word === 'true' ? true : word === 'false' ? false : raw;
    },
    placeholder: () => '<true|false>',
  },
  text: {
    validate: (value, { pattern, hint }) => {
      if (typeof value !== 'string') fail('must be a string');
      if (pattern && !pattern.test(value)) fail(`must be ${hint ?? `a string matching ${pattern}`}`);
    },
    coerce: (raw) => raw,
    placeholder: () => '<text>',
  },
  'one-of': {
    validate: (value, { values = [] }) => {
      if (typeof value !== 'string' || !values.includes(value)) fail(`must be one of ${values.join(', ')}`);
    },
    coerce: (raw) => raw.trim(),
    placeholder: ({ values = [] }) => `<${values.join('|')}>`,
  },
  list: {
    validate: (value) => validateStrings(value, 'non-empty strings', () => true),
    coerce: toList,
    placeholder: () => '<a,b>',
  },
  'path-list': {
    validate: (value) => validateStrings(value, "URL paths that start with '/' and do not end with '/' (e.g. /ws)", (item) => URL_PATH.test(item)),
    coerce: toList,
    placeholder: () => '</a,/b>',
  },
  'origin-list': {
    validate: (value) => validateStrings(value, 'origins like https://a.example (scheme://host[:port], no path)', isOrigin),
    coerce: toList,
    placeholder: () => '<origin,...>',
  },
};
