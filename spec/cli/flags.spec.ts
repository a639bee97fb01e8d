import { expect } from 'chai';
import { CliError } from '../../src/cli/cli-error.ts';
import { parseFlags, type FlagSpec } from '../../src/cli/flags.ts';

const SPEC: FlagSpec = { '--user': 'value', '--message': 'value', '--json': 'switch' };

function usageErrorOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).to.be.instanceOf(CliError);
    expect((err as CliError).exitCode).to.equal(2);
    expect((err as CliError).showUsage).to.equal(true);
    return (err as Error).message;
  }
  throw new Error('no usage error');
}

describe('cli flags', () => {
  describe('#parseFlags', () => {
    it('reads --flag value, --flag=value and switches', () => {
      const flags = parseFlags(['--user', '3', '--message=a=b', '--json'], SPEC);
      expect(flags.string('--user')).to.equal('3');
      expect(flags.string('--message')).to.equal('a=b');
      expect(flags.has('--json')).to.equal(true);
      expect(flags.string('--json')).to.equal(undefined);
    });

    it('takes "-" as a value (stdin)', () => {
      expect(parseFlags(['--message', '-'], SPEC).string('--message')).to.equal('-');
    });

    it('takes a value starting with -- only after =', () => {
      expect(parseFlags(['--message=--loud'], SPEC).string('--message')).to.equal('--loud');
      expect(usageErrorOf(() => parseFlags(['--message', '--json'], SPEC))).to.equal('--message needs a value');
    });

    for (const [args, message] of [
      [['--nope'], 'unknown flag --nope'],
      [['-x'], 'unknown flag -x'],
      [['list'], 'unexpected argument "list"'],
      [['-'], 'unexpected argument "-"'],
      [['--user'], '--user needs a value'],
      [['--user='], '--user needs a value'],
      [['--json=yes'], '--json takes no value'],
      [['--user', '1', '--user', '2'], '--user is given twice'],
      [['--toString'], 'unknown flag --toString'],
    ] as const) {
      it(`refuses ${JSON.stringify(args)}: ${message}`, () => {
        expect(usageErrorOf(() => parseFlags(args, SPEC))).to.equal(message);
      });
    }
  });

  describe('#positiveInt', () => {
    it('reads positive integers and is undefined when the flag is absent', () => {
      expect(parseFlags(['--user', '42'], SPEC).positiveInt('--user')).to.equal(42);
      expect(parseFlags([], SPEC).positiveInt('--user')).to.equal(undefined);
    });

    for (const bad of ['0', '-1', '1.5', '1e3', '0x10', ' 3', 'three', '9007199254740993']) {
      it(`refuses ${JSON.stringify(bad)}`, () => {
        expect(usageErrorOf(() => parseFlags([`--user=${bad}`], SPEC).positiveInt('--user'))).to.equal(`--user must be a positive integer: ${JSON.stringify(bad)}`);
      });
    }

    it('says a required flag is required', () => {
      expect(usageErrorOf(() => parseFlags([], SPEC).requiredPositiveInt('--user'))).to.equal('--user is required');
      expect(usageErrorOf(() => parseFlags([], SPEC).requiredString('--message'))).to.equal('--message is required');
    });
  });
});
