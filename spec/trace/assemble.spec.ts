import { expect } from 'chai';
import { assembleTrace } from '../../src/trace/assemble.ts';
import { DeliveryTrace, type NodeTrace } from '../../src/trace/delivery-trace.ts';
import { TraceRecorder } from '../../src/trace/recorder.ts';

/** A node's DeliveryTrace on a clock the test moves. */
function nodeTrace(node: string) {
  let now = 1000;
  const trace = new DeliveryTrace(node, new TraceRecorder(100, 10), () => now);
  return { trace, at: (t: number) => (now = t) };
}

describe('DeliveryTrace', () => {
  describe('#answer', () => {
    it("names each step of a message's way on the accepting node", () => {
      const { trace, at } = nodeTrace('a');
      const h = trace.accepted('m1', false, 1, 3, '/ws/*', 'tok');
      trace.skipped(h, 'tok', 'source-token');
      trace.written(h, 'c1');
      at(1500);
      trace.queued(h);
      at(2000);
      trace.published(h, 17, 3, 'p/internal/deliver/1/3', 'sent');
      expect(trace.answer('m1')).to.deep.equal({
        kept: false,
        accepted: [{ at: 1000, contextId: 1, userId: 3, pathFilter: '/ws/*', sourceToken: 'tok' }],
        refused: [],
        queued: [{ at: 1500 }],
        mergedAway: [],
        published: [{ at: 2000, publish: 'a:17', topic: 'p/internal/deliver/1/3', messages: 3, outcome: 'sent' }],
        received: [],
        written: [{ at: 1000, connectionId: 'c1' }],
        skipped: [{ at: 1000, connectionId: 'tok', node: null, reason: 'source-token' }],
      } satisfies NodeTrace);
    });

    it('names a merged-away copy by the message that carried it, and that publish', () => {
      const { trace } = nodeTrace('a');
      trace.accepted('first', false, 1, 3, null, undefined);
      const copy = trace.accepted('copy', false, 1, 3, null, undefined);
      trace.mergedAway(copy, 'first');
      trace.published(trace.open('first'), 4, 1, 't', 'sent');
      expect(trace.answer('copy')!.mergedAway).to.deep.equal([{ at: 1000, twin: 'first', publish: 'a:4', messages: 1 }]);
    });

    it('marks the received delivery a duplicate when its copy was dropped', () => {
      const { trace } = nodeTrace('b');
      const h = trace.open('m');
      trace.received(h, 'a', 5, 'delivered');
      trace.written(h, 'c1');
      trace.received(h, 'a', 5, 'delivered');
      trace.droppedCopy(h);
      expect(trace.answer('m')!.received.map((r) => [r.publish, r.outcome])).to.deep.equal([
        ['a:5', 'delivered'],
        ['a:5', 'duplicate'],
      ]);
    });

    it('answers undefined for an id it never saw, and keeps no payload', () => {
      const { trace } = nodeTrace('a');
      trace.accepted('m', true, 1, 3, null, undefined);
      expect(trace.answer('other')).to.equal(undefined);
      expect(JSON.stringify(trace.answer('m'))).to.not.include('hello');
      expect(trace.answer('m')!.kept).to.equal(true);
    });
  });
});

describe('assembleTrace', () => {
  it('merges the nodes\' records: coalescing, the publish, the receipt and every socket, by time', () => {
    const a = nodeTrace('a');
    const b = nodeTrace('b');
    const ha = a.trace.accepted('m', false, 1, 3, '/ws/a', undefined);
    a.at(1100);
    a.trace.queued(ha);
    a.at(1200);
    a.trace.published(ha, 9, 3, 'p/internal/deliver/1/3', 'sent');
    b.at(1250);
    const hb = b.trace.open('m');
    b.trace.received(hb, 'a', 9, 'delivered');
    b.trace.written(hb, 'b1');
    b.trace.skipped(hb, 'b2', 'path-filter');
    const result = assembleTrace('m', [{ node: 'a', body: a.trace.answer('m') }, { node: 'b', body: b.trace.answer('m') }, { node: 'c', body: null }], []);
    expect(result).to.deep.equal({
      id: 'm',
      kept: false,
      accepted: [{ node: 'a', at: 1000, contextId: 1, userId: 3, pathFilter: '/ws/a', sourceToken: null }],
      refused: [],
      queued: [{ node: 'a', at: 1100 }],
      coalesced: [{ node: 'a', at: 1200, publish: 'a:9', with: 2 }],
      publishes: [{ node: 'a', publish: 'a:9', topic: 'p/internal/deliver/1/3', at: 1200, messages: 3, outcome: 'sent' }],
      received: [{ node: 'b', at: 1250, from: 'a', publish: 'a:9', outcome: 'delivered' }],
      written: [{ node: 'b', connectionId: 'b1', at: 1250 }],
      notDelivered: [{ node: 'b', connectionId: 'b2', at: 1250, reason: 'path-filter' }],
      nodes: { holding: ['a', 'b'], answered: ['a', 'b', 'c'], unanswered: [], failed: [] },
    });
  });

  it('is not coalesced when its publish carried it alone', () => {
    const a = nodeTrace('a');
    a.trace.published(a.trace.accepted('m', false, 1, 3, null, undefined), 1, 1, 't', 'sent');
    expect(assembleTrace('m', [{ node: 'a', body: a.trace.answer('m') }], [])!.coalesced).to.deep.equal([]);
  });

  it('drops a socket from notDelivered when another attempt wrote to it (a refused repeat of a delivered id)', () => {
    const a = nodeTrace('a');
    const h = a.trace.accepted('m', false, 1, 3, null, undefined);
    a.trace.written(h, 'c1');
    a.at(2000);
    a.trace.refused(h);
    a.trace.skipped(h, 'c1', 'duplicate');
    a.trace.skipped(h, 'c2', 'duplicate');
    a.trace.skippedRemote(h, [{ node: 'b', connectionId: 'b1' }], 'duplicate');
    const result = assembleTrace('m', [{ node: 'a', body: a.trace.answer('m') }], [])!;
    expect(result.refused).to.deep.equal([{ node: 'a', at: 2000, reason: 'duplicate' }]);
    expect(result.notDelivered).to.deep.equal([
      { node: 'a', connectionId: 'c2', at: 2000, reason: 'duplicate' },
      { node: 'b', connectionId: 'b1', at: 2000, reason: 'duplicate' },
    ]);
  });

  it('names unanswered and failed nodes, and is undefined when no node holds the id', () => {
    expect(assembleTrace('m', [{ node: 'a', body: null }], ['c'])).to.equal(undefined);
    const a = nodeTrace('a');
    a.trace.accepted('m', false, 1, 3, null, undefined);
    const result = assembleTrace('m', [{ node: 'a', body: a.trace.answer('m') }, { node: 'b', error: 'unknown-kind' }], ['c'])!;
    expect(result.nodes).to.deep.equal({ holding: ['a'], answered: ['a', 'b'], unanswered: ['c'], failed: [{ node: 'b', error: 'unknown-kind' }] });
  });
});
