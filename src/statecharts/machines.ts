/**
 * Every kind of actor a wsmesh node runs, with its chart: the state machines from
 * their definitions, the callback actors (`fromCallback`, no states of their own)
 * described by hand as `active` until stopped. The names are the machines' ids,
 * which is also how the inspector (src/inspect) groups live actors.
 */
import { connectionMachine } from '../actors/connection.machine.ts';
import { nodeMachine } from '../actors/node.machine.ts';
import { bufferMachine } from '../actors/buffer.machine.ts';
import { brokerMachine } from '../actors/broker.machine.ts';
import { peerMachine } from '../actors/peer.machine.ts';
import { machineDefinition, type StateJSON } from './definition.ts';

export interface ChartEntry {
  /** The machine's id: file name of its chart and the inspector's group. */
  readonly name: string;
  /** One line: what one actor of this kind is. */
  readonly description: string;
  readonly kind: 'machine' | 'callback';
  /** Where the logic lives, from the repository root. */
  readonly source: string;
  readonly definition: StateJSON;
}

let cached: readonly ChartEntry[] | undefined;

/** The registry, in the order of the docs: outermost actor first. */
export function charts(): readonly ChartEntry[] {
  cached ??= [
    {
      name: 'node',
      description: "The node supervisor: admits connections while running, closes them when draining; invokes the coalescing buffer.",
      kind: 'machine',
      source: 'src/actors/node.machine.ts',
      definition: machineDefinition(nodeMachine),
    },
    {
      name: 'connection',
      description: 'One WebSocket, from the upgrade request to its close, with the keepalive probe while open.',
      kind: 'machine',
      source: 'src/actors/connection.machine.ts',
      definition: machineDefinition(connectionMachine),
    },
    {
      name: 'buffer',
      description: 'The coalescing buffer for messages bound for other nodes; runs the ticker while something is queued.',
      kind: 'machine',
      source: 'src/actors/buffer.machine.ts',
      definition: machineDefinition(bufferMachine),
    },
    {
      name: 'ticker',
      description: "A callback actor invoked by the buffer: sends `tick` to it every `timerFrequency` ms until stopped.",
      kind: 'callback',
      source: 'src/actors/ticker.actor.ts',
      definition: callbackChart('ticker', 'sends tick to its parent every input.every ms', 'clearTimeout'),
    },
    {
      name: 'drainer',
      description: "A callback actor invoked by the draining node: closes its sockets spread over `drainDuration`, then sends `drain.done`.",
      kind: 'callback',
      source: 'src/actors/drainer.actor.ts',
      definition: callbackChart('drainer', 'sends conn.close to each socket in turn, then drain.done', 'clearTimeout'),
    },
    {
      name: 'broker',
      description: 'The link to the MQTT broker: connecting, online, offline with a jittered backoff, closed.',
      kind: 'machine',
      source: 'src/actors/broker.machine.ts',
      definition: machineDefinition(brokerMachine),
    },
    {
      name: 'peer',
      description: "What this node believes of one other node: online, suspect during the offline grace (taken back when our own link drops), offline.",
      kind: 'machine',
      source: 'src/actors/peer.machine.ts',
      definition: machineDefinition(peerMachine),
    },
  ];
  return cached;
}

/** A callback actor's life in the same shape as a machine definition: active until its parent stops it. */
function callbackChart(id: string, does: string, cleanup: string): StateJSON {
  const state = (key: string, order: number, rest: Partial<StateJSON>): StateJSON => ({
    id: `${id}.${key}`,
    key,
    type: 'atomic',
    states: {},
    transitions: [],
    invoke: [],
    entry: [],
    exit: [],
    order,
    ...rest,
  });
  return {
    id,
    key: id,
    kind: 'callback',
    type: 'compound',
    initial: { target: [`#${id}.active`] },
    states: {
      active: state('active', 1, {
        description: does,
        transitions: [{ eventType: 'xstate.stop', target: [`#${id}.stopped`], actions: [cleanup] }],
      }),
      stopped: state('stopped', 2, { type: 'final' }),
    },
    transitions: [],
    invoke: [],
    entry: [],
    exit: [],
    order: -1,
  };
}
