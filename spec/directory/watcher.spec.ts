import { expect } from 'chai';
import { rename, rm, writeFile } from 'node:fs/promises';
import { Directory, DirectoryError } from '../../src/directory/directory.ts';
import { DirectoryWatcher } from '../../src/directory/watcher.ts';
import { createLogger } from '../../src/log/logger.ts';
import { systemTimers, type Timers } from '../../src/time/timers.ts';
import { HASH, nextEvent, sleep, TempDir } from './fixtures.ts';

/** A valid directory whose only context is named `name`, to tell reloads apart. */
function directoryNamed(name: string): string {
  return JSON.stringify({ contexts: [{ id: 1, name }], users: [{ id: 2, context: 1, login: 'u', password: HASH }] });
}

/** Real timers that know how many are pending, to prove `stop()` cancels them. */
class CountingTimers implements Timers {
  readonly pending = new Set<unknown>();
  now(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const handle: unknown = systemTimers.setTimeout(() => {
      this.pending.delete(handle);
      fn();
    }, ms);
    this.pending.add(handle);
    return handle;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle);
    systemTimers.clearTimeout(handle);
  }
}

const fsWatches = (): number => process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap').length;

describe('DirectoryWatcher', () => {
  let temp: TempDir;
  let file: string;
  let watcher: DirectoryWatcher;
  let timers: CountingTimers;

  beforeEach(async () => {
    temp = await TempDir.create();
    file = await temp.write('directory.json', directoryNamed('first'));
    timers = new CountingTimers();
    watcher = new DirectoryWatcher(file, { debounceMs: 50, retryMs: 100, timers, persistent: true });
  });

  afterEach(async () => {
    watcher.stop();
    await temp.remove();
  });

  describe('#start', () => {
    it('emits reload with the new directory when the file is written in place', async () => {
      watcher.start();
      const reloaded = nextEvent<Directory>(watcher, 'reload');
      await writeFile(file, directoryNamed('second'));
      const directory = await reloaded;
      expect(directory).to.be.instanceOf(Directory);
      expect(directory.context(1)?.name).to.equal('second');
    });

    it('keeps reloading when an editor replaces the file by a rename, again and again', async () => {
      watcher.start();
      for (const name of ['second', 'third', 'fourth']) {
        const reloaded = nextEvent<Directory>(watcher, 'reload');
        const tmp = await temp.write(`.directory.json.${name}.tmp`, directoryNamed(name));
        await rename(tmp, file);
        expect((await reloaded).context(1)?.name).to.equal(name);
      }
    });

    it('emits error, keeping the last directory, when the new content is invalid, then reloads once it is fixed', async () => {
      watcher.start();
      const reloads: Directory[] = [];
      watcher.on('reload', (d) => reloads.push(d));
      const failed = nextEvent<DirectoryError>(watcher, 'error');
      await writeFile(file, JSON.stringify({ contexts: [{ id: 'one', name: 'x' }] }));
      const error = await failed;
      expect(error).to.be.instanceOf(DirectoryError);
      expect(error.message).to.equal(`${file}: contexts[0].id: must be a positive integer, got "one"`);
      expect(reloads).to.deep.equal([]);

      const reloaded = nextEvent<Directory>(watcher, 'reload');
      await writeFile(file, directoryNamed('fixed'));
      expect((await reloaded).context(1)?.name).to.equal('fixed');
    });

    it('emits error for a half-written file that is not JSON', async () => {
      watcher.start();
      const failed = nextEvent<DirectoryError>(watcher, 'error');
      await writeFile(file, '{"contexts": [');
      expect((await failed).problem).to.contain('is not valid JSON');
    });

    it('debounces a burst of writes into one reload of the final content', async () => {
      watcher.stop();
      watcher = new DirectoryWatcher(file, { debounceMs: 300, timers });
      watcher.start();
      const reloads: Directory[] = [];
      watcher.on('reload', (d) => reloads.push(d));
      for (let i = 0; i < 5; i++) {
        await writeFile(file, directoryNamed(`burst${i}`));
        await sleep(5);
      }
      await nextEvent(watcher, 'reload');
      await sleep(250);
      expect(reloads.map((d) => d.context(1)?.name)).to.deep.equal(['burst4']);
    });

    it('emits error when the file is deleted, then reloads when it is created again', async () => {
      watcher.start();
      const failed = nextEvent<DirectoryError>(watcher, 'error');
      await rm(file);
      expect((await failed).problem).to.match(/missing|does not exist/);
      await sleep(150);
      const reloaded = nextEvent<Directory>(watcher, 'reload');
      await writeFile(file, directoryNamed('back'));
      expect((await reloaded).context(1)?.name).to.equal('back');
      expect(watcher.status).to.equal('watching');
    });

    it('reports a missing file at start, then loads it once it appears', async () => {
      const missing = temp.file('later.json');
      const late = new DirectoryWatcher(missing, { debounceMs: 50, retryMs: 100 });
      try {
        const failed = nextEvent<DirectoryError>(late, 'error');
        late.start();
        expect((await failed).message).to.contain(missing);
        expect(late.status).to.equal('missing');
        const reloaded = nextEvent<Directory>(late, 'reload');
        await writeFile(missing, directoryNamed('late'));
        expect((await reloaded).context(1)?.name).to.equal('late');
      } finally {
        late.stop();
      }
    });

    it('logs instead of throwing when nobody listens for errors', async () => {
      const lines: string[] = [];
      const quiet = new DirectoryWatcher(file, { debounceMs: 50, logger: createLogger('warn', (l) => lines.push(l)) });
      try {
        quiet.start();
        await writeFile(file, 'not json');
        for (let i = 0; i < 100 && lines.length === 0; i++) await sleep(20);
        await sleep(100);
        expect(lines).to.have.length(1);
        expect(JSON.parse(lines[0])).to.deep.include({ level: 'warn', event: 'directory.reload_failed', file });
      } finally {
        quiet.stop();
      }
    });
  });

  describe('#stop', () => {
    it('closes the fs watch and cancels pending timers', async () => {
      const before = fsWatches();
      watcher.start();
      expect(fsWatches()).to.equal(before + 1);
      await writeFile(file, directoryNamed('pending'));
      await sleep(20); // the change is seen, its debounce timer is pending
      expect(timers.pending.size).to.equal(1);
      watcher.stop();
      expect(timers.pending.size).to.equal(0);
      // libuv releases a closed handle a loop turn or two later: poll, bounded.
      for (let i = 0; i < 20 && fsWatches() !== before; i++) await sleep(10);
      expect(fsWatches()).to.equal(before);
      expect(watcher.status).to.equal('idle');
    });

    it('emits nothing for changes after it', async () => {
      watcher.start();
      watcher.stop();
      let events = 0;
      watcher.on('reload', () => events++);
      watcher.on('error', () => events++);
      await writeFile(file, directoryNamed('after'));
      await rm(file);
      await sleep(300);
      expect(events).to.equal(0);
    });

    it('can be started again after a stop', async () => {
      watcher.start();
      watcher.stop();
      watcher.start();
      const reloaded = nextEvent<Directory>(watcher, 'reload');
      await writeFile(file, directoryNamed('restarted'));
      expect((await reloaded).context(1)?.name).to.equal('restarted');
    });
  });
});
