/**
 * The `wsmesh` command: `npm run wsmesh -- <command> [args]` (tsx src/cli/main.ts)
 * or the installed bin/wsmesh.mjs. Entry point only; the dispatcher is run.ts and
 * the commands are the table in commands.ts.
 */
import { ExitCode } from './io.ts';
import { runCli } from './run.ts';

try {
  const code = await runCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
  if (code !== undefined) {
    // exitCode, not exit(): stdout is flushed before the process ends. A piped stdin
    // that its writer keeps open would keep the process alive though paused: close it.
    process.exitCode = code;
    process.stdin.destroy();
  }
} catch (err) {
  process.stderr.write(`wsmesh: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = ExitCode.FAILURE;
}
