/** The inspector's questions and the merge of the nodes' answers (inspect/cluster.ts), without a broker. */
import { expect } from 'chai';
import { actorFrom, answerInspectorQuestions, MAX_LIMIT, mergeSamples, readActorId, readSampleQuery, type NodeSample } from '../../src/inspect/cluster.ts';
import { InspectorHub } from '../../src/inspect/hub.ts';
import { FakeTimers } from '../../src/time/timers.ts';
import { createActor, setup } from 'xstate';

const sample = (over: Partial<NodeSample> = {}): NodeSample => ({
  seq: 3,
  at: 1000,
  counts: { node: { running: 1 }, connection: { 'open.idle': 2, upgrade: 0 } },
  totals: { node: { live: 1, created: 1, ended: 0 }, connection: { live: 2, created: 5, ended: 3 } },
  matching: 2,
  actors: [
    { id: 'x:1', machine: 'connection', state: 'open.idle', since: 900, events: 3, label: 'user 1/3 /ws/demo' },
    { id: 'x:2', machine: 'connection', state: 'open.idle', since: 950, events: 3, label: 'user 1/4 /ws/demo' },
  ],
  ...over,
});

describe('inspect/cluster', () => {
  describe('mergeSamples', () => {
    it('sums counts and totals, adds matching, and names each actor with its node', () => {
      const b = sample({ seq: 9, at: 1100, counts: { node: { running: 1 }, connection: { 'open.idle': 1, closing: 1 } }, matching: 1, actors: [sample().actors[0]] });
      const merged = mergeSamples('all', [{ node: 'a', body: sample() }, { node: 'b', body: b }], [], 2000);
      expect(merged).to.deep.include({ node: 'all', at: 2000, matching: 3 });
      expect(merged.counts).to.deep.equal({ node: { running: 2 }, connection: { 'open.idle': 3, upgrade: 0, closing: 1 } });
      expect(merged.totals.connection).to.deep.equal({ live: 4, created: 10, ended: 6 });
      expect(merged.actors.map((a) => [a.node, a.id])).to.deep.equal([['a', 'x:1'], ['a', 'x:2'], ['b', 'x:1']]);
      expect(merged.nodes).to.deep.equal({
        answered: [{ node: 'a', seq: 3, at: 1000, matching: 2 }, { node: 'b', seq: 9, at: 1100, matching: 1 }],
        unanswered: [],
        failed: [],
      });
    });

    it('names the nodes that did not answer, answered an error, or answered something else than a sample', () => {
      const merged = mergeSamples('all', [{ node: 'a', body: sample() }, { node: 'b', error: 'unknown-kind' }, { node: 'c', body: { seq: 'x' } }, { node: 'd', body: null }], ['e'], 0);
      expect(merged.nodes.answered.map((n) => n.node)).to.deep.equal(['a']);
      expect(merged.nodes.unanswered).to.deep.equal(['e']);
      expect(merged.nodes.failed).to.deep.equal([{ node: 'b', error: 'unknown-kind' }, { node: 'c', error: 'invalid' }, { node: 'd', error: 'invalid' }]);
      expect(merged.counts).to.deep.equal(sample().counts);
    });

    it('takes no part of a sample whose counts or actors are malformed', () => {
      for (const bad of [{ counts: { node: { running: '1' } } }, { totals: { node: { live: 1 } } }, { actors: [{ id: 1 }] }, { actors: 'x' }] as const) {
        const merged = mergeSamples('b', [{ node: 'b', body: sample(bad as unknown as Partial<NodeSample>) }], [], 0);
        expect(merged.nodes.failed, JSON.stringify(bad)).to.deep.equal([{ node: 'b', error: 'invalid' }]);
        expect(merged.counts).to.deep.equal({});
      }
    });
  });

  describe('readSampleQuery', () => {
    it('reads machine, state and limit, capping the limit', () => {
      expect(readSampleQuery({ machine: 'connection', state: 'open', limit: 5 })).to.deep.equal({ machine: 'connection', state: 'open', limit: 5 });
      expect(readSampleQuery({ limit: 10 ** 9 })).to.deep.equal({ limit: MAX_LIMIT });
      expect(readSampleQuery({ limit: 5, perState: 8 })).to.deep.equal({ limit: 5, perState: 8 });
    });

    it('throws on anything else (the asker gets `failed`)', () => {
      for (const body of [null, 'x', [], { limit: 0 }, { limit: 1.5 }, { limit: '5' }, { limit: 5, machine: 3 }, { limit: 5, state: '' }, { limit: 5, state: 'x'.repeat(257) }, { limit: 5, perState: 0 }, { limit: 5, perState: '8' }]) {
        expect(() => readSampleQuery(body), JSON.stringify(body)).to.throw(TypeError);
      }
    });
  });

  describe('readActorId and actorFrom', () => {
    it('reads an actor id; refuses a missing or non-string one', () => {
      expect(readActorId({ id: 'x:3' })).to.equal('x:3');
      for (const body of [null, {}, { id: 3 }, { id: '' }]) expect(() => readActorId(body)).to.throw(TypeError);
    });

    it('gives the actor with its node, null for none, or the error', () => {
      const actor = { id: 'x:1', machine: 'm', state: 's', since: 0, events: 0, label: '', status: 'active', context: {}, children: [], seq: 1, transitions: [] };
      expect(actorFrom({ node: 'b', body: { actor } })).to.deep.equal({ actor: { ...actor, node: 'b' } });
      expect(actorFrom({ node: 'b', body: { actor: null } })).to.deep.equal({ actor: null });
      expect(actorFrom({ node: 'b', error: 'failed' })).to.deep.equal({ error: 'failed' });
      expect(actorFrom({ node: 'b', body: { actor: { id: 'x' } } })).to.deep.equal({ error: 'invalid' });
      expect(actorFrom({ node: 'b', body: 'nonsense' })).to.deep.equal({ error: 'invalid' });
    });
  });

  describe('answerInspectorQuestions', () => {
    it("answers this node's sample with its counts, and one actor with its transitions", async () => {
      const hub = new InspectorHub({ timers: new FakeTimers() });
      const responders = new Map<string, (body: unknown) => unknown>();
      answerInspectorQuestions({ register: (kind, responder) => responders.set(kind, responder) }, hub);
      const toggle = setup({}).createMachine({ id: 'toggle', initial: 'off', states: { off: { on: { flip: 'on' } }, on: {} } });
      const actor = createActor(toggle, { inspect: hub.observer }).start();
      actor.send({ type: 'flip', secret: 'not-kept' } as never);
      const answer = responders.get('inspector.actors')!({ machine: 'toggle', limit: 10 }) as NodeSample;
      expect(answer.counts).to.deep.equal({ toggle: { off: 0, on: 1 } });
      expect(answer.actors.map((a) => a.id)).to.deep.equal([actor.sessionId]);
      const one = responders.get('inspector.actor')!({ id: actor.sessionId }) as { actor: { transitions: unknown[] } };
      expect(one.actor.transitions.map((t: any) => [t.event, t.from, t.to])).to.deep.equal([['xstate.init', null, 'off'], ['flip', 'off', 'on']]);
      expect(JSON.stringify(one)).to.not.contain('not-kept');
      expect(responders.get('inspector.actor')!({ id: 'x:999999' })).to.deep.equal({ actor: null });
      expect(() => responders.get('inspector.actors')!({})).to.throw(TypeError);
    });
  });
});
