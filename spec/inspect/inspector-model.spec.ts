/**
 * The inspector page's pure modules, imported as the browser loads them: the model
 * (counts and live actors, ordered by the hub's `seq`) and the chart layout from a
 * machine's definition.
 */
import { expect } from 'chai';
import { InspectorModel, LIST_CAP, MAX_ENDED } from '../../src/http/public/inspector/model.js';
import { layoutChart, type ChartLayout, type StateShape } from '../../src/http/public/inspector/layout.js';
import { parseEvents } from '../../src/http/public/inspector/stream.js';
import { charts } from '../../src/statecharts/machines.ts';

type Batch = Parameters<InspectorModel['applyBatch']>[0];
type Change = Batch['changes'][number];

const counts = (states: Record<string, number>) => ({ connection: states });
const totals = { connection: { live: 0, created: 0, ended: 0 } };
const actor = (id: string, state: string, label = `label of ${id}`): Change => ({ id, machine: 'connection', state, status: 'active', label });

function batch(seq: number, states: Record<string, number>, rest: Partial<Batch> = {}): Batch {
  return { seq, at: seq, counts: counts(states), totals, changes: [], left: [], omitted: 0, ...rest };
}

/** A model on a stream opened at seq 1. */
function started(states: Record<string, number> = {}) {
  const model = new InspectorModel();
  model.applySnapshot({ seq: 1, at: 0, counts: counts(states), totals });
  return model;
}

const stateOf = (model: InspectorModel, id: string) => model.actor(id)?.state;
const listed = (model: InspectorModel, key: string) =>
  model.view(['connection']).machines.flatMap((m) => m.groups).find((g) => g.key === key)?.actors.map((a) => a.id);

describe('inspector page model (src/http/public/inspector/model.js)', () => {
  describe('#applySample', () => {
    it('keeps an actor in B when a sample taken before the event that moved it from A arrives late', () => {
      const model = started({ a: 1 });
      const epoch = model.epoch;
      model.applyBatch(batch(2, { a: 0, b: 1 }, { changes: [actor('x:1', 'b')] }));
      // Taken at seq 1 (before batch 2), delivered after it.
      const applied = model.applySample({ seq: 1, matching: 1, actors: [actor('x:1', 'a')] }, { epoch });
      expect(applied).to.equal(true);
      expect(stateOf(model, 'x:1')).to.equal('b');
      expect(listed(model, 'connection/b')).to.deep.equal(['x:1']);
      expect(listed(model, 'connection/a')).to.equal(undefined); // a has no actor: not shown
    });

    it('does not bring back an actor that ended after the sample was taken', () => {
      const model = started({ a: 1 });
      const epoch = model.epoch;
      model.applyBatch(batch(2, { a: 0 }, { left: [{ ...actor('x:1', 'a'), status: 'done' }] }));
      model.applyBatch(batch(3, { a: 1 }, { changes: [actor('x:2', 'a')] }));
      model.applySample({ seq: 1, matching: 1, actors: [actor('x:1', 'a')] }, { epoch, key: 'connection/a' });
      expect(model.actor('x:1')).to.equal(undefined);
      expect(listed(model, 'connection/a')).to.deep.equal(['x:2']);
    });

    it('applies a sample newer than the batches applied, and one with the seq of the last batch (taken after it)', () => {
      const model = started({ a: 2 });
      model.applyBatch(batch(2, { a: 2 }, { changes: [actor('x:1', 'a'), actor('x:2', 'a')] }));
      model.applySample({ seq: 2, matching: 2, actors: [actor('x:1', 'b'), actor('x:2', 'a')] }, { epoch: model.epoch });
      expect(stateOf(model, 'x:1')).to.equal('b');
      model.applySample({ seq: 5, matching: 1, actors: [actor('x:1', 'c')] }, { epoch: model.epoch });
      expect(stateOf(model, 'x:1')).to.equal('c');
    });

    it('lists the actors of a sample asked right after the snapshot', () => {
      const model = started({ a: 2 });
      model.applySample({ seq: 1, matching: 2, actors: [actor('x:1', 'a', 'user 1/3 /ws/demo'), actor('x:2', 'a')] }, { epoch: model.epoch });
      expect(listed(model, 'connection/a')).to.deep.equal(['x:1', 'x:2']);
      expect(model.actor('x:1')).to.include({ label: 'user 1/3 /ws/demo', seq: 1 });
    });

    it('drops a sample asked during an earlier stream (the node may have restarted: seqs start again)', () => {
      const model = started({ a: 1 });
      const before = model.epoch;
      model.applySnapshot({ seq: 1, at: 0, counts: counts({ a: 1 }), totals });
      expect(model.applySample({ seq: 900, matching: 1, actors: [actor('x:9', 'a')] }, { epoch: before })).to.equal(false);
      expect(model.actor('x:9')).to.equal(undefined);
    });

    it('drops a sample older than a batch that left changes out (they may have been ends)', () => {
      const model = started({ a: 1 });
      model.applyBatch(batch(4, { a: 0 }, { omitted: 1 }));
      expect(model.applySample({ seq: 3, matching: 1, actors: [actor('x:1', 'a')] }, { epoch: model.epoch })).to.equal(false);
      expect(model.actor('x:1')).to.equal(undefined);
      expect(model.applySample({ seq: 4, matching: 0, actors: [] }, { epoch: model.epoch })).to.equal(true);
    });

    it('forgets actors that a complete sample of their group no longer lists, and an older sample does not put them back', () => {
      const model = started({ a: 2 });
      model.applyBatch(batch(2, { a: 2 }, { changes: [actor('x:1', 'a'), actor('x:2', 'a')] }));
      // x:2 moved in a change the stream never showed (an omitted one).
      model.applySample({ seq: 6, matching: 1, actors: [actor('x:1', 'a')] }, { epoch: model.epoch, key: 'connection/a' });
      expect(model.actor('x:2')).to.equal(undefined);
      model.applySample({ seq: 5, matching: 2, actors: [actor('x:1', 'a'), actor('x:2', 'a')] }, { epoch: model.epoch, key: 'connection/a' });
      expect(model.actor('x:2')).to.equal(undefined);
      // A partial sample (more match than it lists) says nothing of the others.
      model.applyBatch(batch(7, { a: 9 }, { changes: [actor('x:3', 'a')] }));
      model.applySample({ seq: 7, matching: 9, actors: [actor('x:1', 'a')] }, { epoch: model.epoch, key: 'connection/a' });
      expect(stateOf(model, 'x:3')).to.equal('a');
    });

    it('still drops samples older than the oldest end it forgot, once it remembers MAX_ENDED ends', () => {
      const model = started({ a: 1 });
      const ends = Array.from({ length: MAX_ENDED + 1 }, (_, i) => ({ ...actor(`x:${i}`, 'a'), status: 'done' }));
      model.applyBatch(batch(2, { a: 0 }, { left: ends.slice(0, 1) }));
      model.applyBatch(batch(3, { a: 0 }, { left: ends.slice(1) }));
      // x:0's end (seq 2) was forgotten: any sample older than 2 could list it.
      expect(model.applySample({ seq: 1, matching: 1, actors: [actor('x:0', 'a')] }, { epoch: model.epoch })).to.equal(false);
      expect(model.applySample({ seq: 2, matching: 0, actors: [] }, { epoch: model.epoch })).to.equal(true);
    });
  });

  describe('#applyBatch', () => {
    it('ignores a change older than a sample already applied (the sample overtook the stream)', () => {
      const model = started({ a: 1 });
      model.applySample({ seq: 3, matching: 1, actors: [actor('x:1', 'b')] }, { epoch: model.epoch });
      model.applyBatch(batch(3, { b: 1 }, { changes: [actor('x:1', 'a')] }));
      expect(stateOf(model, 'x:1')).to.equal('b');
      model.applyBatch(batch(4, { c: 1 }, { changes: [actor('x:1', 'c')] }));
      expect(stateOf(model, 'x:1')).to.equal('c');
    });

    it('forgets the actors it placed in a group the counts say is empty, not those a newer sample placed', () => {
      const model = started({ a: 2 });
      model.applyBatch(batch(2, { a: 1 }, { changes: [actor('x:1', 'a')] }));
      model.applySample({ seq: 4, matching: 1, actors: [actor('x:2', 'a')] }, { epoch: model.epoch });
      model.applyBatch(batch(3, { a: 0 }));
      expect(model.actor('x:1')).to.equal(undefined);
      expect(stateOf(model, 'x:2')).to.equal('a');
    });

    it('tells whether details read at a seq are still current', () => {
      const model = started({ a: 1 });
      model.applyBatch(batch(2, { a: 1 }, { changes: [actor('x:1', 'a')] }));
      expect(model.isCurrent('x:1', 2)).to.equal(true);
      model.applyBatch(batch(3, { a: 0 }, { left: [actor('x:1', 'a')] }));
      expect(model.isCurrent('x:1', 2)).to.equal(false);
    });
  });

  describe('#view and #wanting', () => {
    it(`lists up to ${LIST_CAP} actors per occupied state, counts the rest, and asks for short groups`, () => {
      const model = started();
      const many = Array.from({ length: LIST_CAP + 2 }, (_, i) => actor(`x:${i}`, 'open.idle'));
      model.applyBatch(batch(2, { upgrade: 0, 'open.idle': 12, closing: 1 }, { changes: many }));
      const { machines, total } = model.view(['node', 'connection']);
      expect(total).to.equal(13);
      expect(machines.map((m) => m.machine)).to.deep.equal(['node', 'connection']);
      const [closing, open] = machines[1].groups;
      expect([closing.key, closing.count, closing.actors.length, closing.more]).to.deep.equal(['connection/closing', 1, 0, 1]);
      expect([open.key, open.count, open.actors.length, open.more]).to.deep.equal(['connection/open.idle', 12, LIST_CAP, 12 - LIST_CAP]);
      expect(model.wanting()).to.deep.equal(['connection/closing']);
      expect(model.countIn('connection', 'open')).to.equal(12);
    });

    it('asks again for a group that knows more actors than its count', () => {
      const model = started({ a: 2 });
      model.applySample({ seq: 1, matching: 2, actors: [actor('x:1', 'a'), actor('x:2', 'a')] }, { epoch: model.epoch });
      expect(model.wanting()).to.deep.equal([]);
      model.applyBatch(batch(2, { a: 1 }, { omitted: 1 }));
      expect(model.wanting()).to.deep.equal(['connection/a']);
    });
  });
});

describe('inspector chart layout (src/http/public/inspector/layout.js)', () => {
  /** About what a browser measures for system-ui. */
  const measure = (text: string, size: number, weight = 400) => text.length * size * 0.55 * (weight >= 600 ? 1.1 : 1);
  const state = (id: string, key: string, order: number, rest: Record<string, unknown> = {}) => ({
    id, key, type: 'atomic', order, states: {}, transitions: [], invoke: [], entry: [], exit: [], ...rest,
  });
  /** door: closed -> open (ajar <-> wide) -> closed; locked is final; the root handles `alarm`. */
  const door = {
    ...state('door', 'door', -1, { type: 'compound' }),
    initial: { target: ['#door.closed'] },
    transitions: [{ eventType: 'alarm', actions: [{ type: 'ring' }] }],
    states: {
      closed: state('door.closed', 'closed', 1, {
        transitions: [
          { eventType: 'open', target: ['#door.open'], guard: { type: 'unlocked' }, actions: [{ type: 'log' }, { type: 'xstate.assign' }] },
          { eventType: 'lock', target: ['#door.locked'] },
          { eventType: 'knock' },
        ],
      }),
      open: state('door.open', 'open', 2, {
        type: 'compound',
        initial: { target: ['#door.open.ajar'] },
        entry: [{ type: 'light' }],
        transitions: [{ eventType: 'xstate.after.closeAfter.door.open', target: ['#door.closed'] }],
        states: {
          ajar: state('door.open.ajar', 'ajar', 3, { transitions: [{ eventType: 'push', target: ['#door.open.wide'] }] }),
          wide: state('door.open.wide', 'wide', 4, { description: 'as far as it goes', transitions: [{ eventType: 'pull', target: ['#door.open.ajar'] }] }),
        },
      }),
      locked: state('door.locked', 'locked', 5, { type: 'final' }),
    },
  };
  const states = (layout: ChartLayout) => new Map(layout.shapes.filter((s): s is StateShape => s.kind === 'state').map((s) => [s.path, s]));
  const inside = (inner: StateShape, outer: StateShape) =>
    inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.w <= outer.x + outer.w && inner.y + inner.h <= outer.y + outer.h;

  it('draws every state of a nested definition, the nested ones inside their composite, drawn after it', () => {
    const layout = layoutChart(door, measure);
    const byPath = states(layout);
    expect([...byPath.keys()]).to.deep.equal(['any state', 'closed', 'open', 'open.ajar', 'open.wide', 'locked']);
    const open = byPath.get('open')!;
    expect(open.composite).to.equal(true);
    for (const path of ['open.ajar', 'open.wide']) expect(inside(byPath.get(path)!, open), path).to.equal(true);
    expect(inside(byPath.get('closed')!, open)).to.equal(false);
    expect(byPath.get('open.ajar')!.label).to.equal('ajar');
    // Layers from the initial state down: closed above open, open above nothing it leads back to.
    expect(byPath.get('closed')!.y + byPath.get('closed')!.h).to.be.below(open.y);
    expect(byPath.get('open.ajar')!.y + byPath.get('open.ajar')!.h).to.be.below(byPath.get('open.wide')!.y);
    // `any state` to the side of everything else.
    const any = byPath.get('any state')!;
    expect(any.pseudo).to.equal(true);
    for (const s of byPath.values()) if (s !== any) expect(s.x + s.w).to.be.below(any.x);
  });

  it('labels transitions with event, named guard and actions, keeps targetless ones as lines inside the state', () => {
    const layout = layoutChart(door, measure);
    const edges = layout.edges.map((e) => [e.from, e.to, e.label?.text ?? '']);
    expect(edges).to.deep.include.members([
      ['closed', 'open', 'open [unlocked] / log'],
      ['closed', 'locked', 'lock'],
      ['open', 'closed', 'after closeAfter'],
      ['open.ajar', 'open.wide', 'push'],
      ['open.wide', 'open.ajar', 'pull'],
      ['[*]', 'closed', ''],
      ['[*]', 'open.ajar', ''],
      ['locked', '[*]', ''],
    ]);
    expect(edges).to.have.length(8);
    const byPath = states(layout);
    expect(byPath.get('closed')!.lines.map((l) => [l.kind, l.text])).to.deep.equal([['internal', '\u21bb knock']]);
    expect(byPath.get('open')!.lines.map((l) => l.text)).to.deep.equal(['entry / light']);
    expect(byPath.get('open.wide')!.lines.map((l) => l.text)).to.deep.equal(['as far as it goes']);
    expect(byPath.get('any state')!.lines.map((l) => l.text)).to.deep.equal(['\u21bb alarm / ring']);
    expect(layout.shapes.filter((s) => s.kind === 'start')).to.have.length(2);
    expect(layout.shapes.filter((s) => s.kind === 'end')).to.have.length(1);
  });

  it('fits everything it draws in its viewBox', () => {
    const layout = layoutChart(door, measure);
    const [x, y, w, h] = layout.viewBox;
    for (const s of states(layout).values()) {
      expect(s.x).to.be.at.least(x);
      expect(s.y).to.be.at.least(y);
      expect(s.x + s.w).to.be.at.most(x + w);
      expect(s.y + s.h).to.be.at.most(y + h);
    }
    expect(layout.width).to.equal(Math.ceil(w));
  });

  for (const chart of charts()) {
    it(`draws every state of the ${chart.name} chart at its path, the one the counts use`, () => {
      const paths: string[] = [];
      const walk = (node: { states?: Record<string, { key: string; states?: object }> }, prefix: string) => {
        for (const child of Object.values(node.states ?? {})) {
          paths.push(prefix + child.key);
          walk(child as never, `${prefix}${child.key}.`);
        }
      };
      walk(chart.definition, '');
      const drawn = [...states(layoutChart(chart.definition as never, measure)).keys()].filter((p) => p !== 'any state');
      expect(drawn).to.have.members(paths);
    });
  }
});

describe('inspector event stream (src/http/public/inspector/stream.js)', () => {
  describe('parseEvents', () => {
    it('splits complete messages off, skips the heartbeat, and keeps an unfinished message for later', () => {
      const text = 'event: snapshot\ndata: {"seq":1}\n\n: ping\n\nevent: batch\ndata: {"seq":2}\n\nevent: batch\ndata: {"se';
      const { messages, rest } = parseEvents(text);
      expect(messages).to.deep.equal([{ event: 'snapshot', data: { seq: 1 } }, { event: 'batch', data: { seq: 2 } }]);
      expect(rest).to.equal('event: batch\ndata: {"se');
      expect(parseEvents(`${rest}q":3}\n\n`).messages).to.deep.equal([{ event: 'batch', data: { seq: 3 } }]);
    });
  });
});
