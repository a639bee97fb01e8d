/**
 * The generated user directory: K users in one context, all with the same password.
 * The scrypt hash is computed once and reused (each hash costs tens of ms); each
 * login still verifies it on the server, as a real login does.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hashPassword } from '../../src/directory/password.ts';

export const CONTEXT_ID = 1;
export const CONTEXT_NAME = 'bench';
export const PASSWORD = 'bench-password';

export interface BenchUser {
  /** 1..K */
  id: number;
  login: string;
}

export function benchUsers(count: number): BenchUser[] {
  return Array.from({ length: count }, (_, i) => ({ id: i + 1, login: `user${i + 1}` }));
}

/** Writes `directory.json` into `dir` and returns its path. */
export async function writeDirectory(dir: string, users: readonly BenchUser[]): Promise<string> {
  const password = await hashPassword(PASSWORD);
  const directory = {
    contexts: [{ id: CONTEXT_ID, name: CONTEXT_NAME, tags: [], enabled: true, config: {} }],
    contextSets: [],
    users: users.map((user) => ({ id: user.id, context: CONTEXT_ID, login: user.login, password, enabled: true, config: {} })),
  };
  const file = path.join(dir, 'directory.json');
  await writeFile(file, JSON.stringify(directory, null, 1));
  return file;
}
