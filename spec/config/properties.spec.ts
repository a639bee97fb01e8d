import { expect } from 'chai';
import { ConfigError } from '../../src/config/error.ts';
import { parseProperties, PROPERTY_ALIASES, readProperties } from '../../src/config/properties.ts';

describe('config properties', () => {
  describe('#parseProperties', () => {
    const cases: Array<[string, string, Array<[string, string, number]>]> = [
      ['key=value', 'a=b', [['a', 'b', 1]]],
      ['key: value', 'a: b', [['a', 'b', 1]]],
      ['key value', 'a b', [['a', 'b', 1]]],
      ['blanks around, trimmed', '  a  =  b c  ', [['a', 'b c', 1]]],
      ['an empty value', 'a=', [['a', '', 1]]],
      ['# and ! comments, blank lines', '# one\n  ! two\n\na=1', [['a', '1', 4]]],
      ['a continuation, leading blanks of the next line dropped', 'a=1,\\\n    2,\\\n  3\nb=4', [['a', '1,2,3', 1], ['b', '4', 4]]],
      ['an escaped backslash that does not continue', 'a=x\\\\\nb=y', [['a', 'x\\', 1], ['b', 'y', 2]]],
      ['a continuation at the end of the file', 'a=1\\', [['a', '1', 1]]],
      ['an escaped separator in the key', 'a\\=b=c', [['a=b', 'c', 1]]],
      ['escapes in the value', 'a=\\u0041\\tB', [['a', 'A\tB', 1]]],
      ['CRLF line ends', 'a=1\r\nb=2\r\n', [['a', '1', 1], ['b', '2', 2]]],
      ['a comment line ending in a backslash', '# c \\\na=1', [['a', '1', 2]]],
      ['a repeated key, both kept in order', 'a=1\na=2', [['a', '1', 1], ['a', '2', 2]]],
    ];
    for (const [what, text, expected] of cases) {
      it(`parses ${what}`, () => {
        const entries = parseProperties(text).map((e) => [e.name, e.value, e.line]);
        expect(entries).to.deep.equal(expected);
      });
    }
  });

  describe('#readProperties', () => {
    const aliases: Array<[string, string, string, unknown]> = [
      ['com.openexchange.websockets.enabled', 'false', 'websockets.enabled', false],
      ['com.openexchange.websockets.grizzly.remote.delayDuration', '500', 'websockets.remote.delayDuration', 500],
      ['com.openexchange.websockets.grizzly.remote.maxDelayDuration', '2000', 'websockets.remote.maxDelayDuration', 2000],
      ['com.openexchange.websockets.grizzly.remote.timerFrequency', '250', 'websockets.remote.timerFrequency', 250],
    ];
    for (const [name, raw, key, typed] of aliases) {
      it(`maps the reference property ${name} to ${key}`, () => {
        const [setting] = readProperties(`${name}=${raw}`, '/x/ws.properties');
        expect(setting).to.include({ name, key, line: 1 });
        expect(setting!.typed).to.deep.equal(typed);
      });
    }

    it('exports exactly the four reference aliases', () => {
      expect(Object.keys(PROPERTY_ALIASES)).to.have.length(4);
    });

    it('accepts wsmesh dotted keys and converts lists and numbers', () => {
      const settings = readProperties('server.port = 9001\nwebsockets.paths = /a, /b\nsession.ipCheck: false', '/x/a.properties');
      expect(settings.map((s) => [s.key, s.typed])).to.deep.equal([
        ['server.port', 9001],
        ['websockets.paths', ['/a', '/b']],
        ['session.ipCheck', false],
      ]);
    });

    it('throws a ConfigError naming the file and line when a key is unknown', () => {
      try {
        readProperties('# header\ncom.openexchange.websockets.bogus=1', '/x/a.properties');
        expect.fail('no error');
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        expect((err as ConfigError).message).to.include('com.openexchange.websockets.bogus').and.include('/x/a.properties:2');
        expect((err as ConfigError).source).to.equal('/x/a.properties');
      }
    });
  });
});
