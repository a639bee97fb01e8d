/**
 * The per-key reference of docs/configuration.md, built from the schema so it cannot
 * drift from the code: `scripts/gen-config-docs.ts` writes it between the markers and
 * `spec/config/reference.spec.ts` fails when the committed copy differs. Pure: no I/O.
 */
import { SETTINGS } from '../directory/settings.ts';
import type { FormatName } from './formats.ts';
import { PROPERTY_ALIASES } from './properties.ts';
import { RELOADABLE } from './reload.ts';
import { KEYS, type KeySpec, type SchemaEntry } from './schema.ts';

export const BEGIN_MARKER = '<!-- BEGIN GENERATED: keys -->';
export const END_MARKER = '<!-- END GENERATED: keys -->';

/**
 * Keys whose schema default is empty because `load.ts` fills them in when unset;
 * the spec checks these against the sources `loadConfig` reports (`derived`, `generated`).
 */
export const LOADER_DEFAULTS: Readonly<Record<string, string>> = {
  'node.id': 'derived: `<hostname>-<port>`',
  'server.route': 'derived: the node id',
  'session.keys': 'generated at start (one random key per process)',
  'admin.token': 'generated at start (printed once on stdout)',
};

/** How each format reads in the "type" column; a new format must be added here to compile. */
const FORMAT_WORDING: Record<FormatName, (entry: SchemaEntry) => string> = {
  'int-range': ({ min, max }) => {
    if (min !== undefined && max !== undefined) return `integer, ${min} to ${max}`;
    if (min !== undefined) return `integer >= ${min}`;
    if (max !== undefined) return `integer <= ${max}`;
    return 'integer';
  },
  'tcp-port': () => 'TCP port, 0 to 65535',
  bool: () => 'boolean',
  text: ({ hint }) => (hint ? `text: ${escapeCell(hint)}` : 'text'),
  'one-of': ({ values = [] }) => `one of ${values.map(code).join(', ')}`,
  list: () => 'list of strings',
  'path-list': () => 'list of URL paths',
  'origin-list': () => 'list of origins',
};

const HEADER = ['Key', 'Type', 'Default', 'Env variable', 'Flags', '`.properties` alias', 'Reloadable', 'Cascade-aware', 'Description'];

/** `com.openexchange.*` names by the wsmesh key they set (the reverse of PROPERTY_ALIASES). */
function aliasesByKey(): Map<string, string[]> {
  const byKey = new Map<string, string[]>();
  for (const [alias, key] of Object.entries(PROPERTY_ALIASES)) byKey.set(key, [...(byKey.get(key) ?? []), alias]);
  return byKey;
}

function code(text: string): string {
  return `\`${text}\``;
}

/** Markdown-escapes table cell text: `|` would end the cell, `<x>` would be read as HTML. */
function escapeCell(text: string): string {
  return text.replace(/[\\|<>*_]/g, (char) => `\\${char}`);
}

function describeDefault({ key, entry }: KeySpec): string {
  const value = entry.default;
  const empty = value === '' || (Array.isArray(value) && value.length === 0);
  const loader = LOADER_DEFAULTS[key];
  if (empty && loader) return loader;
  // Never print a secret, even a default one.
  if (entry.sensitive) return empty ? '(none)' : '(secret)';
  if (Array.isArray(value)) return value.length ? code(value.join(',')) : '(none)';
  if (value === '') return '(empty)';
  return code(String(value));
}

function row(spec: KeySpec, aliases: ReadonlyMap<string, string[]>): string[] {
  const { key, entry } = spec;
  return [
    code(key),
    FORMAT_WORDING[entry.format](entry),
    describeDefault(spec),
    code(spec.env),
    spec.flags.map(code).join(', '),
    (aliases.get(key) ?? []).map(code).join(', ') || '-',
    RELOADABLE.has(key) ? 'yes' : 'no',
    Object.hasOwn(SETTINGS, key) ? 'yes' : 'no',
    escapeCell(entry.doc),
  ];
}

function line(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/**
 * The markdown table of every key, in schema order: type, default, env variable,
 * flags, `.properties` aliases, whether a reload applies it, whether the directory's
 * config cascade can override it per user, and the schema's doc text.
 * @param keys the keys to list; every key of the schema by default
 */
export function configReference(keys: Iterable<KeySpec> = KEYS.values()): string {
  const aliases = aliasesByKey();
  const lines = [line(HEADER), line(HEADER.map(() => '---'))];
  for (const spec of keys) lines.push(line(row(spec, aliases)));
  return lines.join('\n') + '\n';
}

/** The text between the markers of `doc`, or undefined when they are missing or out of order. */
export function generatedBlock(doc: string): string | undefined {
  const begin = doc.indexOf(BEGIN_MARKER);
  const end = doc.indexOf(END_MARKER);
  if (begin === -1 || end < begin) return undefined;
  return doc.slice(begin + BEGIN_MARKER.length, end).replace(/^\n/, '');
}

/**
 * `doc` with the text between the markers replaced by `block`.
 * @throws Error when the markers are missing or out of order
 */
export function replaceGeneratedBlock(doc: string, block: string): string {
  const begin = doc.indexOf(BEGIN_MARKER);
  const end = doc.indexOf(END_MARKER);
  if (begin === -1 || end < begin) throw new Error(`expected ${BEGIN_MARKER} followed by ${END_MARKER}`);
  return `${doc.slice(0, begin + BEGIN_MARKER.length)}\n${block}${doc.slice(end)}`;
}
