/** Small machines whose Mermaid the mermaid spec states exactly. */
import { createMachine, fromCallback, fromPromise, setup } from 'xstate';

export const door = createMachine({
  id: 'door',
  initial: 'closed',
  states: {
    closed: { on: { open: 'opened' } },
    opened: { on: { close: 'closed', lock: 'locked' } },
    locked: { type: 'final' },
  },
});

export const kettle = setup({
  delays: { patience: 500 },
  guards: { ready: () => true },
  actions: { beep: () => {}, log: () => {} },
}).createMachine({
  id: 'kettle',
  initial: 'off',
  states: {
    off: { on: { 'power.on': { target: 'on', guard: 'ready', actions: 'beep' } } },
    on: {
      description: 'drawing current: 2 kW',
      initial: 'heating',
      entry: 'log',
      exit: ['beep'],
      on: { 'power.off': 'off' },
      states: {
        heating: {
          after: { patience: 'boiling' },
          on: { tick: { actions: ['log', () => {}] }, reset: { target: 'heating', reenter: true } },
        },
        boiling: { after: { 1000: '#kettle.off' } },
      },
    },
  },
});

export const loader = setup({
  actors: { fetcher: fromPromise(async () => 1), watcher: fromCallback(() => {}) },
  guards: { done: () => true },
}).createMachine({
  id: 'loader',
  initial: 'loading',
  invoke: { src: 'watcher' },
  on: { cancel: '.failed' },
  states: {
    loading: { invoke: { id: 'fetch', src: 'fetcher', onDone: 'checking', onError: 'failed' } },
    checking: { always: [{ guard: 'done', target: 'loaded' }, { target: 'loading' }] },
    loaded: { type: 'final' },
    failed: { type: 'final' },
  },
});

/** Keys Mermaid cannot take as they are, labels with `:`, `;` and `#`, an inline guard, parallel regions. */
export const odd = createMachine({
  id: 'odd',
  initial: 'both',
  states: {
    both: {
      type: 'parallel',
      states: {
        end: { initial: 'a-1', states: { 'a-1': { on: { 'go;now': 'b#2' } }, 'b#2': {} } },
        state: { initial: 'x', states: { x: { on: { 'x.y:z': { target: 'x', guard: () => true } } } } },
      },
    },
  },
});
