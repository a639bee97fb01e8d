import { expect } from 'chai';
import fs from 'node:fs';
import { ConfigError } from '../../src/config/error.ts';
import { loadConfig, type LoadedConfig, type LoadOptions } from '../../src/config/load.ts';
import { ConfigWatcher, diffConfig, RELOADABLE, type ConfigDiff, type ReloadReason } from '../../src/config/reload.ts';
import type { Config } from '../../src/config/types.ts';
import { makeTempDir, sleep, waitFor, type TempDir } from './support/temp-dir.ts';

function withChanges(base: Config, change: (c: Config) => void): Config {
  const copy = structuredClone(base);
  change(copy);
  return copy;
}

/** Handles that keep the process alive: watchers and timers. */
function liveHandles(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'FSEventWrap' || name === 'Timeout').length;
}

describe('config reload', () => {
  const base = loadConfig({ argv: [], env: {}, hostname: 'h' }).config;

  describe('RELOADABLE', () => {
    it('holds the websockets.remote keys and not the listening port', () => {
      expect(RELOADABLE.has('websockets.remote.delayDuration')).to.equal(true);
      expect(RELOADABLE.has('websockets.remote.maxDelayDuration')).to.equal(true);
      expect(RELOADABLE.has('websockets.remote.timerFrequency')).to.equal(true);
      expect(RELOADABLE.has('server.port')).to.equal(false);
      expect(RELOADABLE.has('websockets.paths')).to.equal(false);
    });
  });

  describe('#diffConfig', () => {
    it('finds nothing when two configs are equal but not the same objects', () => {
      expect(diffConfig(base, structuredClone(base))).to.deep.equal({ changed: [], reloadable: [], restartRequired: [] });
    });

    it('sorts changed keys into reloadable and restart-required', () => {
      const next = withChanges(base, (c) => {
        c.log.level = 'debug';
        c.websockets.remote.delayDuration = 10;
        c.websockets.allowedOrigins = ['https://a.example'];
        c.server.port = 1;
        c.websockets.paths = ['/ws'];
      });
      const diff = diffConfig(base, next);
      expect(diff.changed).to.have.members(['log.level', 'websockets.remote.delayDuration', 'websockets.allowedOrigins', 'server.port', 'websockets.paths']);
      expect(diff.reloadable).to.have.members(['log.level', 'websockets.remote.delayDuration', 'websockets.allowedOrigins']);
      expect(diff.restartRequired).to.have.members(['server.port', 'websockets.paths']);
    });

    it('compares arrays by value, order included', () => {
      const same = withChanges(base, (c) => {
        c.websockets.paths = [...base.websockets.paths];
      });
      const reordered = withChanges(base, (c) => {
        c.websockets.paths = [...base.websockets.paths].reverse();
      });
      expect(diffConfig(base, same).changed).to.deep.equal([]);
      expect(diffConfig(base, reordered).changed).to.deep.equal(['websockets.paths']);
    });
  });

  describe('ConfigWatcher', () => {
    let dir: TempDir;
    let watcher: ConfigWatcher | undefined;
    let reloads: Array<{ loaded: LoadedConfig; diff: ConfigDiff; reason: ReloadReason }>;
    let errors: Error[];

    function watch(json: object, extra: Partial<LoadOptions> = {}): { file: string; watcher: ConfigWatcher } {
      const file = dir.write('wsmesh.json', JSON.stringify(json));
      const options: LoadOptions = { argv: ['--config', file], env: {}, hostname: 'h', ...extra };
      watcher = new ConfigWatcher(options, loadConfig(options));
      watcher.on('reload', (loaded, diff, reason) => reloads.push({ loaded, diff, reason }));
      watcher.on('error', (err) => errors.push(err));
      return { file, watcher };
    }

    beforeEach(() => {
      dir = makeTempDir();
      reloads = [];
      errors = [];
    });

    afterEach(() => {
      watcher?.stop();
      watcher = undefined;
      dir.remove();
    });

    describe('#reload', () => {
      it('emits reload with the diff when the file changed, and keeps generated secrets', () => {
        const { file, watcher } = watch({ log: { level: 'info' } });
        const token = watcher.current.config.admin.token;
        fs.writeFileSync(file, JSON.stringify({ log: { level: 'debug' }, server: { port: 9100 } }));
        expect(watcher.reload('signal')).to.equal(true);
        expect(reloads).to.have.length(1);
        expect(reloads[0]!.reason).to.equal('signal');
        expect(reloads[0]!.diff).to.deep.include({ reloadable: ['log.level'] });
        expect(reloads[0]!.diff.restartRequired).to.have.members(['server.port', 'server.route', 'node.id']);
        expect(watcher.current.config.admin.token).to.equal(token);
      });

      it('emits nothing when nothing changed', () => {
        const { watcher } = watch({ log: { level: 'info' } });
        expect(watcher.reload('signal')).to.equal(false);
        expect(reloads).to.deep.equal([]);
        expect(errors).to.deep.equal([]);
      });

      it('emits error and keeps the old config when the new one is invalid', () => {
        const { file, watcher } = watch({ log: { level: 'warn' } });
        const before = watcher.current;
        fs.writeFileSync(file, JSON.stringify({ websockets: { remote: { delayDuration: 5000 } } }));
        expect(watcher.reload('signal')).to.equal(false);
        expect(errors).to.have.length(1);
        expect(errors[0]).to.be.instanceOf(ConfigError);
        expect((errors[0] as ConfigError).source).to.equal(file);
        expect(watcher.current).to.equal(before);
        expect(reloads).to.deep.equal([]);
      });
    });

    describe('#start', () => {
      it('reloads when the watched file is written', async () => {
        const { file, watcher } = watch({ log: { level: 'info' } });
        watcher.start();
        fs.writeFileSync(file, JSON.stringify({ log: { level: 'error' } }));
        await waitFor(() => reloads.length > 0);
        expect(reloads[0]!.reason).to.equal('file');
        expect(reloads[0]!.loaded.config.log.level).to.equal('error');
        expect(reloads[0]!.diff.changed).to.deep.equal(['log.level']);
        expect(reloads[0]!.loaded.sources['log.level']).to.equal(file);
      });

      it('keeps watching after an editor replaces the file by a rename', async () => {
        const { file, watcher } = watch({ log: { level: 'info' } });
        watcher.start();
        const temp = dir.write('wsmesh.json.tmp', JSON.stringify({ log: { level: 'warn' } }));
        fs.renameSync(temp, file);
        await waitFor(() => reloads.length === 1);
        expect(watcher.current.config.log.level).to.equal('warn');
        await sleep(150);
        fs.writeFileSync(file, JSON.stringify({ log: { level: 'debug' } }));
        await waitFor(() => reloads.length === 2);
        expect(watcher.current.config.log.level).to.equal('debug');
      });

      it('reports an invalid edit, keeps the old config, and takes the next valid one', async () => {
        const { file, watcher } = watch({ log: { level: 'info' } });
        const before = watcher.current;
        watcher.start();
        fs.writeFileSync(file, '{"log": ');
        await waitFor(() => errors.length > 0);
        expect(errors[0]).to.be.instanceOf(ConfigError);
        expect(errors[0]!.message).to.include(file).and.include('not valid JSON');
        expect(watcher.current).to.equal(before);
        fs.writeFileSync(file, JSON.stringify({ log: { level: 'warn' } }));
        await waitFor(() => reloads.length > 0);
        expect(watcher.current.config.log.level).to.equal('warn');
        expect(watcher.current.config.admin.token).to.equal(before.config.admin.token);
      });
      it('reports a deleted file once and reloads when it comes back', async () => {
        const { file, watcher } = watch({ log: { level: 'info' } });
        watcher.start();
        fs.rmSync(file);
        await waitFor(() => errors.length > 0);
        expect(errors[0]!.message).to.include(file).and.include('does not exist');
        fs.writeFileSync(file, JSON.stringify({ log: { level: 'warn' } }));
        await waitFor(() => reloads.length > 0);
        expect(watcher.current.config.log.level).to.equal('warn');
        expect(errors).to.have.length(1);
      });
    });

    describe('#stop', () => {
      it('closes every watcher and timer, and ignores later edits', async () => {
        await sleep(1); // mocha arms its own test timer once the test awaits
        const handlesBefore = liveHandles();
        const { file, watcher } = watch({ log: { level: 'info' } });
        watcher.start();
        expect(liveHandles()).to.be.above(handlesBefore);
        fs.writeFileSync(file, JSON.stringify({ log: { level: 'warn' } }));
        await sleep(20);
        watcher.stop();
        await sleep(50); // a closed watcher leaves the handle list on the next loop turn
        expect(liveHandles()).to.equal(handlesBefore);
        fs.writeFileSync(file, JSON.stringify({ log: { level: 'debug' } }));
        await sleep(300);
        expect(reloads).to.deep.equal([]);
        expect(liveHandles()).to.equal(handlesBefore);
      });
    });
  });
});
