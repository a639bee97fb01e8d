/**
 * Rewrites the generated per-key reference of docs/configuration.md (between
 * `<!-- BEGIN GENERATED: keys -->` and `<!-- END GENERATED: keys -->`) from the schema.
 *
 *   npx tsx scripts/gen-config-docs.ts
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configReference, replaceGeneratedBlock } from '../src/config/reference.ts';

const DOC = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));

const before = fs.readFileSync(DOC, 'utf8');
const after = replaceGeneratedBlock(before, configReference());
if (after === before) {
  process.stdout.write('docs/configuration.md is up to date\n');
} else {
  fs.writeFileSync(DOC, after);
  process.stdout.write('docs/configuration.md: key reference rewritten\n');
}
