/** The user directory file, watched (config/file-watcher.ts): a reload swaps in a new, valid directory. */
import { FileWatcher, type FileWatcherOptions } from '../config/file-watcher.ts';
import { loadDirectory, type Directory } from './directory.ts';
import { DirectoryError } from './directory-error.ts';

export class DirectoryWatcher extends FileWatcher<Directory> {
  constructor(file: string, options: Partial<FileWatcherOptions> = {}) {
    super(
      file,
      {
        kind: 'directory',
        load: loadDirectory,
        failure: (source, problem, cause) => new DirectoryError(source, '', problem, { cause }),
      },
      options,
    );
  }
}
