/**
 * The clear passwords of the broker accounts, for generating broker password files
 * (`wsmesh broker acl --passwords F`): the accounts file holds scrypt hashes, which
 * cannot be turned into Mosquitto's or NATS's hashes, so the passwords themselves
 * are needed once. One `id:password` line per account; the password is everything
 * after the first `:` (spaces included); blank lines and lines starting with `#`
 * are skipped.
 *
 * Each password is checked against its account's scrypt hash, so a broker file is
 * never made from a password the rest of wsmesh would not accept. No message ever
 * holds a password or a line of the file (a line holds one).
 */
import { verifyPassword } from '../directory/password.ts';
import type { Accounts } from './accounts.ts';

/** What is wrong with the passwords file: every problem found, one a line. */
export class ClearPasswordsError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ClearPasswordsError';
    this.problems = problems;
  }
}

export interface ClearPassword {
  password: string;
  /** 1-based, for messages. */
  line: number;
}

/** id -> password and its line; throws a ClearPasswordsError listing every malformed or repeated line. */
export function parseClearPasswords(text: string, source: string): Map<string, ClearPassword> {
  const found = new Map<string, ClearPassword>();
  const problems: string[] = [];
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split('\n');
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const at = `${source}: line ${i + 1}`;
    if (line.trim() === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon <= 0) return void problems.push(`${at}: not "id:password"; write one account a line, its id, a colon, then its password`);
    const id = line.slice(0, colon);
    const password = line.slice(colon + 1);
    if (password === '') return void problems.push(`${at}: the password of ${JSON.stringify(id)} is empty`);
    const first = found.get(id);
    if (first) return void problems.push(`${at}: a second line for ${JSON.stringify(id)} (the first is line ${first.line}); keep one`);
    found.set(id, { password, line: i + 1 });
  });
  if (problems.length > 0) throw new ClearPasswordsError(problems);
  return found;
}

/**
 * The clear password of every account, each checked against the account's scrypt
 * hash. Throws a ClearPasswordsError naming every account without a line, every
 * line without an account, and every password that does not match.
 */
export async function checkClearPasswords(accounts: Accounts, passwords: ReadonlyMap<string, ClearPassword>, source: string): Promise<Map<string, string>> {
  const problems: string[] = [];
  for (const [id, { line }] of passwords) {
    if (!accounts.byId.has(id)) problems.push(`${source}: line ${line}: there is no account ${JSON.stringify(id)} in ${accounts.source}; remove the line, or add the account`);
  }
  const checks = [...accounts.byId.values()].map(async (account) => {
    const given = passwords.get(account.id);
    if (!given) {
      return `${source}: the account ${JSON.stringify(account.id)} has no line; add "${account.id}:<its password>", the password whose hash is in ${accounts.source}`;
    }
    if (!(await verifyPassword(given.password, account.password))) {
      return `${source}: line ${given.line}: the password of ${JSON.stringify(account.id)} does not match its hash in ${accounts.source}; write the right password here, or store this one's hash ("wsmesh hash-password") in the accounts file`;
    }
    return undefined;
  });
  for (const problem of await Promise.all(checks)) if (problem) problems.push(problem);
  if (problems.length > 0) throw new ClearPasswordsError(problems);
  return new Map([...accounts.byId.keys()].map((id) => [id, passwords.get(id)!.password]));
}
