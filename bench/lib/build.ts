/**
 * wsmesh runs from its JavaScript build (`npm run build`, into dist/), as `npm start`
 * runs it. A bench builds the checkout it measures first, so a bench never times
 * stale code; a checkout from before the build existed (`--wsmesh-root` on an older
 * commit) runs through tsx, as it did then.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** True when the checkout has a build; its entry point is then dist/main.js. */
export function hasBuild(repoRoot: string): boolean {
  return existsSync(path.join(repoRoot, 'tsconfig.build.json'));
}

/** The node arguments that start wsmesh in `repoRoot`, before its own flags. */
export function wsmeshEntry(repoRoot: string): string[] {
  return hasBuild(repoRoot) ? ['dist/main.js'] : ['--import', 'tsx', 'src/main.ts'];
}

/** Builds `repoRoot` (a few seconds when little changed); throws with tsc's output when the build fails. */
export function buildWsmesh(repoRoot: string, log: (line: string) => void): void {
  if (!hasBuild(repoRoot)) {
    log(`wsmesh in ${repoRoot}: no build (tsconfig.build.json), it runs through tsx`);
    return;
  }
  log(`wsmesh in ${repoRoot}: npm run build`);
  try {
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`npm run build failed in ${repoRoot}; fix the build (npx tsc -p tsconfig.build.json shows it):\n${stdout ?? ''}${stderr ?? ''}`);
  }
}
