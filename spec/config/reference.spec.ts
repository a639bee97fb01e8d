/** docs/configuration.md's key reference must be what the schema generates. */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../src/config/load.ts';
import { PROPERTY_ALIASES, readProperties } from '../../src/config/properties.ts';
import {
  BEGIN_MARKER,
  configReference,
  END_MARKER,
  generatedBlock,
  LOADER_DEFAULTS,
  replaceGeneratedBlock,
} from '../../src/config/reference.ts';
import { genericEnvName, KEYS, type KeySpec } from '../../src/config/schema.ts';

const DOC_PATH = new URL('../../docs/configuration.md', import.meta.url);
const COLUMNS = ['key', 'type', 'default', 'env', 'flags', 'alias', 'reloadable', 'cascade', 'doc'] as const;
type Row = Record<(typeof COLUMNS)[number], string>;

/** The table's data rows by key (the backticks around the key removed). */
function rowsOf(table: string): Map<string, Row> {
  const rows = new Map<string, Row>();
  for (const line of table.trim().split('\n').slice(2)) {
    // Every `|` inside a cell is escaped (`\|`), so ' | ' only separates cells.
    const cells = line.slice(2, -2).split(' | ');
    expect(cells, line).to.have.length(COLUMNS.length);
    const row = Object.fromEntries(COLUMNS.map((column, i) => [column, cells[i]!])) as Row;
    rows.set(row.key.replace(/`/g, ''), row);
  }
  return rows;
}

describe('config reference', () => {
  const doc = readFileSync(DOC_PATH, 'utf8');
  const rows = rowsOf(configReference());

  describe('docs/configuration.md', () => {
    it('holds the generated reference between the markers', () => {
      const block = generatedBlock(doc);
      expect(block, `docs/configuration.md lacks ${BEGIN_MARKER} ... ${END_MARKER}`).to.be.a('string');
      expect(block, 'docs/configuration.md is out of date: run npx tsx scripts/gen-config-docs.ts').to.equal(configReference());
    });

    it('gives a .properties example that the loader reads', () => {
      const example = /```properties\n([\s\S]*?)```/.exec(doc);
      expect(example, 'a ```properties block').to.not.equal(null);
      const settings = readProperties(example![1]!, 'example.properties');
      expect(settings.map((s) => s.key)).to.include('websockets.remote.delayDuration');
      expect(settings.find((s) => s.key === 'websockets.allowedOrigins')?.typed).to.deep.equal(['https://app.example', 'https://admin.example']);
    });
  });

  describe('the hand-written part of docs/configuration.md', () => {
    it('lists every .properties alias with its key', () => {
      for (const [alias, key] of Object.entries(PROPERTY_ALIASES)) expect(doc, alias).to.contain(`| \`${alias}\` | \`${key}\` |`);
    });

    it('names every short flag and every env variable that is not the generic name', () => {
      const specs = [...KEYS.values()];
      for (const spec of specs.filter((s) => s.entry.arg)) expect(doc, spec.key).to.contain(`\`--${spec.entry.arg}\``);
      for (const spec of specs.filter((s) => s.env !== genericEnvName(s.key))) {
        expect(doc, spec.key).to.contain(`\`${spec.key}\` uses \`${spec.env}\``);
      }
    });
  });

  describe('#configReference', () => {
    it('lists every key once, in schema order', () => {
      expect([...rows.keys()]).to.deep.equal([...KEYS.keys()]);
    });

    it('gives server.port its env variable and short flag, and says a reload does not apply it', () => {
      const row = rows.get('server.port')!;
      expect(row.env).to.equal('`WSMESH_PORT`');
      expect(row.flags).to.equal('`--port`, `--server.port`');
      expect(row.default).to.equal('`8009`');
      expect(row.reloadable).to.equal('no');
    });

    it('gives websockets.remote.delayDuration its reference-product alias and says a reload applies it', () => {
      const row = rows.get('websockets.remote.delayDuration')!;
      expect(row.alias).to.equal('`com.openexchange.websockets.grizzly.remote.delayDuration`');
      expect(row.reloadable).to.equal('yes');
      expect(row.env).to.equal('`WSMESH_WEBSOCKETS_REMOTE_DELAY_DURATION`');
    });

    it('marks only websockets.enabled as cascade-aware', () => {
      const cascading = [...rows.values()].filter((row) => row.cascade === 'yes').map((row) => row.key);
      expect(cascading).to.deep.equal(['`websockets.enabled`']);
    });

    it('describes a default as derived or generated exactly when the loader derives or generates it', () => {
      const { sources } = loadConfig({ argv: [], env: {}, hostname: 'host' });
      const filledIn = Object.keys(sources).filter((key) => sources[key] === 'derived' || sources[key] === 'generated');
      expect(filledIn).to.have.members(Object.keys(LOADER_DEFAULTS));
      for (const key of filledIn) expect(rows.get(key)!.default, key).to.match(new RegExp(`^${sources[key]}`));
    });

    it('never prints the default of a secret', () => {
      const secret: KeySpec = {
        key: 'test.secret',
        entry: { doc: 'A secret.', format: 'text', default: 'hunter2', sensitive: true },
        env: 'WSMESH_TEST_SECRET',
        flags: ['--test.secret'],
      };
      const table = configReference([secret]);
      expect(table).to.not.contain('hunter2');
      expect(rowsOf(table).get('test.secret')!.default).to.equal('(secret)');
    });

    it('escapes doc text that markdown would read as HTML', () => {
      expect(rows.get('node.id')!.doc).to.contain('\\<hostname\\>-\\<port\\>');
    });
  });

  describe('#replaceGeneratedBlock', () => {
    const page = `# Title\n\nprose\n\n${BEGIN_MARKER}\nold table\n${END_MARKER}\n\nmore prose\n`;

    it('replaces only the text between the markers', () => {
      const next = replaceGeneratedBlock(page, 'new table\n');
      expect(next).to.equal(`# Title\n\nprose\n\n${BEGIN_MARKER}\nnew table\n${END_MARKER}\n\nmore prose\n`);
      expect(generatedBlock(next)).to.equal('new table\n');
    });

    it('throws when a marker is missing', () => {
      expect(() => replaceGeneratedBlock('# Title\n', 'x')).to.throw(/BEGIN GENERATED/);
      expect(generatedBlock(`${END_MARKER}\n${BEGIN_MARKER}\n`)).to.equal(undefined);
    });
  });
});
