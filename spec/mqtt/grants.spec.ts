import { expect } from 'chai';
import { filterWithin, grantsOf, mayPublish, maySubscribe, topicMatches, type Grants } from '../../src/mqtt/grants.ts';
import { seeded, type Random } from '../support/random.ts';

const ROOT = 'wsmesh';

describe('mqtt grants', () => {
  describe('#grantsOf', () => {
    it('lets a node publish internal and egress, and subscribe internal and ingress', () => {
      expect(grantsOf({ kind: 'node' }, ROOT)).to.deep.equal({
        publish: ['wsmesh/internal/#', 'wsmesh/egress/#'],
        subscribe: ['wsmesh/internal/#', 'wsmesh/ingress/#'],
      });
    });

    it('lets a backend publish to any ingress and subscribe to egress', () => {
      expect(grantsOf({ kind: 'backend' }, ROOT)).to.deep.equal({ publish: ['wsmesh/ingress/#'], subscribe: ['wsmesh/egress/#'] });
    });

    it("lets a device publish to each of its users' ingress, and subscribe to nothing", () => {
      expect(grantsOf({ kind: 'device', context: 1, users: [3, 4] }, ROOT)).to.deep.equal({
        publish: ['wsmesh/ingress/1/3/#', 'wsmesh/ingress/1/4/#'],
        subscribe: [],
      });
    });

    it('lets a device with users "*" publish to every user of its context', () => {
      expect(grantsOf({ kind: 'device', context: 7, users: '*' }, ROOT)).to.deep.equal({ publish: ['wsmesh/ingress/7/#'], subscribe: [] });
    });

    it("puts every filter under the cluster's root", () => {
      const grants = [grantsOf({ kind: 'node' }, 'eu-1'), grantsOf({ kind: 'backend' }, 'eu-1'), grantsOf({ kind: 'device', context: 1, users: [3] }, 'eu-1')];
      for (const filter of grants.flatMap((g) => [...g.publish, ...g.subscribe])) expect(filter).to.match(/^eu-1\//);
    });
  });

  describe('#topicMatches', () => {
    const TABLE: Array<[filter: string, topic: string, matches: boolean]> = [
      ['a/b', 'a/b', true],
      ['a/b', 'a/c', false],
      ['a/b', 'a', false],
      ['a/b', 'a/b/c', false],
      ['a/b', 'A/b', false],
      // `+`: exactly one level, an empty one included
      ['a/+', 'a/b', true],
      ['a/+', 'a/', true],
      ['a/+', 'a', false],
      ['a/+', 'a/b/c', false],
      ['+/+', '/b', true],
      ['+', 'a', true],
      ['+', '/a', false],
      ['a/+/c', 'a/b/c', true],
      ['a/+/c', 'a/b/d', false],
      // `#`: any number of levels, its parent included (MQTT 3.1.1 section 4.7.1.2)
      ['a/#', 'a', true],
      ['a/#', 'a/b', true],
      ['a/#', 'a/b/c', true],
      ['a/#', 'a/', true],
      ['a/#', 'ab', false],
      ['a/#', 'b/a', false],
      ['#', 'a', true],
      ['#', 'a/b/c', true],
      ['#', '/a', true],
      ['a/b/#', 'a', false],
      ['+/#', 'a', true],
      ['+/#', 'a/b', true],
      // `$` topics are not matched by a filter starting with a wildcard (section 4.7.2)
      ['#', '$SYS/broker', false],
      ['+/broker', '$SYS/broker', false],
      ['+/#', '$SYS', false],
      ['$SYS/#', '$SYS/broker', true],
      ['$SYS/+', '$SYS/broker', true],
      ['a/#', 'a/$x', true],
      ['a/+', 'a/$x', true],
    ];
    for (const [filter, topic, matches] of TABLE) {
      it(`${matches ? 'matches' : 'does not match'} ${JSON.stringify(topic)} with ${JSON.stringify(filter)}`, () => {
        expect(topicMatches(filter, topic)).to.equal(matches);
      });
    }
  });

  describe('#filterWithin', () => {
    const TABLE: Array<[grant: string, filter: string, within: boolean]> = [
      ['a/#', 'a/#', true],
      ['a/#', 'a', true],
      ['a/#', 'a/b', true],
      ['a/#', 'a/+', true],
      ['a/#', 'a/+/c', true],
      ['a/#', 'a/b/#', true],
      ['a/#', '#', false],
      ['a/#', '+', false],
      ['a/#', '+/#', false],
      ['a/#', 'b/#', false],
      ['a/#', 'ab', false],
      ['a/+', 'a/b', true],
      ['a/+', 'a/+', true],
      ['a/+', 'a/#', false],
      ['a/+', 'a', false],
      ['a/+', 'a/b/c', false],
      ['a/b', 'a/b', true],
      ['a/b', 'a/+', false],
      ['a/b', 'a/b/#', false],
      ['a/b/#', 'a/#', false],
      ['#', '#', true],
      ['#', 'a/+/#', true],
      // `$` filters: only a grant spelling out the same first level covers them
      ['#', '$SYS/#', false],
      ['+/#', '$SYS/broker', false],
      ['$SYS/#', '$SYS/broker', true],
      // a shared subscription is within nothing
      ['a/#', '$share/g/a/b', false],
      ['#', '$share/g/a/b', false],
      ['$share/#', '$share/g/a/b', false],
      ['+/+/a/b', '$share/g/a/b', false],
    ];
    for (const [grant, filter, within] of TABLE) {
      it(`${within ? 'puts' : 'does not put'} ${JSON.stringify(filter)} within ${JSON.stringify(grant)}`, () => {
        expect(filterWithin(grant, filter)).to.equal(within);
      });
    }

    // The property enforcement relies on: a subscription allowed inside a grant
    // never receives a topic the grant does not cover.
    it('never puts a filter within a grant that misses one of its topics (5,000 random pairs, seed 42)', () => {
      const random = seeded(42);
      const topics = Array.from({ length: 400 }, () => randomTopic(random));
      const counts = { pairs: 0, within: 0, topicsChecked: 0, matchedByFilter: 0 };
      for (let n = 0; n < 5_000; n++) {
        const grant = randomFilter(random);
        const filter = randomFilter(random);
        counts.pairs++;
        if (!filterWithin(grant, filter)) continue;
        counts.within++;
        for (const topic of topics) {
          counts.topicsChecked++;
          if (!topicMatches(filter, topic)) continue;
          counts.matchedByFilter++;
          // A plain check: chai on each of these tens of thousands would dominate the run.
          if (!topicMatches(grant, topic)) expect.fail(`case ${n}: ${JSON.stringify(filter)} within ${JSON.stringify(grant)}, but ${JSON.stringify(topic)} matches only the filter`);
        }
      }
      console.log(
        `      checked ${counts.pairs} (grant, filter) pairs, ${counts.within} within; ` +
          `${counts.topicsChecked} topics against them, ${counts.matchedByFilter} matched by the filter and so by the grant`,
      );
      expect(counts.within).to.be.above(200);
      expect(counts.matchedByFilter).to.be.above(1000);
    });

    it('puts every filter within itself, and within "#" unless it is a $ filter (2,000 random filters, seed 43)', () => {
      const random = seeded(43);
      for (let n = 0; n < 2_000; n++) {
        const filter = randomFilter(random);
        expect(filterWithin(filter, filter), filter).to.equal(true);
        expect(filterWithin('#', filter), filter).to.equal(!filter.startsWith('$'));
      }
    });
  });

  describe('#mayPublish and #maySubscribe', () => {
    const device: Grants = grantsOf({ kind: 'device', context: 1, users: [3] }, ROOT);
    const node: Grants = grantsOf({ kind: 'node' }, ROOT);
    const backend: Grants = grantsOf({ kind: 'backend' }, ROOT);

    it("lets a device publish to its user's ingress topic, with or without a path", () => {
      expect(mayPublish(device, 'wsmesh/ingress/1/3')).to.equal(true);
      expect(mayPublish(device, 'wsmesh/ingress/1/3/ws/mail')).to.equal(true);
      expect(mayPublish(device, 'wsmesh/ingress/1/3/*')).to.equal(true);
    });

    it("refuses a device another user's, another context's or another cluster's ingress", () => {
      for (const topic of ['wsmesh/ingress/1/4', 'wsmesh/ingress/1/33', 'wsmesh/ingress/2/3', 'wsmesh/ingress/1', 'other/ingress/1/3', 'wsmesh/internal/deliver/1/3', 'wsmesh/egress/1/3']) {
        expect(mayPublish(device, topic), topic).to.equal(false);
      }
    });

    it('lets a device subscribe to nothing', () => {
      for (const filter of ['wsmesh/ingress/1/3', 'wsmesh/egress/#', '#']) expect(maySubscribe(device, filter), filter).to.equal(false);
    });

    it('lets a node publish internal and egress topics only', () => {
      expect(mayPublish(node, 'wsmesh/internal/deliver/1/3')).to.equal(true);
      expect(mayPublish(node, 'wsmesh/egress/1/3')).to.equal(true);
      expect(mayPublish(node, 'wsmesh/ingress/1/3')).to.equal(false);
    });

    it('lets a node subscribe inside internal and ingress, not to everything', () => {
      expect(maySubscribe(node, 'wsmesh/internal/#')).to.equal(true);
      expect(maySubscribe(node, 'wsmesh/internal/deliver/+/+')).to.equal(true);
      expect(maySubscribe(node, 'wsmesh/ingress/#')).to.equal(true);
      expect(maySubscribe(node, 'wsmesh/#')).to.equal(false);
      expect(maySubscribe(node, '#')).to.equal(false);
      expect(maySubscribe(node, 'wsmesh/egress/#')).to.equal(false);
      expect(maySubscribe(node, '$share/g/wsmesh/ingress/#')).to.equal(false);
    });

    it('lets a backend publish to any ingress and subscribe inside egress only', () => {
      expect(mayPublish(backend, 'wsmesh/ingress/9/9/ws')).to.equal(true);
      expect(mayPublish(backend, 'wsmesh/internal/commands')).to.equal(false);
      expect(maySubscribe(backend, 'wsmesh/egress/+/3')).to.equal(true);
      expect(maySubscribe(backend, 'wsmesh/ingress/#')).to.equal(false);
    });

    it('allows nothing with no grants', () => {
      expect(mayPublish({ publish: [], subscribe: [] }, 'a')).to.equal(false);
      expect(maySubscribe({ publish: [], subscribe: [] }, 'a')).to.equal(false);
    });
  });
});

/**
 * Levels of random filters: the brief's small alphabet, plus `$a` so the `$` rule is
 * exercised. `#` is only ever the last level, as MQTT requires of a filter.
 */
const FILTER_LEVELS = ['a', 'b', '+', '#', '', '$a'];
const TOPIC_LEVELS = ['a', 'b', '', '$a'];

function randomFilter(random: Random): string {
  const levels: string[] = [];
  const length = 1 + random.int(4);
  for (let i = 0; i < length; i++) {
    const level = random.pick(FILTER_LEVELS);
    levels.push(level);
    if (level === '#') break;
  }
  return levels.join('/');
}

function randomTopic(random: Random): string {
  return Array.from({ length: 1 + random.int(5) }, () => random.pick(TOPIC_LEVELS)).join('/');
}
