/**
 * Reads one `--config` file into settings: `.json` (nested objects, or dotted
 * keys) or `.properties` (see properties.ts). Every failure is a ConfigError
 * naming the file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from './error.ts';
import { readProperties } from './properties.ts';
import { coerce, isSection, KEYS } from './schema.ts';

export interface FileSetting {
  key: string;
  value: unknown;
  /** The file, with `:line` for `.properties`. */
  where: string;
}

function unknownKey(key: string, where: string): ConfigError {
  return new ConfigError(`Invalid configuration: unknown key "${key}" in ${where}. Remove it or fix its spelling (wsmesh --help lists the keys), then restart.`, {
    key,
    source: where,
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function flattenJson(node: Record<string, unknown>, prefix: string, file: string, out: FileSetting[]): void {
  for (const [name, value] of Object.entries(node)) {
    const key = prefix + name;
    if (KEYS.has(key)) out.push({ key, value: typeof value === 'string' ? coerce(key, value) : value, where: file });
    else if (isPlainObject(value) && isSection(key)) flattenJson(value, key + '.', file, out);
    else throw unknownKey(key, file);
  }
}

function readJson(text: string, file: string): FileSetting[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`Invalid configuration: ${file} is not valid JSON (${(err as Error).message}). Fix the file and restart.`, { source: file });
  }
  if (!isPlainObject(parsed)) {
    throw new ConfigError(`Invalid configuration: ${file} must hold a JSON object of settings, e.g. {"server": {"port": 8009}}. Fix the file and restart.`, {
      source: file,
    });
  }
  const out: FileSetting[] = [];
  flattenJson(parsed, '', file, out);
  return out;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (err as Error).message})`;
    throw new ConfigError(`Invalid configuration: config file ${file} (from --config) ${problem}. Fix the --config path or the file and restart.`, { source: file });
  }
}

/**
 * The settings of one config file, in file order.
 * @param file an absolute path
 */
export function readConfigFile(file: string): FileSetting[] {
  const ext = path.extname(file).toLowerCase();
  if (ext !== '.json' && ext !== '.properties') {
    throw new ConfigError(`Invalid configuration: config file ${file} (from --config) must end in .json or .properties. Fix the --config path and restart.`, {
      source: file,
    });
  }
  const text = readText(file);
  if (ext === '.json') return readJson(text, file);
  return readProperties(text, file).map((s) => ({ key: s.key, value: s.typed, where: `${file}:${s.line}` }));
}
