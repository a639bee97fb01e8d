/**
 * Starts a real wsmesh node in this process, on a free loopback port, with the demo
 * directory (or one given), and stops it after the test.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.ts';
import type { Config } from '../../src/config/types.ts';
import { Directory } from '../../src/directory/directory.ts';
import { createLogger, silentLogger, type Logger } from '../../src/log/logger.ts';
import { WsmeshNode, type NodeOptions } from '../../src/node.ts';

export const ADMIN_TOKEN = 'test-admin-token';
export const DEMO_DIRECTORY = 'config/directory.json';

export interface TestNode {
  node: WsmeshNode;
  config: Config;
  url: string;
  wsUrl: string;
  stop(): Promise<void>;
}

/** Flags as on the command line, e.g. `['--websockets.maxSocketsPerUser', '2']`. */
export async function startNode(flags: string[] = [], options: Partial<NodeOptions> & { directoryText?: string; logs?: string[] } = {}): Promise<TestNode> {
  const { config } = loadConfig({
    argv: ['--host', '127.0.0.1', '--port', '0', '--node-id', 'test-node', '--session.keys', 'test-signing-key', ...flags],
    env: { WSMESH_ADMIN_TOKEN: ADMIN_TOKEN },
  });
  const text = options.directoryText ?? readFileSync(DEMO_DIRECTORY, 'utf8');
  const directory = Directory.parse(text, 'test-directory.json');
  const log: Logger = options.logs ? createLogger('debug', (line) => options.logs!.push(line)) : silentLogger;
  // A node joins a cluster only when the test names a broker.
  const cluster = options.cluster ?? flags.some((flag) => flag.startsWith('--broker'));
  const node = new WsmeshNode(config, directory, { log, ...options, cluster });
  const address = await node.listen();
  const url = `http://127.0.0.1:${address.port}`;
  return { node, config, url, wsUrl: `ws://127.0.0.1:${address.port}`, stop: () => node.shutdown() };
}

/** A temp folder removed by `cleanup()`. */
export function tempDir(): { path: string; file(name: string, text: string): string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), 'wsmesh-'));
  return {
    path,
    file(name, text) {
      const file = join(path, name);
      writeFileSync(file, text);
      return file;
    },
    cleanup: () => rmSync(path, { recursive: true, force: true }),
  };
}
