import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('wsmesh start (child process)', () => {
  it("hands its arguments to the node's boot: --help reaches the boot's own help", async () => {
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      const child = spawn('npx', ['tsx', 'src/cli/main.ts', 'start', '--help'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.on('close', (exit) => {
        clearTimeout(timer);
        resolve({ code: exit, stdout: out });
      });
    });
    expect(code).to.equal(0);
    // The boot's usage (config flags), not the dispatcher's command list.
    expect(stdout).to.contain('Usage: wsmesh');
    expect(stdout).not.to.contain('hash-password');
  });
});
