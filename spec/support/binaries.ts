/**
 * The system binaries some suites need (mosquitto, apache2, nginx, chromium): found on
 * PATH or in the usual sbin/bin dirs. A missing one fails the suite under CI and skips
 * it elsewhere, with the package to install in the message.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Where the Debian packages put the binaries, in case sbin is not on PATH. */
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin'];
/** The package that provides each binary, where it is not named like the binary; named in CI failures. */
const PACKAGES: Record<string, string> = { mosquitto: 'mosquitto', mosquitto_passwd: 'mosquitto', ss: 'iproute2' };

/** The absolute path of `name` on PATH or in the usual sbin/bin dirs, or undefined. */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Why a suite needing `name` cannot run. */
export function missingBinaryReason(name: string): string {
  const pkg = PACKAGES[name] ?? name;
  return `${name} is not installed (neither on PATH nor in ${EXTRA_DIRS.join(', ')}): install the package "${pkg}" (apt-get install ${pkg})`;
}

/**
 * The path of `name`. When it is missing: with `CI` set, throws (a suite must fail
 * in CI, never skip silently); without, returns undefined and the caller may skip.
 */
export function requireBinary(name: string): string | undefined {
  const path = findBinary(name);
  if (path) return path;
  if (process.env.CI) throw new Error(`${missingBinaryReason(name)}; CI is set, so the suite fails instead of skipping`);
  return undefined;
}

/** The path of `name`, for code that cannot skip (the suite checked in its `before` hook); throws when it is missing. */
export function installedBinary(name: string): string {
  const path = requireBinary(name);
  if (!path) throw new Error(missingBinaryReason(name));
  return path;
}

/**
 * For a suite's `before` hook: fails under CI, otherwise skips the suite with the
 * reason on stderr when a binary is missing.
 */
export function requireBinariesOrSkip(ctx: Mocha.Context, ...names: string[]): void {
  const missing = names.filter((name) => requireBinary(name) === undefined);
  if (missing.length === 0) return;
  process.stderr.write(`      skipped: ${missing.map(missingBinaryReason).join('; ')}\n`);
  ctx.skip();
}
