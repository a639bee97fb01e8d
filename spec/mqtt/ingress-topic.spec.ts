import { expect } from 'chai';
import { compilePathFilter } from '../../src/delivery/path-filter.ts';
import { parseIngressTopic, type IngressTarget } from '../../src/mqtt/ingress-topic.ts';
import { seeded } from '../support/random.ts';

const PREFIX = 'wsmesh/ingress/';

describe('mqtt ingress topic', () => {
  describe('#parseIngressTopic', () => {
    const TARGETS: Array<[topic: string, target: IngressTarget]> = [
      ['wsmesh/ingress/1/3', { contextId: 1, userId: 3, pathFilter: null }],
      ['wsmesh/ingress/1/3/ws/mail', { contextId: 1, userId: 3, pathFilter: '/ws/mail' }],
      ['wsmesh/ingress/1/3/ws/mail/*', { contextId: 1, userId: 3, pathFilter: '/ws/mail/*' }],
      ['wsmesh/ingress/1/3/*', { contextId: 1, userId: 3, pathFilter: '/*' }],
      ['wsmesh/ingress/1/3/ws', { contextId: 1, userId: 3, pathFilter: '/ws' }],
      ['wsmesh/ingress/1/3/socket.io/app_suite-2', { contextId: 1, userId: 3, pathFilter: '/socket.io/app_suite-2' }],
      ['wsmesh/ingress/1/3/...', { contextId: 1, userId: 3, pathFilter: '/...' }],
      ['wsmesh/ingress/42/1000000/a', { contextId: 42, userId: 1000000, pathFilter: '/a' }],
      ['wsmesh/ingress/9007199254740991/9007199254740991', { contextId: Number.MAX_SAFE_INTEGER, userId: Number.MAX_SAFE_INTEGER, pathFilter: null }],
    ];
    for (const [topic, target] of TARGETS) {
      it(`reads ${topic} as ${JSON.stringify(target)}`, () => {
        expect(parseIngressTopic(topic, PREFIX)).to.deep.equal(target);
      });
    }

    it('reads the ids and path under any prefix it is given', () => {
      expect(parseIngressTopic('eu-1/ingress/2/5/x', 'eu-1/ingress/')).to.deep.equal({ contextId: 2, userId: 5, pathFilter: '/x' });
    });

    const TOPIC_PROBLEMS: Array<[what: string, topic: string]> = [
      ['another prefix', 'other/ingress/1/3'],
      ['the prefix without its slash', 'wsmesh/ingress'],
      ['nothing after the prefix', 'wsmesh/ingress/'],
      ['no user', 'wsmesh/ingress/1'],
      ['an empty user', 'wsmesh/ingress/1/'],
      ['an empty context', 'wsmesh/ingress//3'],
      ['a context 0', 'wsmesh/ingress/0/3'],
      ['a user 0', 'wsmesh/ingress/1/0'],
      ['a context with a leading zero', 'wsmesh/ingress/01/3'],
      ['a user with a leading zero', 'wsmesh/ingress/1/03'],
      ['a negative context', 'wsmesh/ingress/-1/3'],
      ['a user with a plus sign', 'wsmesh/ingress/1/+3'],
      ['a 17-digit context', 'wsmesh/ingress/12345678901234567/3'],
      ['a 16-digit user past 2^53', 'wsmesh/ingress/1/9007199254740993'],
      ['a context that is a word', 'wsmesh/ingress/abc/3'],
      ['a user that is a word', 'wsmesh/ingress/1/alice'],
      ['a fractional user', 'wsmesh/ingress/1/3.5'],
      ['an exponent', 'wsmesh/ingress/1e3/3'],
      ['a hex context', 'wsmesh/ingress/0x1/3'],
      ['a wildcard user', 'wsmesh/ingress/1/+'],
      ['a user with a space', 'wsmesh/ingress/1/ 3'],
      ['Arabic-Indic digits', 'wsmesh/ingress/\u0661/3'],
    ];
    for (const [what, topic] of TOPIC_PROBLEMS) {
      it(`says "topic" for ${what} (${JSON.stringify(topic)})`, () => {
        expect(parseIngressTopic(topic, PREFIX)).to.deep.equal({ problem: 'topic' });
      });
    }

    const PATH_PROBLEMS: Array<[what: string, topic: string]> = [
      ['an empty segment', 'wsmesh/ingress/1/3//x'],
      ['an empty first segment', 'wsmesh/ingress/1/3//'],
      ['a trailing slash', 'wsmesh/ingress/1/3/'],
      ['a trailing slash after a segment', 'wsmesh/ingress/1/3/ws/'],
      ['a space in a segment', 'wsmesh/ingress/1/3/ws mail'],
      ['a unicode segment', 'wsmesh/ingress/1/3/caf\u00e9'],
      ['a percent-encoded segment', 'wsmesh/ingress/1/3/a%20b'],
      ['a query', 'wsmesh/ingress/1/3/ws?x=1'],
      ['a "+" segment', 'wsmesh/ingress/1/3/+'],
      ['a "#" segment', 'wsmesh/ingress/1/3/#'],
      ['"*" not last', 'wsmesh/ingress/1/3/*/mail'],
      ['"*" twice', 'wsmesh/ingress/1/3/*/*'],
      ['"*" inside a segment', 'wsmesh/ingress/1/3/ws/ma*'],
      ['"**"', 'wsmesh/ingress/1/3/ws/**'],
      ['a wildcard after an empty segment', 'wsmesh/ingress/1/3/ws//*'],
      ['a ".." segment', 'wsmesh/ingress/1/3/..'],
      ['a "." segment', 'wsmesh/ingress/1/3/ws/./mail'],
      ['a ".." segment before a wildcard', 'wsmesh/ingress/1/3/ws/../*'],
    ];
    for (const [what, topic] of PATH_PROBLEMS) {
      it(`says "path" for ${what} (${JSON.stringify(topic)})`, () => {
        expect(parseIngressTopic(topic, PREFIX)).to.deep.equal({ problem: 'path' });
      });
    }

    // Devices write these topics: whatever arrives, the parse answers with a target the
    // delivery accepts or a problem, and never throws into the broker's handler.
    it('never throws, and gives a deliverable target or a problem, for 10,000 random topics (seed 2024)', () => {
      const random = seeded(2024);
      const LEVELS: Array<() => string> = [
        () => String(1 + random.int(1000)),
        () => String(random.int(10) ** random.int(20)),
        () => random.pick(['0', '01', '-1', '1.5', '1e3', '12345678901234567', '9007199254740991', '9007199254740993', 'abc']),
        () => random.pick(['ws', 'mail', 'socket.io', 'a_b-c.d', '..', '.']),
        () => random.pick(['', '*', '+', '#', '**', 'a*', ' ', 'é', '\u{1f600}', '\u0000', '%2F', 'ws?x', '\\']),
      ];
      /** Rare, or the run is mostly string copying: up to past MQTT's 65,535-byte topic limit. */
      const long = (): string => 'x'.repeat(1 + random.int(70_000));
      const counts = { target: 0, withPath: 0, topic: 0, path: 0 };
      /** The outcome's name, or what is wrong with it (plain checks: chai per case would dominate the run). */
      const check = (topic: string): keyof typeof counts | { wrong: string } => {
        let result: ReturnType<typeof parseIngressTopic>;
        try {
          result = parseIngressTopic(topic, PREFIX);
        } catch (err) {
          return { wrong: `threw ${(err as Error).message}` };
        }
        if ('problem' in result) return result.problem === 'topic' || result.problem === 'path' ? result.problem : { wrong: `unknown problem ${String(result.problem)}` };
        const { contextId, userId, pathFilter } = result;
        if (!Number.isSafeInteger(contextId) || contextId < 1 || !Number.isSafeInteger(userId) || userId < 1) return { wrong: `bad ids ${contextId}/${userId}` };
        // The ids and path read back into the very topic: nothing dropped or rounded.
        if (topic !== `${PREFIX}${contextId}/${userId}${pathFilter ?? ''}`) return { wrong: `the target ${JSON.stringify(result).slice(0, 200)} does not spell the topic` };
        if (pathFilter === null) return 'target';
        try {
          compilePathFilter(pathFilter);
        } catch (err) {
          return { wrong: `a path filter the delivery refuses: ${(err as Error).message}` };
        }
        return 'withPath';
      };
      for (let n = 0; n < 10_000; n++) {
        const levels = Array.from({ length: random.int(7) }, () => (random.int(50) === 0 ? long() : random.pick(LEVELS)()));
        // Most topics get two plausible ids first, so the path part is reached often.
        if (random.next() < 0.7) levels.unshift(String(1 + random.int(99)), String(1 + random.int(99)));
        // Mostly under the prefix, sometimes not, sometimes cut inside it.
        const head = random.int(10) === 0 ? random.pick(['', 'wsmesh/', 'wsmesh/ingres/', 'other/ingress/']) : PREFIX;
        const topic = head + levels.join('/');
        const outcome = check(topic);
        if (typeof outcome === 'object') expect.fail(`case ${n}: ${outcome.wrong}: ${JSON.stringify(topic.length > 200 ? `${topic.slice(0, 200)}...` : topic)}`);
        counts[outcome]++;
        if (outcome === 'withPath') counts.target++;
      }
      console.log(
        `      parsed 10000 topics: ${counts.target} targets (${counts.withPath} with a path filter), ` +
          `${counts.topic} "topic" problems, ${counts.path} "path" problems`,
      );
      expect(counts.target).to.be.above(200);
      expect(counts.withPath).to.be.above(50);
      expect(counts.path).to.be.above(200);
    });
  });
});
