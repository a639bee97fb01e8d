/**
 * The committed charts (docs/statecharts) are what the code gives today, and the
 * `wsmesh statecharts export` command that writes them.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../src/cli/run.ts';
import { EXPORT_COMMAND, exportStatecharts, renderStatecharts } from '../../src/statecharts/export.ts';
import { charts } from '../../src/statecharts/machines.ts';
import { tempDir } from '../support/node.ts';
import { io } from '../cli/streams.ts';

const COMMITTED = 'docs/statecharts';

describe('statecharts/export', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => dir.cleanup());

  describe('docs/statecharts', () => {
    it('equals a fresh export (the machines changed without re-exporting otherwise)', async () => {
      await exportStatecharts(dir.path);
      const fresh = readdirSync(dir.path).sort();
      const committed = readdirSync(COMMITTED).sort();
      const advice = `docs/statecharts is out of date: run \`${EXPORT_COMMAND}\` and commit the result`;
      expect(committed, advice).to.deep.equal(fresh);
      for (const name of fresh) {
        expect(readFileSync(join(COMMITTED, name), 'utf8'), `${name}: ${advice}`).to.equal(readFileSync(join(dir.path, name), 'utf8'));
      }
    });
  });

  describe('#renderStatecharts', () => {
    it('gives every actor a chart, a definition and a line in the index', () => {
      const files = renderStatecharts();
      const names = charts().map((c) => c.name);
      expect(names).to.include.members(['node', 'connection', 'buffer', 'ticker', 'broker']);
      expect([...files.keys()].sort()).to.deep.equal([...names.flatMap((n) => [`${n}.mmd`, `${n}.json`]), 'README.md'].sort());
      for (const name of names) {
        expect(files.get(`${name}.mmd`)).to.match(/^stateDiagram-v2\n/);
        expect(JSON.parse(files.get(`${name}.json`)!).id).to.equal(name);
        expect(files.get('README.md')).to.contain(`[${name}.mmd](${name}.mmd)`);
      }
    });

    it('describes the ticker as a callback actor, active until its parent stops it', () => {
      const ticker = charts().find((c) => c.name === 'ticker')!;
      expect(ticker.kind).to.equal('callback');
      expect(renderStatecharts().get('ticker.mmd')).to.contain('active --> stopped : xstate.stop / clearTimeout');
    });
  });

  describe('wsmesh statecharts', () => {
    it('export --out DIR writes the files and lists them', async () => {
      const streams = io();
      const out = join(dir.path, 'charts');
      expect(await runCli(['statecharts', 'export', '--out', out], streams)).to.equal(0);
      expect(readdirSync(out)).to.include.members(['README.md', 'connection.mmd', 'connection.json']);
      expect(streams.stdout.text.trim().split('\n')).to.have.length(readdirSync(out).length);
      expect(readFileSync(join(out, 'node.mmd'), 'utf8')).to.equal(renderStatecharts().get('node.mmd'));
    });

    it('--help prints the usage with the default folder', async () => {
      const streams = io();
      expect(await runCli(['statecharts', '--help'], streams)).to.equal(0);
      expect(streams.stdout.text).to.contain('Usage: wsmesh statecharts export [--out DIR]').and.contain('docs/statecharts');
    });

    for (const [args, message] of [
      [[], 'name an action: export'],
      [['draw'], 'unknown action "draw"'],
      [['export', '--out'], '--out needs a folder'],
      [['export', '--outdir', 'x'], 'unknown argument "--outdir"'],
    ] as const) {
      it(`refuses ${JSON.stringify(args)} with exit code 2`, async () => {
        const streams = io();
        expect(await runCli(['statecharts', ...args], streams)).to.equal(2);
        expect(streams.stderr.text).to.contain(message).and.contain('Usage: wsmesh statecharts');
      });
    }

    it('says so when it cannot write (exit code 1)', async () => {
      const streams = io();
      const file = dir.file('not-a-folder', 'x');
      expect(await runCli(['statecharts', 'export', '--out', file], streams)).to.equal(1);
      expect(streams.stderr.text).to.contain(`cannot write to ${file}`);
    });
  });
});
