/**
 * Reads one secret line from stdin, for commands that must not take a secret as an
 * argument (arguments end up in shell history and in `ps` output).
 *
 * - Piped stdin: the first line, without its line ending (`\n` or `\r\n`); the rest of
 *   the input is left unread. End of input without a newline ends the line too.
 * - A terminal: raw mode, so the typed characters are not echoed; Enter ends the
 *   line, Backspace deletes, Ctrl-C cancels, Ctrl-D on an empty line ends it.
 */
import { StringDecoder } from 'node:string_decoder';
import type { CliInput } from './io.ts';

/** More than this many characters without a newline is refused (not a password: a file piped by mistake). */
export const MAX_SECRET_LENGTH = 4096;

export type SecretResult =
  | { readonly kind: 'line'; readonly text: string }
  | { readonly kind: 'cancelled' }
  | { readonly kind: 'too-long' };

const CTRL_C = '\u0003';
const CTRL_D = '\u0004';
const BACKSPACE = '\b';
const DELETE = '\u007f';

export function readSecretLine(stdin: CliInput): Promise<SecretResult> {
  return stdin.isTTY && typeof stdin.setRawMode === 'function' ? readHidden(stdin) : readPiped(stdin);
}

/** Feeds decoded text to `onText` until it returns a result, or the input ends. */
function consume(stdin: CliInput, onText: (text: string) => SecretResult | undefined, onEnd: () => SecretResult): Promise<SecretResult> {
  return new Promise((resolve, reject) => {
    const decoder = new StringDecoder('utf8');
    const finish = (result: SecretResult): void => {
      stdin.removeListener('data', onData);
      stdin.removeListener('end', onEndEvent);
      stdin.removeListener('error', onError);
      // Stop reading so a stdin that stays open does not keep the process alive.
      stdin.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer | string): void => {
      const result = onText(typeof chunk === 'string' ? chunk : decoder.write(chunk));
      if (result) finish(result);
    };
    const onEndEvent = (): void => finish(onText(decoder.end()) ?? onEnd());
    const onError = (err: Error): void => {
      stdin.removeListener('data', onData);
      stdin.removeListener('end', onEndEvent);
      reject(err);
    };
    stdin.on('data', onData);
    stdin.once('end', onEndEvent);
    stdin.once('error', onError);
    stdin.resume();
  });
}

function readPiped(stdin: CliInput): Promise<SecretResult> {
  let buffered = '';
  const line = (text: string): SecretResult => ({ kind: 'line', text: text.endsWith('\r') ? text.slice(0, -1) : text });
  return consume(
    stdin,
    (text) => {
      buffered += text;
      const newline = buffered.indexOf('\n');
      if (newline >= 0) return line(buffered.slice(0, newline));
      return buffered.length > MAX_SECRET_LENGTH ? { kind: 'too-long' } : undefined;
    },
    () => line(buffered),
  );
}

async function readHidden(stdin: CliInput): Promise<SecretResult> {
  let typed: string[] = [];
  stdin.setRawMode!(true);
  try {
    return await consume(
      stdin,
      (text) => {
        for (const char of text) {
          if (char === '\r' || char === '\n') return { kind: 'line', text: typed.join('') };
          if (char === CTRL_C) return { kind: 'cancelled' };
          if (char === CTRL_D) {
            if (typed.length === 0) return { kind: 'line', text: '' };
          } else if (char === DELETE || char === BACKSPACE) {
            typed = typed.slice(0, -1);
          } else if (char >= ' ') {
            typed.push(char);
            if (typed.length > MAX_SECRET_LENGTH) return { kind: 'too-long' };
          }
        }
        return undefined;
      },
      () => ({ kind: 'line', text: typed.join('') }),
    );
  } finally {
    stdin.setRawMode!(false);
  }
}
