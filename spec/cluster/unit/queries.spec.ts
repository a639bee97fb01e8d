import { expect } from 'chai';
import { Queries, UNKNOWN_KIND, FAILED, type QueryTransport } from '../../../src/cluster/queries.ts';
import type { AnswerPayload, QuestionPayload } from '../../../src/cluster/codec.ts';
import { FakeTimers } from '../../../src/time/timers.ts';

/** Nodes wired to each other in memory: a question reaches every other node, an answer its asker. */
function mesh(ids: string[], timers = new FakeTimers()) {
  const nodes = new Map<string, Queries>();
  const live = new Set(ids);
  const sent: Array<{ to: string; payload: QuestionPayload | AnswerPayload }> = [];
  let deliver = true;
  for (const id of ids) {
    const q = new Queries(id, timers);
    const transport: QueryTransport = {
      liveNodes: () => [...live].filter((n) => n !== id),
      question: (payload) => {
        sent.push({ to: '*', payload });
        if (deliver) for (const [other, node] of nodes) if (other !== id && live.has(other)) void node.question(payload);
        return true;
      },
      answer: (to, payload) => {
        sent.push({ to, payload });
        if (deliver) nodes.get(to)?.answer(payload);
        return true;
      },
    };
    q.attach(transport);
    nodes.set(id, q);
  }
  return { nodes, live, sent, timers, hold: () => (deliver = false) };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Queries', () => {
  describe('#ask', () => {
    it('answers from this node alone, without a question sent, when no other node is live', async () => {
      const q = new Queries('a', new FakeTimers());
      q.register('echo', (body) => ({ echoed: body }));
      expect(await q.ask('echo', { x: 1 }, 1000)).to.deep.equal({ answers: [{ node: 'a', body: { echoed: { x: 1 } } }], unanswered: [] });
    });

    it('collects every live node answer, sorted by node, and resolves as soon as all answered', async () => {
      const { nodes } = mesh(['b', 'a', 'c']);
      for (const [id, q] of nodes) q.register('who', (body, asker) => ({ me: id, asker, body }));
      const result = await nodes.get('b')!.ask('who', 7, 1000);
      expect(result.unanswered).to.deep.equal([]);
      expect(result.answers).to.deep.equal([
        { node: 'a', body: { me: 'a', asker: 'b', body: 7 } },
        { node: 'b', body: { me: 'b', asker: 'b', body: 7 } },
        { node: 'c', body: { me: 'c', asker: 'b', body: 7 } },
      ]);
      expect(nodes.get('b')!.size).to.equal(0);
    });

    it('names the nodes that did not answer within the timeout', async () => {
      const { nodes, timers, hold } = mesh(['a', 'b']);
      for (const q of nodes.values()) q.register('who', () => 1);
      hold();
      const pending = nodes.get('a')!.ask('who', null, 500);
      await tick();
      timers.advance(499);
      await tick();
      expect(nodes.get('a')!.size).to.equal(1);
      timers.advance(1);
      expect(await pending).to.deep.equal({ answers: [{ node: 'a', body: 1 }], unanswered: ['b'] });
    });

    it('answers unknown-kind from a node without a responder, and failed from one that throws', async () => {
      const { nodes } = mesh(['a', 'b', 'c']);
      nodes.get('a')!.register('k', () => 'ok');
      nodes.get('b')!.register('k', () => {
        throw new Error('boom');
      });
      const result = await nodes.get('a')!.ask('k', null, 1000);
      expect(result.answers).to.deep.equal([
        { node: 'a', body: 'ok' },
        { node: 'b', error: FAILED },
        { node: 'c', error: UNKNOWN_KIND },
      ]);
    });

    it('waits for an async responder', async () => {
      const { nodes } = mesh(['a', 'b']);
      for (const q of nodes.values()) q.register('slow', async () => 'later');
      expect((await nodes.get('a')!.ask('slow', null, 1000)).answers.map((a) => a.body)).to.deep.equal(['later', 'later']);
    });

    it('names a node that goes offline while asked at once, and still waits for the others', async () => {
      const { nodes, hold, sent } = mesh(['a', 'b', 'c']);
      for (const q of nodes.values()) q.register('k', () => 1);
      hold();
      const asker = nodes.get('a')!;
      const pending = asker.ask('k', null, 10_000);
      await tick();
      asker.nodeGone('b');
      expect(asker.size).to.equal(1);
      asker.answer({ v: 1, id: sent[0].payload.id, from: 'c', body: 2 });
      expect(await pending).to.deep.equal({ answers: [{ node: 'a', body: 1 }, { node: 'c', body: 2 }], unanswered: ['b'] });
    });

    it('ignores a repeated answer, and one to a question no longer open', async () => {
      const { nodes, hold, timers, sent } = mesh(['a', 'b', 'c']);
      for (const q of nodes.values()) q.register('k', () => 1);
      hold();
      const asker = nodes.get('a')!;
      const pending = asker.ask('k', null, 100);
      await tick();
      const { id } = sent[0].payload;
      asker.answer({ v: 1, id, from: 'b', body: 'first' });
      asker.answer({ v: 1, id, from: 'b', body: 'again' });
      timers.advance(100);
      expect(await pending).to.deep.equal({ answers: [{ node: 'a', body: 1 }, { node: 'b', body: 'first' }], unanswered: ['c'] });
      asker.answer({ v: 1, id, from: 'c', body: 'late' });
      expect(asker.size).to.equal(0);
    });

    it('asks only the nodes named: the others compute nothing; a named node not live is unanswered at once', async () => {
      const { nodes, sent } = mesh(['a', 'b', 'c']);
      const computed: string[] = [];
      for (const [id, q] of nodes) q.register('k', () => (computed.push(id), id));
      expect(await nodes.get('a')!.ask('k', null, 1000, { nodes: ['b'] })).to.deep.equal({ answers: [{ node: 'b', body: 'b' }], unanswered: [] });
      expect(computed).to.deep.equal(['b']);
      expect((sent[0].payload as QuestionPayload).to).to.deep.equal(['b']);
      computed.length = 0;
      expect(await nodes.get('a')!.ask('k', null, 1000, { nodes: ['a', 'c', 'gone'] })).to.deep.equal({ answers: [{ node: 'a', body: 'a' }, { node: 'c', body: 'c' }], unanswered: ['gone'] });
      expect(computed.sort()).to.deep.equal(['a', 'c']);
      computed.length = 0;
      expect(await nodes.get('a')!.ask('k', null, 1000, { nodes: ['a'] })).to.deep.equal({ answers: [{ node: 'a', body: 'a' }], unanswered: [] });
      expect(await nodes.get('a')!.ask('k', null, 1000, { nodes: ['gone'] })).to.deep.equal({ answers: [], unanswered: ['gone'] });
      expect(computed).to.deep.equal(['a']);
    });

    it('ignores an answer from a node it did not ask', async () => {
      const { nodes, hold, timers, sent } = mesh(['a', 'b', 'c']);
      for (const q of nodes.values()) q.register('k', () => 1);
      hold();
      const asker = nodes.get('a')!;
      const pending = asker.ask('k', null, 100, { nodes: ['b'] });
      await tick();
      asker.answer({ v: 1, id: sent[0].payload.id, from: 'c', body: 'not asked' });
      timers.advance(100);
      expect(await pending).to.deep.equal({ answers: [], unanswered: ['b'] });
    });

    it('resolves at once with every other node unanswered when the question cannot be sent', async () => {
      const q = new Queries('a', new FakeTimers());
      q.attach({ liveNodes: () => ['b', 'c'], question: () => false, answer: () => false });
      q.register('k', () => 1);
      expect(await q.ask('k', null, 1000)).to.deep.equal({ answers: [{ node: 'a', body: 1 }], unanswered: ['b', 'c'] });
    });
  });

  describe('#nodes', () => {
    it('lists this node and every other live node, sorted; a node alone lists itself', () => {
      const { nodes, live } = mesh(['b', 'c', 'a']);
      expect(nodes.get('b')!.nodes()).to.deep.equal(['a', 'b', 'c']);
      live.delete('c');
      expect(nodes.get('b')!.nodes()).to.deep.equal(['a', 'b']);
      expect(new Queries('solo', new FakeTimers()).nodes()).to.deep.equal(['solo']);
    });
  });

  describe('#close', () => {
    it('answers every open question with what came (shutdown)', async () => {
      const { nodes, hold } = mesh(['a', 'b']);
      for (const q of nodes.values()) q.register('k', () => 1);
      hold();
      const pending = nodes.get('a')!.ask('k', null, 10_000);
      await tick();
      nodes.get('a')!.close();
      expect((await pending).unanswered).to.deep.equal(['b']);
    });
  });
});

