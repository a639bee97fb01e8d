import { expect } from 'chai';
import { Topics, type ParsedTopic } from '../../../src/cluster/topics.ts';

const t = new Topics('wsmesh');
const I = 'wsmesh/internal';

describe('Topics', () => {
  describe('constructor', () => {
    it('takes a cluster name of 1-64 characters of [A-Za-z0-9_-] as the root', () => {
      expect(new Topics('prod_eu-1').root).to.equal('prod_eu-1');
      expect(new Topics('x'.repeat(64)).presence('n1')).to.equal(`${'x'.repeat(64)}/internal/presence/n1`);
    });

    it('throws on a cluster name that is not a single topic level', () => {
      for (const name of ['', 'a/b', 'a+', '#', 'a b', 'x'.repeat(65), 'é']) expect(() => new Topics(name), JSON.stringify(name)).to.throw(/cluster\.name/);
    });
  });

  describe('build', () => {
    it('builds every topic under <name>/internal/', () => {
      expect(t.presence('n1')).to.equal(`${I}/presence/n1`);
      expect(t.registry('n1', 'e1', 2, 3)).to.equal(`${I}/registry/n1/e1/2/3`);
      expect(t.session('abc')).to.equal(`${I}/sessions/abc`);
      expect(t.deliver(2, 3)).to.equal(`${I}/deliver/2/3`);
      expect(t.pushes()).to.equal(`${I}/pushes`);
      expect(t.commands()).to.equal(`${I}/commands`);
    });

    it("puts each lane's marker under that lane's own subscription", () => {
      expect(t.sync('sessions')).to.equal(`${I}/sessions/_sync`);
      expect(t.sync('pushes')).to.equal(t.pushes());
    });

    it('puts the ingress under <name>/ingress/, outside the internal subtree', () => {
      expect(t.ingress(2, 3)).to.equal('wsmesh/ingress/2/3');
    });

    it('subscribes for life to presence/+, registry/#, pushes and commands (not to deliveries), and to sessions/+ on the control connection', () => {
      expect(t.subscriptions()).to.deep.equal([`${I}/presence/+`, `${I}/registry/#`, `${I}/pushes`, `${I}/commands`]);
      expect(t.controlSubscriptions()).to.deep.equal([`${I}/sessions/+`]);
    });

    it("adds the questions topic and the node's own answers and receipts topics when given the node", () => {
      expect(t.subscriptions('n1')).to.deep.equal([`${I}/presence/+`, `${I}/registry/#`, `${I}/pushes`, `${I}/commands`, `${I}/queries`, `${I}/answers/n1`, `${I}/receipts/n1`]);
      expect(() => t.answers('a/b')).to.throw(/topic level/);
      expect(() => t.receipts('a/b')).to.throw(/topic level/);
    });

    it('with cluster.fastPath, adds QoS 0 copies: sessions/# on the control connection, <delivery topic>/# per user; nothing else is a copy', () => {
      expect(t.controlSubscriptions(true)).to.deep.equal([`${I}/sessions/+`, `${I}/sessions/#`]);
      expect(t.deliverCopy(1, 2)).to.equal(`${I}/deliver/1/2/#`);
      for (const filter of [t.deliverCopy(1, 2), t.controlCopy()]) expect(t.isCopy(filter), filter).to.equal(true);
      for (const filter of [...t.subscriptions(), ...t.controlSubscriptions(), t.deliver(1, 2), `${I}/registry/#`, `other/internal/sessions/#`]) expect(t.isCopy(filter), filter).to.equal(false);
    });

    it('sends everything under sessions/ over the control connection, nothing else', () => {
      for (const topic of [t.session('ab12'), t.sync('sessions'), t.sessionEnded()]) expect(t.isControl(topic), topic).to.equal(true);
      for (const topic of [t.presence('n1'), t.registry('n1', 'e1', 1, 2), t.deliver(1, 2), t.pushes(), t.sync('pushes'), t.commands()]) expect(t.isControl(topic), topic).to.equal(false);
    });

    it('throws on a node, epoch or session id that is not a valid level', () => {
      for (const bad of ['', 'a/b', '+', '#', 'a+b', 'a#', 'a b', 'x'.repeat(65)]) {
        expect(() => t.presence(bad), `presence ${JSON.stringify(bad)}`).to.throw(/topic level/);
        expect(() => t.registry(bad, 'e1', 1, 1), `registry node ${JSON.stringify(bad)}`).to.throw(/topic level/);
        expect(() => t.registry('n1', bad, 1, 1), `registry epoch ${JSON.stringify(bad)}`).to.throw(/topic level/);
        expect(() => t.session(bad), `session ${JSON.stringify(bad)}`).to.throw(/topic level/);
      }
    });
  });

  describe('parse', () => {
    it('round-trips every kind: parse(build(...)) gives back the parts', () => {
      const cases: Array<[string, ParsedTopic]> = [
        [t.presence('n-1_A'), { kind: 'presence', node: 'n-1_A' }],
        [t.registry('n1', 'e9', 12, 345), { kind: 'registry', node: 'n1', epoch: 'e9', contextId: 12, userId: 345 }],
        [t.session('0123456789abcdef0123456789abcdef'), { kind: 'session', sessionId: '0123456789abcdef0123456789abcdef' }],
        [t.sync('sessions'), { kind: 'sync', lane: 'sessions' }],
        [t.deliver(1, 9007199254740991), { kind: 'deliver', contextId: 1, userId: 9007199254740991 }],
        [t.pushes(), { kind: 'pushes' }],
        [t.commands(), { kind: 'command' }],
        [t.queries(), { kind: 'question' }],
        [t.answers('n-2'), { kind: 'answer', node: 'n-2' }],
        [t.receipts('n-2'), { kind: 'receipt', node: 'n-2' }],
      ];
      for (const [topic, parsed] of cases) expect(t.parse(topic), topic).to.deep.equal(parsed);
    });

    it("parses the pushes lane's marker topic as pushes (markers share that topic with push ids)", () => {
      expect(t.parse(t.sync('pushes'))).to.deep.equal({ kind: 'pushes' });
    });

    it('maps sessions/_ended to the logout confirmations, never to a session', () => {
      expect(t.sessionEnded()).to.equal(`${I}/sessions/_ended`);
      expect(t.parse(`${I}/sessions/_ended`)).to.deep.equal({ kind: 'ended' });
      expect(t.parse(`${I}/sessions/_ended/x`)).to.equal(undefined);
    });

    it('maps sessions/_sync to the sync kind, never to a session', () => {
      expect(t.parse(`${I}/sessions/_sync`)).to.deep.equal({ kind: 'sync', lane: 'sessions' });
      expect(t.parse(`${I}/sessions/_sync2`)).to.deep.equal({ kind: 'session', sessionId: '_sync2' });
    });

    it('refuses extra levels', () => {
      for (const topic of [`${I}/presence/n1/x`, `${I}/registry/n1/e1/1/2/3`, `${I}/sessions/abc/x`, `${I}/sessions/_sync/x`, `${I}/deliver/1/2/3`, `${I}/pushes/x`, `${I}/commands/x`]) {
        expect(t.parse(topic), topic).to.equal(undefined);
      }
    });

    it('refuses missing levels and empty levels', () => {
      for (const topic of [`${I}/presence`, `${I}/presence/`, `${I}/registry/n1/e1/1`, `${I}/registry/n1//1/2`, `${I}/sessions`, `${I}/sessions/`, `${I}/deliver/1`, `${I}/deliver//2`, `${I}`, `${I}/`, `${I}/pushes/`, `${I}/commands/`]) {
        expect(t.parse(topic), topic).to.equal(undefined);
      }
    });

    it('refuses non-numeric, zero, negative, fractional and leading-zero ids', () => {
      for (const id of ['x', '0', '-1', '1.5', '01', '00', '1e3', ' 1', '+1', '0x1', 'NaN']) {
        expect(t.parse(`${I}/deliver/${id}/3`), `deliver ctx ${id}`).to.equal(undefined);
        expect(t.parse(`${I}/deliver/1/${id}`), `deliver user ${id}`).to.equal(undefined);
        expect(t.parse(`${I}/registry/n1/e1/${id}/3`), `registry ctx ${id}`).to.equal(undefined);
        expect(t.parse(`${I}/registry/n1/e1/1/${id}`), `registry user ${id}`).to.equal(undefined);
      }
    });

    it('refuses ids beyond Number.MAX_SAFE_INTEGER (they would parse to another number)', () => {
      for (const id of ['9007199254740992', '9007199254740993', '9999999999999999', '12345678901234567']) {
        expect(t.parse(`${I}/deliver/1/${id}`), `deliver ${id}`).to.equal(undefined);
        expect(t.parse(`${I}/registry/n1/e1/${id}/3`), `registry ${id}`).to.equal(undefined);
      }
    });

    it('refuses node, epoch and session levels with characters outside [A-Za-z0-9_-] or longer than 64', () => {
      for (const level of ['a+b', 'a#', 'a b', 'é', 'x'.repeat(65), 'a.b']) {
        expect(t.parse(`${I}/presence/${level}`), `presence ${level}`).to.equal(undefined);
        expect(t.parse(`${I}/registry/${level}/e1/1/2`), `registry node ${level}`).to.equal(undefined);
        expect(t.parse(`${I}/registry/n1/${level}/1/2`), `registry epoch ${level}`).to.equal(undefined);
        expect(t.parse(`${I}/sessions/${level}`), `session ${level}`).to.equal(undefined);
      }
    });

    it("refuses another cluster's topics, also one whose name extends this one's", () => {
      const other = new Topics('other');
      expect(t.parse(other.presence('n1'))).to.equal(undefined);
      expect(t.parse(new Topics('wsmesh2').presence('n1'))).to.equal(undefined);
      expect(t.parse(new Topics('wsmes').commands())).to.equal(undefined);
      expect(other.parse(t.commands())).to.equal(undefined);
    });

    it('refuses the ingress subtree (not node traffic) and topics outside internal/', () => {
      expect(t.parse(t.ingress(1, 3))).to.equal(undefined);
      expect(t.parse('wsmesh/presence/n1')).to.equal(undefined);
      expect(t.parse('wsmesh/internal2/presence/n1')).to.equal(undefined);
      expect(t.parse('/wsmesh/internal/pushes')).to.equal(undefined);
    });

    it('refuses unknown kinds under internal/ and case variants of known ones', () => {
      for (const kind of ['unknown', 'Presence', 'PUSHES', 'command', 'session', 'sync']) expect(t.parse(`${I}/${kind}`), kind).to.equal(undefined);
    });

    it('refuses subscription filters themselves (+ and # are not levels)', () => {
      for (const filter of t.subscriptions().filter((s) => /[+#]/.test(s))) expect(t.parse(filter), filter).to.equal(undefined);
    });
  });
});
