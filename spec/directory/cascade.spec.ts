import { expect } from 'chai';
import { resolveSetting, type CascadeLayers, type Scope } from '../../src/directory/cascade.ts';

const KEY = 'websockets.enabled';
const set = (value: unknown) => ({ [KEY]: value });
const none = {};

describe('cascade', () => {
  describe('#resolveSetting', () => {
    // Every scope set or not, with a value telling which scope answered.
    const table: Array<{ what: string; layers: CascadeLayers; value: unknown; scope: Scope }> = [
      { what: 'no scope sets the key', layers: { contextSets: [], server: none }, value: 'fallback', scope: 'default' },
      { what: 'every scope is present but empty', layers: { user: none, context: none, contextSets: [none, none], server: none }, value: 'fallback', scope: 'default' },
      { what: 'only the server sets it', layers: { contextSets: [], server: set('server') }, value: 'server', scope: 'server' },
      { what: 'one context set and the server set it', layers: { contextSets: [set('set')], server: set('server') }, value: 'set', scope: 'contextSet' },
      { what: 'only a context set sets it', layers: { contextSets: [none, set('set'), none], server: none }, value: 'set', scope: 'contextSet' },
      { what: 'several context sets set it', layers: { contextSets: [set('first'), none, set('last'), none], server: set('server') }, value: 'last', scope: 'contextSet' },
      { what: 'the context and a set set it', layers: { context: set('context'), contextSets: [set('set')], server: set('server') }, value: 'context', scope: 'context' },
      { what: 'only the context sets it', layers: { context: set('context'), contextSets: [], server: none }, value: 'context', scope: 'context' },
      { what: 'the user and every other scope set it', layers: { user: set('user'), context: set('context'), contextSets: [set('set')], server: set('server') }, value: 'user', scope: 'user' },
      { what: 'only the user sets it', layers: { user: set('user'), contextSets: [], server: none }, value: 'user', scope: 'user' },
      { what: 'the user and the server set it', layers: { user: set('user'), contextSets: [], server: set('server') }, value: 'user', scope: 'user' },
      { what: 'the user sets undefined', layers: { user: set(undefined), context: set('context'), contextSets: [], server: none }, value: 'context', scope: 'context' },
      { what: 'the context sets undefined', layers: { context: set(undefined), contextSets: [set('set')], server: none }, value: 'set', scope: 'contextSet' },
      { what: 'the last set sets undefined', layers: { contextSets: [set('first'), set(undefined)], server: none }, value: 'first', scope: 'contextSet' },
      { what: 'the server sets undefined', layers: { contextSets: [], server: set(undefined) }, value: 'fallback', scope: 'default' },
      { what: 'the user sets false over a context true', layers: { user: set(false), context: set(true), contextSets: [], server: set(true) }, value: false, scope: 'user' },
      { what: 'the context sets false over a server true', layers: { context: set(false), contextSets: [], server: set(true) }, value: false, scope: 'context' },
      { what: 'a set sets false over a server true', layers: { contextSets: [set(false)], server: set(true) }, value: false, scope: 'contextSet' },
      { what: 'the server sets false', layers: { contextSets: [], server: set(false) }, value: false, scope: 'server' },
      { what: 'the user sets null', layers: { user: set(null), context: set(true), contextSets: [], server: none }, value: null, scope: 'user' },
      { what: 'only other keys are set', layers: { user: { other: 1 }, context: { other: 2 }, contextSets: [{ other: 3 }], server: { other: 4 } }, value: 'fallback', scope: 'default' },
    ];
    for (const { what, layers, value, scope } of table) {
      it(`answers ${JSON.stringify(value)} from scope ${scope} when ${what}`, () => {
        expect(resolveSetting(KEY, layers, 'fallback')).to.deep.equal({ value, scope });
      });
    }

    it('ignores keys inherited from the prototype', () => {
      expect(resolveSetting('toString', { user: {}, context: {}, contextSets: [{}], server: {} }, 'fallback')).to.deep.equal({ value: 'fallback', scope: 'default' });
    });

    it('reads a key with dots as one key, not a path', () => {
      expect(resolveSetting(KEY, { user: { websockets: { enabled: false } }, contextSets: [], server: none }, true)).to.deep.equal({ value: true, scope: 'default' });
    });
  });
});
