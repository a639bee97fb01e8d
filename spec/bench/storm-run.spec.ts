/**
 * The reconnect storm at a size the timing suite can afford: the same script and the
 * same checks as `npm run storm` (bench/storm.ts), 2,000 sockets opened on node A,
 * run as a child process from the sources; they come back to A, or split over A and
 * a second node. Its figures are
 * printed as it prints them. In the timing suite (spec/timing.mocharc.json): it
 * judges /healthz within 100 ms, so it runs where nothing else shares the cores.
 * Alone: `npx mocha --no-config --import=tsx spec/bench/storm-run.spec.ts`.
 */
import { spawn } from 'node:child_process';
import { expect } from 'chai';

const ARGS = ['--from-source', '--sockets', '2000', '--users', '100', '--clients', '2'];
const RUN_TIMEOUT_MS = 240_000;

function runStorm(args: string[]): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/storm.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => {
        output += text;
        process.stdout.write(text.replace(/^(?=.)/gm, '      '));
      });
    }
    const timer = setTimeout(() => child.kill('SIGINT'), RUN_TIMEOUT_MS - 10_000);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

describe('reconnect storm (bench/storm.ts)', function () {
  this.timeout(RUN_TIMEOUT_MS);

  async function expectPasses(args: string[]): Promise<void> {
    const { status, output } = await runStorm(args);
    const verdicts = output.split('\n').filter((line) => /^(PASS|FAIL) {2}/.test(line));
    expect(verdicts, 'the script printed its checks').to.have.length(5);
    expect(verdicts.filter((line) => line.startsWith('FAIL'))).to.deep.equal([]);
    expect(status).to.equal(0);
  }

  it('brings 2,000 dropped sockets back to their node with /healthz answering, every push delivered and nothing leaked', async () => {
    await expectPasses(ARGS);
  });

  it('brings them back split over two nodes, the same checks on both', async () => {
    await expectPasses([...ARGS, '--nodes', '2']);
  });
});
