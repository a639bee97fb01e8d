/** The broker accounts file on disk: loaded at start, and watched (a reload swaps in a new, valid set). */
import { readFile } from 'node:fs/promises';
import { FileWatcher, type FileWatcherOptions } from '../config/file-watcher.ts';
import { AccountsError, parseAccounts, type Accounts } from './accounts.ts';

export async function loadAccounts(file: string): Promise<Accounts> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file; create it (docs/iot.md) or leave mqtt.accountsFile empty' : (err as Error).message;
    throw new AccountsError(file, '', reason, { cause: err });
  }
  return parseAccounts(text, file);
}

export class AccountsWatcher extends FileWatcher<Accounts> {
  constructor(file: string, options: Partial<FileWatcherOptions> = {}) {
    super(file, { kind: 'accounts', load: loadAccounts, failure: (source, problem, cause) => new AccountsError(source, '', problem, { cause }) }, options);
  }
}
