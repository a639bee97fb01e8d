/** Broker accounts for the generator and CLI suites: one of each kind, and a device of every user of its context. */
import { hashPassword } from '../../src/directory/password.ts';
import { parseAccounts, type Account, type Accounts } from '../../src/mqtt/accounts.ts';

export const CLEAR: Record<string, string> = {
  'node-1': 'node-1-password',
  'thermo-17': 'thermo-17-password',
  'gateway-2': 'gateway-2-password',
  'mail-backend': 'mail-backend-password',
};

const ENTRIES: Array<Omit<Account, 'password'>> = [
  { id: 'node-1', kind: 'node' },
  { id: 'thermo-17', kind: 'device', context: 1, users: [3, 4] },
  { id: 'gateway-2', kind: 'device', context: 2, users: '*' },
  { id: 'mail-backend', kind: 'backend' },
];

/** The accounts file's text, with a scrypt hash of each CLEAR password. */
export async function accountsFileText(ids: readonly string[] = Object.keys(CLEAR)): Promise<string> {
  const accounts = await Promise.all(ENTRIES.filter((e) => ids.includes(e.id)).map(async (entry) => ({ ...entry, password: await hashPassword(CLEAR[entry.id]) })));
  return JSON.stringify({ accounts }, null, 2);
}

/** The same accounts parsed, with a placeholder hash (for generators, which never read it). */
export function accountsWithoutHashes(source = 'accounts.json'): Accounts {
  return { source, byId: new Map(ENTRIES.map((entry) => [entry.id, { ...entry, password: 'unused' }])) };
}

export async function parsedAccounts(source = 'accounts.json'): Promise<Accounts> {
  return parseAccounts(await accountsFileText(), source);
}

export const PASSWORDS: ReadonlyMap<string, string> = new Map(Object.entries(CLEAR));
