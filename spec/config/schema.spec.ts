import { expect } from 'chai';
import { FORMATS } from '../../src/config/formats.ts';
import { coerce, genericEnvName, isSection, KEYS, validateValue } from '../../src/config/schema.ts';

describe('config schema', () => {
  describe('#genericEnvName', () => {
    const cases: Array<[string, string]> = [
      ['server.port', 'WSMESH_SERVER_PORT'],
      ['server.shutdownTimeout', 'WSMESH_SERVER_SHUTDOWN_TIMEOUT'],
      ['websockets.maxSocketsPerUser', 'WSMESH_WEBSOCKETS_MAX_SOCKETS_PER_USER'],
      ['websockets.remote.delayDuration', 'WSMESH_WEBSOCKETS_REMOTE_DELAY_DURATION'],
      ['session.ipCheck', 'WSMESH_SESSION_IP_CHECK'],
    ];
    for (const [key, env] of cases) {
      it(`maps ${key} to ${env}`, () => {
        expect(genericEnvName(key)).to.equal(env);
      });
    }
  });

  describe('KEYS', () => {
    it('uses the listed env variable when a key has one, else the generic name', () => {
      expect(KEYS.get('server.host')!.env).to.equal('WSMESH_HOST');
      expect(KEYS.get('server.port')!.env).to.equal('WSMESH_PORT');
      expect(KEYS.get('server.route')!.env).to.equal('WSMESH_ROUTE');
      expect(KEYS.get('log.level')!.env).to.equal('WSMESH_LOG_LEVEL');
      expect(KEYS.get('session.maxAge')!.env).to.equal('WSMESH_SESSION_MAX_AGE');
    });

    it('gives every key its generic flag, and the short flag first when it has one', () => {
      expect(KEYS.get('server.port')!.flags).to.deep.equal(['--port', '--server.port']);
      expect(KEYS.get('node.id')!.flags).to.deep.equal(['--node-id', '--node.id']);
      expect(KEYS.get('websockets.maxSocketsPerUser')!.flags).to.deep.equal(['--websockets.maxSocketsPerUser']);
    });

    it('has no two keys sharing an env variable or a flag', () => {
      const envs = [...KEYS.values()].map((spec) => spec.env);
      const flags = [...KEYS.values()].flatMap((spec) => spec.flags);
      expect(new Set(envs).size).to.equal(envs.length);
      expect(new Set(flags).size).to.equal(flags.length);
    });

    it('has defaults that pass their own format', () => {
      for (const spec of KEYS.values()) {
        expect(() => validateValue(spec.key, spec.entry.default), spec.key).not.to.throw();
        expect(FORMATS).to.have.property(spec.entry.format);
      }
    });
  });

  describe('#isSection', () => {
    it('is true for a prefix of keys and false for a key or a stranger', () => {
      expect(isSection('websockets')).to.equal(true);
      expect(isSection('websockets.remote')).to.equal(true);
      expect(isSection('websockets.remote.delayDuration')).to.equal(false);
      expect(isSection('bogus')).to.equal(false);
    });
  });

  describe('#coerce', () => {
    const cases: Array<[string, string, unknown]> = [
      ['server.port', '9000', 9000],
      ['server.port', ' 9000 ', 9000],
      ['server.port', '90x', '90x'],
      ['session.ipCheck', 'false', false],
      ['session.ipCheck', 'TRUE', true],
      ['session.ipCheck', 'yes', 'yes'],
      ['websockets.paths', '/a, /b,', ['/a', '/b']],
      ['session.keys', '', []],
      ['server.host', ' h ', ' h '],
    ];
    for (const [key, raw, typed] of cases) {
      it(`turns ${JSON.stringify(raw)} into ${JSON.stringify(typed)} for ${key}`, () => {
        expect(coerce(key, raw)).to.deep.equal(typed);
      });
    }
  });

  describe('#validateValue', () => {
    const bad: Array<[string, unknown, RegExp]> = [
      ['server.port', 70000, /from 0 to 65535/],
      ['session.maxAge', 0, />= 1/],
      ['websockets.remote.delayDuration', -1, />= 0/],
      ['websockets.remote.timerFrequency', 1.5, /integer/],
      ['session.ipCheck', 'yes', /true or false/],
      ['server.route', 'a.b', /letters, digits/],
      ['node.id', 'x'.repeat(65), /at most 64/],
      ['session.cookieName', 'a;b', /cookie name/],
      ['websockets.paths', ['ws'], /start with '\/'/],
      ['websockets.paths', ['/ws/'], /do not end with/],
      ['websockets.paths', ['/'], /do not end with/],
      ['websockets.allowedOrigins', ['https://a.example/'], /origins/],
      ['websockets.allowedOrigins', ['a.example'], /origins/],
      ['session.keys', [''], /non-empty/],
      ['log.level', 'trace', /one of debug, info, warn, error/],
    ];
    for (const [key, value, reason] of bad) {
      it(`rejects ${key} = ${JSON.stringify(value)}`, () => {
        expect(() => validateValue(key, value)).to.throw(reason);
      });
    }

    it('accepts origins with a port and paths with several segments', () => {
      expect(() => validateValue('websockets.allowedOrigins', ['https://a.example', 'http://b.example:8080'])).not.to.throw();
      expect(() => validateValue('websockets.paths', ['/push/ws'])).not.to.throw();
    });
  });
});
