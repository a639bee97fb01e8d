/** In-memory stdin/stdout/stderr for CLI suites. */
import { PassThrough, Writable } from 'node:stream';
import type { CliInput, CliIo } from '../../src/cli/io.ts';

export class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** A terminal-like stdin: `isTTY`, and a `setRawMode` that records its calls. */
export class FakeTty extends PassThrough {
  readonly isTTY = true;
  readonly rawModes: boolean[] = [];
  setRawMode(mode: boolean): this {
    this.rawModes.push(mode);
    return this;
  }
}

export function io(stdin: CliInput = new PassThrough()): CliIo & { stdout: Capture; stderr: Capture } {
  return { stdin, stdout: new Capture(), stderr: new Capture() };
}
