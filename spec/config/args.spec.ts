import { expect } from 'chai';
import { helpText, parseArgs } from '../../src/config/args.ts';
import { ConfigError } from '../../src/config/error.ts';
import { KEYS } from '../../src/config/schema.ts';

describe('config args', () => {
  describe('#parseArgs', () => {
    it('reads --flag value and --flag=value', () => {
      const parsed = parseArgs(['--port', '9000', '--host=127.0.0.1', '--websockets.maxSocketsPerUser', '3']);
      expect(parsed.settings).to.deep.equal([
        { key: 'server.port', raw: '9000', flag: '--port' },
        { key: 'server.host', raw: '127.0.0.1', flag: '--host' },
        { key: 'websockets.maxSocketsPerUser', raw: '3', flag: '--websockets.maxSocketsPerUser' },
      ]);
    });

    it('collects repeated --config files in order', () => {
      expect(parseArgs(['--config', 'a.json', '--config=b.properties']).configFiles).to.deep.equal(['a.json', 'b.properties']);
    });

    it('reads a boolean flag without a value as true', () => {
      const parsed = parseArgs(['--websockets.enabled', '--port', '1']);
      expect(parsed.settings[0]).to.deep.equal({ key: 'websockets.enabled', raw: 'true', flag: '--websockets.enabled' });
    });

    it('keeps a value after = even when it is empty', () => {
      expect(parseArgs(['--route=']).settings[0]!.raw).to.equal('');
    });

    it('notes --help and -h', () => {
      expect(parseArgs(['--help']).help).to.equal(true);
      expect(parseArgs(['-h']).help).to.equal(true);
      expect(parseArgs([]).help).to.equal(false);
    });

    const errors: Array<[string, string[], RegExp, string]> = [
      ['an unknown flag', ['--prot', '9000'], /unknown command-line flag --prot/, 'flag --prot'],
      ['a flag missing its value', ['--port'], /flag --port needs a value/, 'flag --port'],
      ['--config missing its file', ['--config', '--port', '1'], /flag --config needs a value/, 'flag --config'],
      ['a stray argument', ['serve'], /unexpected argument "serve"/, 'command line'],
    ];
    for (const [what, argv, message, source] of errors) {
      it(`throws a ConfigError on ${what}`, () => {
        try {
          parseArgs(argv);
          expect.fail('no error');
        } catch (err) {
          expect(err).to.be.instanceOf(ConfigError);
          expect((err as ConfigError).message).to.match(message);
          expect((err as ConfigError).source).to.equal(source);
        }
      });
    }
  });

  describe('#helpText', () => {
    it('lists every flag and env variable', () => {
      const text = helpText();
      expect(text).to.include('--config');
      for (const spec of KEYS.values()) {
        for (const flag of spec.flags) expect(text).to.include(flag);
        expect(text).to.include(spec.env);
      }
    });
  });
});
