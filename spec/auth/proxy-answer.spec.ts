import { expect } from 'chai';
import { parseRetryAfter, readProxyAnswer, unavailable } from '../../src/auth/proxy-answer.ts';

const NOW = Date.UTC(2030, 0, 1); // 1893456000000
const noHeaders = { get: () => null };

function headers(values: Record<string, string>): { get(name: string): string | null } {
  return { get: (name) => values[name.toLowerCase()] ?? null };
}

function answer200(value: unknown): ReturnType<typeof readProxyAnswer> {
  return readProxyAnswer(200, noHeaders, typeof value === 'string' ? value : JSON.stringify(value), NOW);
}

describe('readProxyAnswer', () => {
  describe('a 200', () => {
    it('admits the user with only the required ids', () => {
      expect(answer200({ userId: 42, contextId: 7 })).to.deep.equal({ ok: true, identity: { source: 'proxy', userId: 42, contextId: 7 } });
    });

    it('carries sessionId, expiresAt and config', () => {
      const config = { 'websockets.enabled': false };
      expect(answer200({ userId: 1, contextId: 2, sessionId: 's-1', expiresAt: NOW + 60_000, config })).to.deep.equal({
        ok: true,
        identity: { source: 'proxy', userId: 1, contextId: 2, sessionId: 's-1', expiresAt: NOW + 60_000, config },
      });
    });

    it('ignores fields it does not know (the app may send more)', () => {
      expect(answer200({ userId: 1, contextId: 2, displayName: 'Ada', roles: ['x'] })).to.deep.equal({ ok: true, identity: { source: 'proxy', userId: 1, contextId: 2 } });
    });

    it('takes null optionals for absent ones', () => {
      expect(answer200({ userId: 1, contextId: 2, sessionId: null, expiresAt: null, config: null })).to.deep.equal({
        ok: true,
        identity: { source: 'proxy', userId: 1, contextId: 2 },
      });
    });

    it('admits the largest safe integer as an id', () => {
      expect(answer200({ userId: Number.MAX_SAFE_INTEGER, contextId: 1 })).to.include({ ok: true });
    });

    const badIds: Array<[string, string]> = [
      ['0', '0'],
      ['-1', '-1'],
      ['a string', '"abc"'],
      ['a numeric string', '"42"'],
      ['a fraction', '1.5'],
      ['2^60 (not a safe integer)', '1152921504606846976'],
      ['2^53', '9007199254740992'],
      ['null', 'null'],
      ['true', 'true'],
      ['an object', '{"id": 1}'],
    ];
    for (const [what, raw] of badIds) {
      it(`refuses a userId of ${what} as unavailable`, () => {
        expect(answer200(`{"userId": ${raw}, "contextId": 7}`)).to.deep.equal(unavailable('the connect proxy answered a userId that is not a positive integer'));
      });
      it(`refuses a contextId of ${what} as unavailable`, () => {
        expect(answer200(`{"userId": 42, "contextId": ${raw}}`)).to.deep.equal(unavailable('the connect proxy answered a contextId that is not a positive integer'));
      });
    }
    it('refuses an answer without userId or contextId', () => {
      expect(answer200({ contextId: 7 })).to.include({ ok: false, code: 'ERR_AUTH_UNAVAILABLE' });
      expect(answer200({ userId: 7 })).to.include({ ok: false, code: 'ERR_AUTH_UNAVAILABLE' });
    });

    const notAnswers: Array<[string, string]> = [
      ['an empty body', ''],
      ['HTML', '<html>Login</html>'],
      ['truncated JSON', '{"userId": 42,'],
      ['an array', '[{"userId": 1, "contextId": 1}]'],
      ['null', 'null'],
      ['a number', '42'],
      ['a string', '"42"'],
    ];
    for (const [what, body] of notAnswers) {
      it(`refuses ${what} as unavailable, with retryAfter 1`, () => {
        expect(answer200(body)).to.include({ ok: false, code: 'ERR_AUTH_UNAVAILABLE', retryAfter: 1 });
      });
    }

    it('never quotes the body in its reason', () => {
      for (const body of ['<html>SECRET</html>', '{"userId": "SECRET", "contextId": 1}', '{"userId": 1, "contextId": 1, "sessionId": {"SECRET": 1}}']) {
        const outcome = answer200(body);
        expect(outcome.ok).to.equal(false);
        expect(JSON.stringify(outcome)).not.to.include('SECRET');
      }
    });

    for (const bad of [1, true, '', { id: 's' }, ['s']]) {
      it(`refuses a sessionId of ${JSON.stringify(bad)}`, () => {
        expect(answer200({ userId: 1, contextId: 1, sessionId: bad })).to.include({ ok: false, code: 'ERR_AUTH_UNAVAILABLE' });
      });
    }

    for (const bad of ['off', 1, true, ['websockets.enabled']]) {
      it(`refuses a config of ${JSON.stringify(bad)}`, () => {
        expect(answer200({ userId: 1, contextId: 1, config: bad })).to.include({ ok: false, code: 'ERR_AUTH_UNAVAILABLE' });
      });
    }

    it('drops a __proto__ key of config, so merging it cannot change a prototype', () => {
      const outcome = answer200('{"userId": 1, "contextId": 1, "config": {"__proto__": {"polluted": true}, "websockets.enabled": false}}');
      if (!outcome.ok) throw new Error(outcome.reason);
      const config = outcome.identity.config!;
      expect(Object.keys(config)).to.deep.equal(['websockets.enabled']);
      expect(Object.getPrototypeOf(config)).to.equal(Object.prototype);
      expect((Object.assign({}, config) as Record<string, unknown>).polluted).to.equal(undefined);
    });
  });

  describe('a 200 with expiresAt', () => {
    const forms: Array<[string, unknown, number]> = [
      ['epoch ms', NOW + 1000, NOW + 1000],
      ['epoch ms with a fraction', NOW + 1000.5, NOW + 1000.5],
      ['an ISO string in UTC', '2030-01-01T00:00:01Z', NOW + 1000],
      ['an ISO string with ms', '2030-01-01T00:00:01.250Z', NOW + 1250],
      ['an ISO string with an offset', '2030-01-01T01:00:01+01:00', NOW + 1000],
      ['an ISO string without seconds', '2030-01-01T00:01Z', NOW + 60_000],
    ];
    for (const [what, value, expected] of forms) {
      it(`reads ${what}`, () => {
        const outcome = answer200({ userId: 1, contextId: 1, expiresAt: value });
        expect(outcome.ok && outcome.identity.expiresAt).to.equal(expected);
      });
    }

    const malformed: Array<[string, unknown]> = [
      ['an ISO string without a zone (local time would differ between nodes)', '2030-01-01T00:00:01'],
      ['a date only', '2030-01-02'],
      ['an HTTP-date', 'Wed, 02 Jan 2030 00:00:00 GMT'],
      ['an impossible date', '2030-13-45T00:00:00Z'],
      ['digits in a string', String(NOW + 1000)],
      ['epoch seconds (a common mistake)', Math.floor(NOW / 1000) + 60],
      ['a boolean', true],
      ['an object', { at: NOW }],
    ];
    for (const [what, value] of malformed) {
      it(`refuses ${what} as unavailable`, () => {
        expect(answer200({ userId: 1, contextId: 1, expiresAt: value })).to.include({ ok: false, code: 'ERR_AUTH_UNAVAILABLE' });
      });
    }

    it('names the seconds-for-milliseconds mistake in the reason', () => {
      const outcome = answer200({ userId: 1, contextId: 1, expiresAt: 1_900_000_000 });
      expect(!outcome.ok && outcome.reason).to.match(/epoch seconds/);
    });

    it('refuses an expiresAt that is now or past with ERR_SESSION_UNKNOWN', () => {
      expect(answer200({ userId: 1, contextId: 1, expiresAt: NOW })).to.include({ ok: false, code: 'ERR_SESSION_UNKNOWN' });
      expect(answer200({ userId: 1, contextId: 1, expiresAt: '2029-12-31T23:59:59Z' })).to.include({ ok: false, code: 'ERR_SESSION_UNKNOWN' });
      expect(answer200({ userId: 1, contextId: 1, expiresAt: NOW + 1 })).to.include({ ok: true });
    });
  });

  describe('other statuses', () => {
    it('refuses a 401 with ERR_SESSION_UNKNOWN, whatever the body', () => {
      const outcome = readProxyAnswer(401, noHeaders, '{"userId": 1, "contextId": 1}', NOW);
      expect(outcome).to.include({ ok: false, code: 'ERR_SESSION_UNKNOWN' });
      expect(outcome).not.to.have.property('retryAfter');
    });

    it('refuses a 403 with ERR_DISABLED', () => {
      const outcome = readProxyAnswer(403, noHeaders, '', NOW);
      expect(outcome).to.include({ ok: false, code: 'ERR_DISABLED' });
      expect(outcome).not.to.have.property('retryAfter');
    });

    for (const status of [201, 204, 206, 301, 302, 303, 307, 308, 400, 404, 405, 407, 408, 418, 429, 500, 502, 503, 504]) {
      it(`refuses a ${status} as unavailable, with retryAfter 1`, () => {
        expect(readProxyAnswer(status, noHeaders, '{"userId": 1, "contextId": 1}', NOW)).to.include({ ok: false, code: 'ERR_AUTH_UNAVAILABLE', retryAfter: 1 });
      });
    }

    it('says a redirect was not followed', () => {
      const outcome = readProxyAnswer(302, headers({ location: 'https://login.example/' }), '', NOW);
      expect(!outcome.ok && outcome.reason).to.equal('the connect proxy redirected (not followed) with status 302');
    });

    it("takes a 503's Retry-After", () => {
      expect(readProxyAnswer(503, headers({ 'retry-after': '12' }), '', NOW)).to.include({ code: 'ERR_AUTH_UNAVAILABLE', retryAfter: 12 });
    });

    it("takes a 429's Retry-After", () => {
      expect(readProxyAnswer(429, headers({ 'retry-after': '5' }), '', NOW)).to.include({ code: 'ERR_AUTH_UNAVAILABLE', retryAfter: 5 });
    });

    it("ignores Retry-After on a 500 and on a 3xx (where it means something else)", () => {
      expect(readProxyAnswer(500, headers({ 'retry-after': '12' }), '', NOW)).to.include({ retryAfter: 1 });
      expect(readProxyAnswer(301, headers({ 'retry-after': '12' }), '', NOW)).to.include({ retryAfter: 1 });
    });

    it('falls back to 1 s for a malformed Retry-After on a 503', () => {
      expect(readProxyAnswer(503, headers({ 'retry-after': 'later' }), '', NOW)).to.include({ retryAfter: 1 });
    });
  });
});

describe('parseRetryAfter', () => {
  const table: Array<[string | null, number | undefined]> = [
    [null, undefined],
    ['', undefined],
    ['soon', undefined],
    ['-5', undefined],
    ['1.5', undefined],
    ['30', 30],
    [' 30 ', 30],
    ['0', 1],
    ['3600', 3600],
    ['86400', 3600],
    ['99999999999999999999999', 3600],
    ['Tue, 01 Jan 2030 00:00:42 GMT', 42],
    ['Tue, 01 Jan 2030 00:00:00 GMT', 1],
    ['Mon, 31 Dec 2029 00:00:00 GMT', 1],
    ['Wed, 02 Jan 2030 00:00:00 GMT', 3600],
    ['2030-01-01T00:00:42Z', undefined],
    ['Tuesday, 01-Jan-30 00:00:42 GMT', undefined],
  ];
  for (const [value, expected] of table) {
    it(`reads ${JSON.stringify(value)} as ${expected}`, () => expect(parseRetryAfter(value, NOW)).to.equal(expected));
  }
});
