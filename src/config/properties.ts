/**
 * Java `.properties` files, so an existing `websockets.properties` of the reference
 * product can be used as is. Pure: text in, typed settings out.
 *
 * Syntax (java.util.Properties#load, with values trimmed): `#` and `!` comment
 * lines; `key=value`, `key: value` or `key value`; a line ending in an odd number
 * of `\` continues on the next one; `\t \n \r \f \uXXXX` escapes.
 * https://docs.oracle.com/javase/8/docs/api/java/util/Properties.html#load-java.io.Reader-
 */
import { ConfigError } from './error.ts';
import { coerce, KEYS } from './schema.ts';

/** Reference-product property names and the wsmesh key each one sets. */
export const PROPERTY_ALIASES: Readonly<Record<string, string>> = {
  'com.openexchange.websockets.enabled': 'websockets.enabled',
  'com.openexchange.websockets.grizzly.remote.delayDuration': 'websockets.remote.delayDuration',
  'com.openexchange.websockets.grizzly.remote.maxDelayDuration': 'websockets.remote.maxDelayDuration',
  'com.openexchange.websockets.grizzly.remote.timerFrequency': 'websockets.remote.timerFrequency',
};

/** One `name = value` of a file, `line` being where it starts (1-based). */
export interface PropertyEntry {
  name: string;
  value: string;
  line: number;
}

/** An entry mapped to its wsmesh key, the value converted to the key's type. */
export interface PropertySetting extends PropertyEntry {
  key: string;
  typed: unknown;
}

const LEADING_BLANKS = /^[ \t\f]+/;
const ESCAPES: Record<string, string> = { t: '\t', n: '\n', r: '\r', f: '\f' };

function continues(line: string): boolean {
  const trailing = /\\*$/.exec(line)![0].length;
  return trailing % 2 === 1;
}

function unescape(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, code: string) => {
    if (code.length === 5) return String.fromCharCode(parseInt(code.slice(1), 16));
    return ESCAPES[code] ?? code;
  });
}

/** Splits a logical line at the first unescaped `=`, `:` or blank. */
function splitEntry(logical: string): { name: string; value: string } {
  let end = 0;
  while (end < logical.length && !/[=:\s]/.test(logical[end]!)) end += logical[end] === '\\' ? 2 : 1;
  const name = logical.slice(0, Math.min(end, logical.length));
  let rest = logical.slice(end).replace(LEADING_BLANKS, '');
  if (rest.startsWith('=') || rest.startsWith(':')) rest = rest.slice(1);
  return { name: unescape(name), value: unescape(rest).trim() };
}

/** Parses `.properties` text into entries, in file order (a repeated name appears twice; the last wins when applied). */
export function parseProperties(text: string): PropertyEntry[] {
  const lines = text.split(/\r\n|\r|\n/);
  const entries: PropertyEntry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    let logical = lines[i]!.replace(LEADING_BLANKS, '');
    if (logical === '' || logical.startsWith('#') || logical.startsWith('!')) continue;
    while (continues(logical)) {
      logical = logical.slice(0, -1);
      if (i + 1 >= lines.length) break;
      logical += lines[++i]!.replace(LEADING_BLANKS, '');
    }
    entries.push({ ...splitEntry(logical), line });
  }
  return entries;
}

/** The wsmesh key a property name sets: a reference alias or a wsmesh dotted key; undefined if neither. */
export function resolvePropertyName(name: string): string | undefined {
  return PROPERTY_ALIASES[name] ?? (KEYS.has(name) ? name : undefined);
}

/**
 * Parses `text` (the contents of `file`) into typed settings.
 * @throws ConfigError naming the file and line of an unknown property.
 */
export function readProperties(text: string, file: string): PropertySetting[] {
  return parseProperties(text).map((entry) => {
    const key = resolvePropertyName(entry.name);
    if (key === undefined) {
      throw new ConfigError(
        `Invalid configuration: unknown key "${entry.name}" in ${file}:${entry.line}. Remove it or fix its spelling (wsmesh --help lists the keys), then restart.`,
        { key: entry.name, source: file },
      );
    }
    return { ...entry, key, typed: coerce(key, entry.value) };
  });
}
