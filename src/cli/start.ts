/**
 * `wsmesh start [args]`: boots a node, exactly as `npm start` does. The boot
 * (src/main.ts) reads `process.argv`, so it is given the argv it would have had if
 * run as `wsmesh [args]`.
 */
import type { Command } from './command.ts';

export const startCommand: Command = {
  name: 'start',
  summary: 'start a wsmesh node (the same as npm start)',
  usage: `Usage: wsmesh start [args]

Boots a node with the configuration of the environment and config files; the
arguments are handed to the boot unchanged.`,
  rawArgs: true,
  async run(args) {
    process.argv = [process.argv[0], 'wsmesh', ...args];
    await import('../main.ts');
    // The node runs until a signal stops it; its boot owns the exit code.
    return undefined;
  },
};
