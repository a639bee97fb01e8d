/**
 * Runs the `wsmesh` CLI as a real child process (`node --import tsx src/cli/main.ts`),
 * with only the environment a test gives it, and collects what it printed.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ADMIN_TOKEN } from '../support/node.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TIMEOUT_MS = 20_000;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** WSMESH_URL and WSMESH_ADMIN_TOKEN and the like; PATH and HOME are added. */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed; without it stdin is empty. */
  stdin?: string;
}

export function wsmesh(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  // Not the test runner's environment: a WSMESH_* variable there must not leak in.
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  for (const [key, value] of Object.entries(options.env ?? {})) if (value !== undefined) env[key] = value;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // the CLI may exit before reading it all
    child.stdin.end(options.stdin ?? '');
  });
}

/** `wsmesh` pointed at a node with the right token (another one, or none for `null`). */
export function against(url: string, token: string | null = ADMIN_TOKEN) {
  return (args: readonly string[], options: CliOptions = {}) => wsmesh(args, { ...options, env: { WSMESH_URL: url, WSMESH_ADMIN_TOKEN: token ?? undefined, ...options.env } });
}
