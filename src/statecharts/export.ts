/**
 * Writes the charts of every actor (machines.ts) to a folder: `<name>.mmd` (Mermaid
 * stateDiagram-v2), `<name>.json` (the definition, stable key order) and a
 * `README.md` index. docs/statecharts holds the committed result; a test compares it
 * with a fresh export, so a machine changed without re-exporting fails the suite.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stableJsonText } from './definition.ts';
import { charts, type ChartEntry } from './machines.ts';
import { toMermaid } from './mermaid.ts';

export const DEFAULT_OUT_DIR = 'docs/statecharts';

export const EXPORT_COMMAND = 'npm run wsmesh -- statecharts export';

/** The files of an export: file name -> content. Pure; `exportStatecharts` writes them. */
export function renderStatecharts(entries: readonly ChartEntry[] = charts()): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of entries) {
    files.set(`${entry.name}.mmd`, toMermaid(entry.definition));
    files.set(`${entry.name}.json`, stableJsonText(entry.definition));
  }
  files.set('README.md', readme(entries));
  return files;
}

/** Writes the export into `outDir` (created if missing); resolves to the paths written. */
export async function exportStatecharts(outDir: string = DEFAULT_OUT_DIR): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  for (const [name, text] of renderStatecharts()) {
    const path = join(outDir, name);
    await writeFile(path, text);
    written.push(path);
  }
  return written;
}

function readme(entries: readonly ChartEntry[]): string {
  const rows = entries.map((e) => `| [${e.name}](#${e.name}) | ${e.kind} | ${e.description} | [${e.name}.mmd](${e.name}.mmd) | [${e.name}.json](${e.name}.json) |`);
  const sections = entries.map((e) =>
    [`## ${e.name}`, '', `${e.description} Source: \`${e.source}\`.`, '', '```mermaid', toMermaid(e.definition).trimEnd(), '```', ''].join('\n'),
  );
  return [
    '# Statecharts',
    '',
    `Generated from the code by \`${EXPORT_COMMAND}\`; do not edit. A test`,
    '(spec/statecharts/export.spec.ts) fails when these files differ from a fresh export.',
    'The live inspector (`/admin/inspector`) draws the same charts with the number of',
    'actors in each state.',
    '',
    'Labels read `event [guard] / actions`; `after <delay>` is a delayed transition,',
    '`always` an eventless one; a loop without `(reenter)` is handled without leaving',
    'the state; `any state` holds what the machine handles in every state.',
    '',
    '| actor | kind | what it is | chart | definition |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    ...sections,
  ].join('\n');
}
