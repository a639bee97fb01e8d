/**
 * toMermaid on small machines, stated exactly: one case per feature of the chart
 * (flat, nested with delays and guards, invoke and always, odd keys and parallel).
 */
import { expect } from 'chai';
import type { AnyStateMachine } from 'xstate';
import { machineDefinition, stable } from '../../src/statecharts/definition.ts';
import { toMermaid } from '../../src/statecharts/mermaid.ts';
import { door, kettle, loader, odd } from './machines.fixture.ts';

const lines = (...text: string[]) => `${text.join('\n')}\n`;

const CASES: Array<{ name: string; machine: AnyStateMachine; mermaid: string }> = [
  {
    name: 'a flat machine: initial state, events, a final state',
    machine: door,
    mermaid: lines(
      'stateDiagram-v2',
      '  closed',
      '  opened',
      '  locked',
      '  [*] --> closed',
      '  closed --> opened : open',
      '  opened --> closed : close',
      '  opened --> locked : lock',
      '  locked --> [*]',
    ),
  },
  {
    name: 'nested states, named and numeric delays, guards and actions by name, loops, entry and exit',
    machine: kettle,
    mermaid: lines(
      'stateDiagram-v2',
      '  off',
      '  state on {',
      '    state "heating" as on_heating',
      '    state "boiling" as on_boiling',
      '    [*] --> on_heating',
      '    on_heating --> on_heating : tick / log',
      '    on_heating --> on_heating : reset (reenter)',
      '    on_heating --> on_boiling : after patience',
      '  }',
      '  on : drawing current, 2 kW',
      '  on : entry / log',
      '  on : exit / beep',
      '  [*] --> off',
      '  off --> on : power.on [ready] / beep',
      '  on --> off : power.off',
      '  on_boiling --> off : after 1000 ms',
    ),
  },
  {
    name: 'invoke with onDone and onError, always, what the root handles in any state',
    machine: loader,
    mermaid: lines(
      'stateDiagram-v2',
      '  classDef anyState fill:#f4f4f4,stroke-dasharray:4 4',
      '  state "any state" as any',
      '  class any anyState',
      '  any : invoke watcher',
      '  loading',
      '  loading : invoke fetcher',
      '  checking',
      '  loaded',
      '  failed',
      '  [*] --> loading',
      '  any --> failed : cancel',
      '  loading --> checking : onDone fetcher',
      '  loading --> failed : onError fetcher',
      '  checking --> loaded : always [done]',
      '  checking --> loading : always',
      '  loaded --> [*]',
      '  failed --> [*]',
    ),
  },
  {
    name: 'keys Mermaid cannot take, label characters it cannot read, an inline guard, parallel regions',
    machine: odd,
    mermaid: lines(
      'stateDiagram-v2',
      '  state both {',
      '    state "end" as both_end {',
      '      state "a-1" as both_end_a_1',
      '      state "b2" as both_end_b_2',
      '      [*] --> both_end_a_1',
      '      both_end_a_1 --> both_end_b_2 : go,now',
      '    }',
      '    --',
      '    state "state" as both_state {',
      '      state "x" as both_state_x',
      '      [*] --> both_state_x',
      '      both_state_x --> both_state_x : x.y,z',
      '    }',
      '  }',
      '  [*] --> both',
    ),
  },
];

describe('statecharts/mermaid', () => {
  describe('#toMermaid', () => {
    for (const { name, machine, mermaid } of CASES) {
      it(`draws ${name}`, () => {
        expect(toMermaid(machineDefinition(machine))).to.equal(mermaid);
      });
    }

    it('gives the same text for the same definition, whatever the order of its keys', () => {
      const definition = machineDefinition(kettle);
      const reversed = JSON.parse(JSON.stringify(definition), (_key, value) =>
        value && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).reverse()) : value,
      );
      expect(toMermaid(reversed)).to.equal(toMermaid(definition));
    });
  });
});

describe('statecharts/definition', () => {
  describe('#machineDefinition', () => {
    it('adds the always transitions xstate leaves out of its definition', () => {
      const checking = machineDefinition(loader).states.checking;
      expect(checking.always?.map((t) => [t.guard, t.target])).to.deep.equal([
        ['done', ['#loader.loaded']],
        [undefined, ['#loader.loading']],
      ]);
      expect((loader.toJSON() as { states: Record<string, { always?: unknown }> }).states.checking.always).to.equal(undefined);
    });

    it('omits functions (inline actions and guards) instead of writing null, and sorts keys', () => {
      const heating = machineDefinition(kettle).states.on.states.heating;
      expect(heating.transitions.find((t) => t.eventType === 'tick')?.actions).to.deep.equal(['log']);
      // xstate's own toJSON writes inline actions as null.
      expect(JSON.stringify(kettle.toJSON())).to.match(/\[null|,null\]/);
      expect(JSON.stringify(machineDefinition(odd))).to.not.match(/\[null|,null\]/);
      expect(JSON.stringify(machineDefinition(kettle))).to.not.match(/\[null|,null\]/);
      expect(JSON.stringify(machineDefinition(odd))).to.not.contain('"guard"');
      expect(Object.keys(heating)).to.deep.equal([...Object.keys(heating)].sort());
    });
  });

  describe('#stable', () => {
    it('calls toJSON once, like JSON.stringify, and drops undefined and functions', () => {
      const value = { b: 1, a: { toJSON: () => ({ z: undefined, y: [1, () => 2, 'x'], toJSON: () => 'again' }) } };
      expect(JSON.stringify(stable(value))).to.equal('{"a":{"y":[1,"x"]},"b":1}');
    });

    it('refuses a cycle instead of recursing forever', () => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      expect(() => stable(cyclic)).to.throw(TypeError, /cycle/);
    });
  });
});
