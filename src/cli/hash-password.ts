/**
 * `wsmesh hash-password`: prints the scrypt hash of a password, for the `password`
 * field of the directory file.
 *
 *   echo 'wonderland' | npm run -s wsmesh -- hash-password
 *   npm run -s wsmesh -- hash-password          (asks twice on a terminal, no echo)
 *
 * The password is read from stdin, never from an argument.
 */
import type { Writable } from 'node:stream';
import { hashPassword } from '../directory/password.ts';
import { ExitCode, type CliInput } from './io.ts';
import { MAX_SECRET_LENGTH, readSecretLine, type SecretResult } from './read-secret.ts';

export const HASH_PASSWORD_USAGE = `Usage: wsmesh hash-password < password-file
       echo 'my password' | wsmesh hash-password

Reads a password from the first line of stdin (on a terminal: asks for it twice,
without echo) and prints its scrypt hash on stdout, for the "password" field of
a user in the directory file. Exit codes: 0 printed, 2 empty or too long, 130 cancelled.`;

/** Runs the command; resolves to the exit code. */
export async function runHashPassword(stdin: CliInput, stdout: Writable, stderr: Writable): Promise<number> {
  const terminal = stdin.isTTY === true;
  const first = await ask(stdin, stderr, terminal, 'Password: ');
  if (first.kind !== 'line') return refuse(first, stderr);
  if (first.text === '') {
    stderr.write('hash-password: the password is empty; type a password, or pipe one line on stdin\n');
    return ExitCode.USAGE;
  }
  if (terminal) {
    const again = await ask(stdin, stderr, terminal, 'Repeat password: ');
    if (again.kind !== 'line') return refuse(again, stderr);
    if (again.text !== first.text) {
      stderr.write('hash-password: the passwords do not match; nothing was printed\n');
      return ExitCode.FAILURE;
    }
  }
  stdout.write(`${await hashPassword(first.text)}\n`);
  return ExitCode.OK;
}

async function ask(stdin: CliInput, stderr: Writable, terminal: boolean, prompt: string): Promise<SecretResult> {
  if (terminal) stderr.write(prompt);
  const result = await readSecretLine(stdin);
  // Raw mode swallowed the Enter key: end the prompt's line ourselves.
  if (terminal) stderr.write('\n');
  return result;
}

function refuse(result: Exclude<SecretResult, { kind: 'line' }>, stderr: Writable): number {
  if (result.kind === 'cancelled') {
    stderr.write('hash-password: cancelled\n');
    return ExitCode.INTERRUPTED;
  }
  stderr.write(`hash-password: no newline within ${MAX_SECRET_LENGTH} characters; pipe a single line holding the password\n`);
  return ExitCode.USAGE;
}
