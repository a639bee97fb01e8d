import { expect } from 'chai';
import type { Command } from '../../src/cli/command.ts';
import { COMMANDS } from '../../src/cli/commands.ts';
import { runCli, usage } from '../../src/cli/run.ts';
import { io } from './streams.ts';

/** A table of fake commands recording how they were called. */
function table(): { commands: Command[]; calls: Array<[string, readonly string[]]> } {
  const calls: Array<[string, readonly string[]]> = [];
  const make = (name: string, code: number | undefined, rawArgs = false): Command => ({
    name,
    summary: `the ${name} command`,
    usage: `Usage: wsmesh ${name} [x]`,
    rawArgs,
    async run(args, streams) {
      calls.push([name, args]);
      streams.stdout.write(`${name} ran\n`);
      return code;
    },
  });
  return { commands: [make('alpha', 0), make('beta', 3), make('serve', undefined, true)], calls };
}

describe('cli dispatcher', () => {
  describe('#runCli', () => {
    it('runs the named command with the arguments after its name', async () => {
      const { commands, calls } = table();
      const streams = io();
      expect(await runCli(['beta', 'x', '--flag'], streams, commands)).to.equal(3);
      expect(calls).to.deep.equal([['beta', ['x', '--flag']]]);
      expect(streams.stdout.text).to.equal('beta ran\n');
    });

    it('passes undefined through when the command keeps running', async () => {
      const { commands } = table();
      expect(await runCli(['serve'], io(), commands)).to.equal(undefined);
    });

    for (const flag of ['help', '--help', '-h']) {
      it(`lists every command on stdout and exits 0 when called with ${flag}`, async () => {
        const { commands, calls } = table();
        const streams = io();
        expect(await runCli([flag], streams, commands)).to.equal(0);
        for (const name of ['alpha', 'beta', 'serve', 'help']) expect(streams.stdout.text).to.contain(`  ${name} `);
        expect(streams.stdout.text).to.contain('the beta command');
        expect(streams.stderr.text).to.equal('');
        expect(calls).to.deep.equal([]);
      });
    }

    it('prints the usage on stderr and exits 2 when no command is given', async () => {
      const { commands } = table();
      const streams = io();
      expect(await runCli([], streams, commands)).to.equal(2);
      expect(streams.stderr.text).to.equal(usage(commands));
      expect(streams.stdout.text).to.equal('');
    });

    it('names the unknown command and prints the usage on stderr, exit 2', async () => {
      const { commands, calls } = table();
      const streams = io();
      expect(await runCli(['gamma', 'x'], streams, commands)).to.equal(2);
      expect(streams.stderr.text).to.contain('wsmesh: unknown command "gamma"');
      expect(streams.stderr.text).to.contain('Usage: wsmesh <command> [args]');
      expect(calls).to.deep.equal([]);
    });

    it("prints a command's usage for help <command>", async () => {
      const { commands } = table();
      const streams = io();
      expect(await runCli(['help', 'beta'], streams, commands)).to.equal(0);
      expect(streams.stdout.text).to.equal('Usage: wsmesh beta [x]\n');
    });

    it('exits 2 for help about an unknown command', async () => {
      const { commands } = table();
      const streams = io();
      expect(await runCli(['help', 'gamma'], streams, commands)).to.equal(2);
      expect(streams.stderr.text).to.contain('unknown command "gamma"');
    });

    it("prints a command's usage instead of running it for <command> --help", async () => {
      const { commands, calls } = table();
      const streams = io();
      expect(await runCli(['alpha', 'x', '--help'], streams, commands)).to.equal(0);
      expect(streams.stdout.text).to.equal('Usage: wsmesh alpha [x]\n');
      expect(calls).to.deep.equal([]);
    });

    it('hands --help to a command that takes raw arguments', async () => {
      const { commands, calls } = table();
      expect(await runCli(['serve', '--help'], io(), commands)).to.equal(undefined);
      expect(calls).to.deep.equal([['serve', ['--help']]]);
    });
  });

  describe('COMMANDS', () => {
    it('has start and hash-password, each with a summary and a usage', () => {
      expect(COMMANDS.map((c) => c.name)).to.include.members(['start', 'hash-password']);
      for (const command of COMMANDS) {
        expect(command.summary, command.name).to.be.a('string').and.not.be.empty;
        expect(command.usage, command.name).to.match(new RegExp(`^Usage: wsmesh ${command.name}`));
      }
    });

    it('has the admin API commands: sockets, stats and push', () => {
      expect(COMMANDS.map((c) => c.name)).to.include.members(['sockets', 'stats', 'push']);
    });

    it('has unique names, none of them a help word', () => {
      const names = COMMANDS.map((c) => c.name);
      expect(new Set(names).size).to.equal(names.length);
      for (const name of names) expect(['help', '--help', '-h']).not.to.include(name);
    });

    it('refuses arguments to hash-password, so a password never lands in shell history', async () => {
      const streams = io();
      expect(await runCli(['hash-password', 'wonderland'], streams)).to.equal(2);
      expect(streams.stderr.text).to.contain('takes no arguments');
      expect(streams.stdout.text).to.equal('');
    });
  });
});
