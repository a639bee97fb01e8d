/**
 * Replaces files whole, so a broker reloading meanwhile (SIGHUP) reads the old
 * version or the new one, never half of one: each is written beside its target,
 * then renamed over it, once all are written.
 *
 * A new file gets `mode`. A file that is replaced keeps its owner, group and mode
 * (less any access for others, when `mode` gives them none): an operator who gave
 * the broker's group read access once does not lose it on the next run.
 */
import { chownSync, closeSync, fchmodSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface FileToWrite {
  path: string;
  text: string;
  /** The mode of a new file, e.g. 0o600. */
  mode: number;
}

/** Writes every file aside, then renames each over its target; on failure removes what it wrote aside and throws. */
export function replaceFiles(files: readonly FileToWrite[]): void {
  const written: string[] = [];
  try {
    for (const file of files) written.push(writeAside(file));
    files.forEach((file, i) => renameSync(written[i], file.path));
  } catch (err) {
    for (const path of written) rmSync(path, { force: true });
    throw err;
  }
}

function writeAside(file: FileToWrite): string {
  const aside = join(dirname(file.path), `.${basename(file.path)}.${process.pid}.tmp`);
  const existing = statOrUndefined(file.path);
  const mode = existing ? existing.mode & 0o777 & (file.mode & 0o007 ? 0o777 : 0o770) : file.mode;
  // 0o600 from the start (never readable by others, even for an instant), then the final mode.
  const fd = openSync(aside, 'w', 0o600);
  try {
    writeSync(fd, file.text);
    fsyncSync(fd);
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
  if (existing && (existing.uid !== process.getuid?.() || existing.gid !== process.getgid?.())) {
    try {
      chownSync(aside, existing.uid, existing.gid);
    } catch (err) {
      rmSync(aside, { force: true });
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      throw Object.assign(new Error(`cannot give the new ${file.path} the owner and group of the one it replaces (${code}): run as root or as its owner`), { code });
    }
  }
  return aside;
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
