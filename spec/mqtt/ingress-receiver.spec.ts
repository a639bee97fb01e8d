/** The node's ingress receiver below the socket: checks, a QoS 1 resend dropped, retained copies dropped, counts. */
import { expect } from 'chai';
import { RecentIds } from '../../src/cluster/dedup.ts';
import type { OutboundMessage } from '../../src/delivery/message.ts';
import { createLogger } from '../../src/log/logger.ts';
import { IngressReceiver, type IngressStats } from '../../src/mqtt/ingress.ts';
import type { IngressRules } from '../../src/mqtt/ingress-check.ts';

function setup(now = () => 0) {
  const delivered: OutboundMessage[] = [];
  const logs: string[] = [];
  const stats: IngressStats = { received: 0, written: 0, dropped: new Map() };
  const rules: IngressRules = { prefix: 'wsmesh/ingress/', maxPayload: 10, recipient: (c, u) => (c === 1 && u === 3 ? 'ok' : c === 1 && u === 6 ? 'disabled' : 'unknown') };
  const receiver = new IngressReceiver({
    rules: () => rules,
    deliver: (outbound) => {
      delivered.push(outbound);
      return 2;
    },
    stats,
    log: createLogger('debug', (line) => logs.push(line)),
    recent: new RecentIds(1000, now),
  });
  return { receiver, delivered, stats, logs };
}

describe('IngressReceiver', () => {
  it('delivers a valid message with a fresh id, its path filter and the text as-is', () => {
    const { receiver, delivered, stats } = setup();
    receiver.receive('wsmesh/ingress/1/3/ws/mail', Buffer.from('héllo'), { retain: false, dup: false, messageId: 1 });
    expect(delivered).to.have.length(1);
    expect(delivered[0]).to.include({ message: 'héllo', contextId: 1, userId: 3, pathFilter: '/ws/mail' });
    expect(delivered[0].id).to.be.a('string').and.not.empty;
    expect(stats).to.include({ received: 1, written: 2 });
  });

  it('drops a resend (DUP) of a packet it had, and delivers a DUP it never had', () => {
    const { receiver, delivered, stats } = setup();
    const payload = Buffer.from('t=21');
    receiver.receive('wsmesh/ingress/1/3', payload, { retain: false, dup: false, messageId: 7 });
    receiver.receive('wsmesh/ingress/1/3', payload, { retain: false, dup: true, messageId: 7 });
    receiver.receive('wsmesh/ingress/1/3', payload, { retain: false, dup: true, messageId: 8 });
    // The same text again, not a resend: a device may say the same thing twice.
    receiver.receive('wsmesh/ingress/1/3', payload, { retain: false, dup: false, messageId: 7 });
    expect(delivered.map((d) => d.message)).to.deep.equal(['t=21', 't=21', 't=21']);
    expect(Object.fromEntries(stats.dropped)).to.deep.equal({ duplicate: 1 });
  });

  it('forgets packets after the window: a late DUP is delivered', () => {
    let t = 0;
    const { receiver, delivered } = setup(() => t);
    receiver.receive('wsmesh/ingress/1/3', Buffer.from('a'), { retain: false, dup: false, messageId: 1 });
    t = 1001;
    receiver.receive('wsmesh/ingress/1/3', Buffer.from('a'), { retain: false, dup: true, messageId: 1 });
    expect(delivered).to.have.length(2);
  });

  it('drops by reason, and logs the reason and the topic but never the payload', () => {
    const { receiver, delivered, stats, logs } = setup();
    const cases: Array<[string, Buffer, boolean]> = [
      ['wsmesh/ingress/1/3', Buffer.from('secret-but-too-long'), false],
      ['wsmesh/ingress/1/3', Buffer.from([0xff, 0xfe]), false],
      ['wsmesh/ingress/1/9', Buffer.from('secret-u'), false],
      ['wsmesh/ingress/1/6', Buffer.from('secret-d'), false],
      ['wsmesh/ingress/1', Buffer.from('secret-t'), false],
      ['wsmesh/ingress/1/3/a b', Buffer.from('secret-p'), false],
      ['wsmesh/ingress/1/3', Buffer.from('secret-r'), true],
    ];
    for (const [topic, payload, retain] of cases) receiver.receive(topic, payload, { retain, dup: false, messageId: 1 });
    expect(delivered).to.deep.equal([]);
    expect(Object.fromEntries(stats.dropped)).to.deep.equal({ too_large: 1, invalid_utf8: 1, unknown_user: 1, disabled: 1, invalid_topic: 1, invalid_path: 1, retained: 1 });
    expect(logs.filter((l) => l.includes('ingress.dropped'))).to.have.length(7);
    expect(logs.join('\n')).to.not.include('secret');
  });
});
