import { expect } from 'chai';
import { Directory } from '../../src/directory/directory.ts';
import { EnabledResolver } from '../../src/directory/enabled-cache.ts';
import { HASH } from './fixtures.ts';

/** Context 1 (tag eu) with users 1..4; context 2 (no tags) disables; set "eu" disables unless a later set enables. */
function directory(overrides: { user3?: boolean; contextSets?: unknown[] } = {}): Directory {
  return Directory.parse(
    JSON.stringify({
      contexts: [
        { id: 1, name: 'one', tags: ['eu'] },
        { id: 2, name: 'two', config: { 'websockets.enabled': false } },
        { id: 3, name: 'three', enabled: false },
      ],
      contextSets: overrides.contextSets ?? [],
      users: [
        { id: 1, context: 1, login: 'plain', password: HASH },
        { id: 2, context: 1, login: 'off', password: HASH, config: { 'websockets.enabled': false } },
        { id: 3, context: 1, login: 'varies', password: HASH, config: overrides.user3 === undefined ? {} : { 'websockets.enabled': overrides.user3 } },
        { id: 4, context: 1, login: 'disabled', password: HASH, enabled: false },
        { id: 1, context: 2, login: 'in-two', password: HASH },
        { id: 2, context: 2, login: 'on-in-two', password: HASH, config: { 'websockets.enabled': true } },
        { id: 1, context: 3, login: 'in-three', password: HASH },
      ],
    }),
    'inline',
  );
}

/** The same directory, counting `user()` lookups (a cache hit does none). */
function countingLookups(target: Directory): { dir: Directory; lookups: () => number } {
  let count = 0;
  const dir = new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (prop !== 'user' || typeof value !== 'function') return typeof value === 'function' ? value.bind(obj) : value;
      return (...args: [number, number]) => {
        count++;
        return value.apply(obj, args);
      };
    },
  });
  return { dir, lookups: () => count };
}

describe('EnabledResolver', () => {
  describe('#isEnabled', () => {
    const table: Array<{ what: string; ctx: number; user: number; server: boolean | undefined; sets?: unknown[]; expected: boolean }> = [
      { what: 'no scope sets it (default true)', ctx: 1, user: 1, server: undefined, expected: true },
      { what: 'only the server sets false', ctx: 1, user: 1, server: false, expected: false },
      { what: 'the server sets true', ctx: 1, user: 1, server: true, expected: true },
      { what: 'the user sets false', ctx: 1, user: 2, server: true, expected: false },
      { what: 'the context sets false', ctx: 2, user: 1, server: true, expected: false },
      { what: 'the user sets true over a context false', ctx: 2, user: 2, server: undefined, expected: true },
      { what: 'a matching set sets false', ctx: 1, user: 1, server: true, sets: [{ name: 'eu', withTags: ['eu'], config: { 'websockets.enabled': false } }], expected: false },
      { what: 'a later matching set sets true over an earlier false', ctx: 1, user: 1, server: false, sets: [{ name: 'eu', withTags: ['eu'], config: { 'websockets.enabled': false } }, { name: 'all', withTags: [], config: { 'websockets.enabled': true } }], expected: true },
      { what: 'a set that does not match sets false', ctx: 1, user: 1, server: undefined, sets: [{ name: 'us', withTags: ['us'], config: { 'websockets.enabled': false } }], expected: true },
      { what: 'the user is disabled (not this module\'s check)', ctx: 1, user: 4, server: undefined, expected: true },
      { what: 'the context is disabled (not this module\'s check)', ctx: 3, user: 1, server: undefined, expected: true },
      { what: 'the user does not exist', ctx: 1, user: 99, server: true, expected: false },
      { what: 'the context does not exist', ctx: 99, user: 1, server: true, expected: false },
    ];
    for (const { what, ctx, user, server, sets, expected } of table) {
      it(`answers ${expected} when ${what}`, () => {
        expect(new EnabledResolver().isEnabled(directory({ contextSets: sets }), ctx, user, server)).to.equal(expected);
      });
    }

    it('caches the answer per user', () => {
      const resolver = new EnabledResolver();
      const dir = directory();
      resolver.isEnabled(dir, 1, 1, undefined);
      resolver.isEnabled(dir, 1, 2, undefined);
      resolver.isEnabled(dir, 1, 1, undefined);
      expect(resolver.size).to.equal(2);
    });

    it('answers from the cache, without looking the user up, until cleared', () => {
      const resolver = new EnabledResolver();
      const { dir, lookups } = countingLookups(directory());
      expect(resolver.isEnabled(dir, 1, 3, undefined)).to.equal(true);
      expect(resolver.isEnabled(dir, 1, 3, undefined)).to.equal(true);
      expect(lookups()).to.equal(1);
      resolver.clear();
      expect(resolver.size).to.equal(0);
      expect(resolver.isEnabled(dir, 1, 3, undefined)).to.equal(true);
      expect(lookups()).to.equal(2);
    });

    it('does not cache missing users, so probing ids cannot grow the cache', () => {
      const resolver = new EnabledResolver();
      const dir = directory();
      for (let id = 100; id < 200; id++) resolver.isEnabled(dir, 1, id, undefined);
      expect(resolver.size).to.equal(0);
    });

    it('drops the cache when given another directory', () => {
      const resolver = new EnabledResolver();
      expect(resolver.isEnabled(directory({ user3: true }), 1, 3, undefined)).to.equal(true);
      expect(resolver.isEnabled(directory({ user3: false }), 1, 3, undefined)).to.equal(false);
      expect(resolver.size).to.equal(1);
    });

    it('drops the cache when the server value changes', () => {
      const resolver = new EnabledResolver();
      const dir = directory();
      expect(resolver.isEnabled(dir, 1, 1, true)).to.equal(true);
      expect(resolver.isEnabled(dir, 1, 1, false)).to.equal(false);
    });
  });
});
