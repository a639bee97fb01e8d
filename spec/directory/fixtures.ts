/** Helpers for the directory suites: temp files and a valid directory to mutate. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DUMMY_HASH } from '../../src/directory/password.ts';

/** A well-formed hash; these suites never verify it. */
export const HASH = DUMMY_HASH;

export interface DirectoryJson {
  contexts?: unknown;
  contextSets?: unknown;
  users?: unknown;
  [extra: string]: unknown;
}

/** A small valid directory: two contexts, three sets, users with a shared login. */
export function validDirectory(): DirectoryJson {
  return {
    contexts: [
      { id: 1, name: 'demo', tags: ['eu', 'paid'], enabled: true, config: { 'websockets.enabled': true } },
      { id: 2, name: 'acme', tags: [], enabled: true, config: {} },
      { id: 7, name: 'example.com', tags: ['eu'] },
    ],
    contextSets: [
      { name: 'all', withTags: [], config: { a: 1 } },
      { name: 'eu', withTags: ['eu'], config: { a: 2 } },
      { name: 'eu-paid', withTags: ['eu', 'paid'], config: { a: 3 } },
      { name: 'us', withTags: ['us'], config: {} },
    ],
    users: [
      { id: 3, context: 1, login: 'alice', password: HASH, enabled: true, config: {} },
      { id: 4, context: 1, login: 'bob', password: HASH },
      { id: 3, context: 2, login: 'bob', password: HASH },
      { id: 5, context: 2, login: 'carol', password: HASH, enabled: false },
      { id: 6, context: 1, login: 'erin@example.com', password: HASH },
      { id: 8, context: 7, login: 'frank', password: HASH },
    ],
  };
}

export class TempDir {
  private constructor(readonly path: string) {}

  static async create(): Promise<TempDir> {
    return new TempDir(await mkdtemp(join(tmpdir(), 'wsmesh-directory-')));
  }

  file(name: string): string {
    return join(this.path, name);
  }

  async write(name: string, content: string | object): Promise<string> {
    const file = this.file(name);
    await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return file;
  }

  async remove(): Promise<void> {
    await rm(this.path, { recursive: true, force: true });
  }
}

/** Resolves with the first `event` of `emitter`, or rejects after `ms` (bounded waits only). */
export function nextEvent<T>(emitter: NodeJS.EventEmitter, event: string, ms = 2500): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, onEvent);
      reject(new Error(`no "${event}" event within ${ms} ms`));
    }, ms);
    const onEvent = (value: T): void => {
      clearTimeout(timer);
      resolve(value);
    };
    emitter.once(event, onEvent);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
