/**
 * Target `config`: `.properties` and JSON config files and directory files,
 * mutated, loaded through the real loaders (loadConfig with `--config`,
 * Directory.parse), which must either load them or refuse them with their own
 * error (ConfigError, DirectoryError), never anything else. For the reload path,
 * one in four inputs is written over the watched files of a running node process
 * (src/main.ts, as `npm start` runs it): the node must keep answering `/healthz`,
 * and a refused file must be logged (`config.reload_failed` /
 * `directory.reload_failed`) with the old configuration kept in force.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Random } from '../../support/random.ts';
import { ConfigError, loadConfig } from '../../../src/config/index.ts';
import { Directory } from '../../../src/directory/directory.ts';
import { DirectoryError } from '../../../src/directory/directory-error.ts';
import { killAll, startNodeProcess, type NodeProcess } from '../../support/process.ts';
import { tempDir } from '../../support/node.ts';
import type { FuzzInput, FuzzTarget, Verdict } from '../support/engine.ts';
import { mutateBytes, mutatedJsonText, oddString } from '../support/mutate.ts';
import { healthy } from '../support/oracle.ts';
import { eventually } from '../../support/client.ts';

const DIRECTORY_TEXT = readFileSync('config/directory.json', 'utf8');
const DIRECTORY = JSON.parse(DIRECTORY_TEXT) as unknown;
const JSON_SAMPLE = { log: { level: 'info' }, websockets: { maxSocketsPerUser: 8, remote: { delayDuration: 100 }, allowedOrigins: ['https://a.example'], paths: ['/ws', '/socket.io'] }, session: { keys: ['k1'] } };
const PROPERTIES_SAMPLE = [
  'com.openexchange.websockets.enabled=true',
  'com.openexchange.websockets.grizzly.remote.delayDuration=1000',
  'com.openexchange.websockets.grizzly.remote.maxDelayDuration=3000',
  'com.openexchange.websockets.grizzly.remote.timerFrequency=100',
  'websockets.maxSocketsPerUser = 8',
  '# a comment',
  'log.level: info',
  'websockets.allowedOrigins=https://a.example,\\',
  '  https://b.example',
].join('\n');

function generate(rng: Random): FuzzInput {
  const kind = rng.pick(['json', 'properties', 'directory']);
  let text: Buffer;
  if (kind === 'properties') {
    const lines = PROPERTIES_SAMPLE.split('\n');
    for (let i = 1 + rng.int(3); i > 0; i--) {
      const at = rng.int(lines.length);
      if (rng.next() < 0.5) lines[at] = `${lines[at].split('=')[0]}=${oddString(rng, 5000)}`;
      else lines.splice(at, 0, `${rng.pick(['websockets.', 'com.openexchange.websockets.', '', 'server.'])}${oddString(rng, 100)}=${oddString(rng, 100)}`);
    }
    text = Buffer.from(lines.join(rng.pick(['\n', '\r\n', '\r'])));
    if (rng.next() < 0.3) text = mutateBytes(rng, text);
  } else {
    text = mutatedJsonText(rng, kind === 'json' ? JSON_SAMPLE : DIRECTORY, 20_000);
  }
  return { meta: { kind, reload: rng.next() < 0.15 ? 'yes' : 'no' }, parts: [text] };
}

/** Loads the file through the real loader: `loaded`, `refused`, or a problem for any other outcome. */
function load(dir: ReturnType<typeof tempDir>, input: FuzzInput): Verdict {
  const { kind } = input.meta;
  const text = Buffer.concat(input.parts);
  try {
    if (kind === 'directory') Directory.parse(text.toString('utf8'), 'fuzz-directory.json');
    else loadConfig({ argv: ['--config', dir.file(`fuzz.${kind}`, text.toString('latin1'))], env: {}, hostname: 'h' });
    return { answer: `${kind} loaded` };
  } catch (error) {
    if (error instanceof ConfigError || error instanceof DirectoryError) return { answer: `${kind} refused (${error.name})` };
    return { answer: `${kind} threw ${(error as Error).name}`, problem: `${kind}: the loader threw ${(error as Error).name} instead of its own error: ${(error as Error).message.slice(0, 200)}` };
  }
}

export const configFiles: FuzzTarget = {
  name: 'config',
  summary: '.properties and JSON config files and directory files, loaded and reloaded under a running node',
  counts: { test: 60, run: 800 },
  async start() {
    const dir = tempDir();
    const configFile = dir.file('wsmesh.json', JSON.stringify({ log: { level: 'info' } }));
    const directoryFile = dir.file('directory.json', DIRECTORY_TEXT);
    const node: NodeProcess = await startNodeProcess(['--config', configFile, '--directory.file', directoryFile]);
    const good = { json: readFileSync(configFile), directory: readFileSync(directoryFile) };

    /** The first `<kind>.*` log line from index `from` on, waiting up to 1.5 s (a file that changes nothing logs nothing). */
    async function logged(from: number, kind: string): Promise<Record<string, unknown> | undefined> {
      const find = () => node.logs.slice(from).find((l) => typeof l.event === 'string' && l.event.startsWith(`${kind}.`));
      await eventually(() => find() !== undefined, `${kind}.*`, 1500).catch(() => undefined);
      return find();
    }

    /** Writes the mutated file over the watched one, waits for the node's verdict, then puts the good file back. */
    async function reload(input: FuzzInput, loaded: Verdict): Promise<Verdict> {
      const kind = input.meta.kind === 'directory' ? 'directory' : 'config';
      const file = kind === 'directory' ? directoryFile : configFile;
      const from = node.logs.length;
      writeFileSync(file, Buffer.concat(input.parts));
      const line = await logged(from, kind);
      writeFileSync(file, kind === 'directory' ? good.directory : good.json);
      // The good file back: its reload is logged too, unless the bad one changed nothing.
      if (line) await logged(node.logs.indexOf(line) + 1, kind);
      if (!(await healthy(node.url))) return { answer: 'reload: node down', problem: 'the node stopped answering /healthz after a reload' };
      const outcome = String(line?.event ?? 'nothing logged');
      // A file the loader refuses must be refused by the running node too, and logged.
      if (loaded.answer.includes('refused') && !outcome.endsWith('reload_failed')) return { answer: `reload: ${outcome}`, problem: `a file the loader refuses was not logged as a failed reload (${outcome})` };
      return { answer: `reload: ${outcome}` };
    }

    return {
      generate,
      async send(input) {
        const loaded = load(dir, input);
        if (loaded.problem || input.meta.reload !== 'yes' || input.meta.kind === 'properties') return loaded;
        return reload(input, loaded);
      },
      alive: () => healthy(node.url),
      settle: async () => [],
      async stop() {
        await killAll();
        dir.cleanup();
      },
    };
  },
};
