/**
 * The reconnect storm at a size the timing suite can afford: the same script and the
 * same checks as `npm run storm` (bench/storm.ts), 2,000 sockets on one node, run as
 * a child process from the sources. Its figures are printed as it prints them.
 *
 * Not in spec/timing.mocharc.json yet (and ignored by .mocharc.json): the node still
 * stalls for hundreds of ms when 2,000 sockets close at once (measured: 600 ms), so
 * the /healthz check fails at this size too. Run it alone with
 * `npx mocha --no-config --import=tsx spec/bench/storm-run.spec.ts`; add it to the
 * timing suite once the stall is gone.
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

  it('brings 2,000 dropped sockets back with /healthz answering, every push delivered and nothing leaked', async () => {
    const { status, output } = await runStorm(ARGS);
    const verdicts = output.split('\n').filter((line) => /^(PASS|FAIL) {2}/.test(line));
    expect(verdicts, 'the script printed its checks').to.have.length(5);
    expect(verdicts.filter((line) => line.startsWith('FAIL'))).to.deep.equal([]);
    expect(status).to.equal(0);
  });
});
