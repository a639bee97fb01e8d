/** How generated broker files name an account in their comments: `device thermo-17: context 1, users 3, 4`. */
import type { Account } from './accounts.ts';

export function accountLabel(account: Pick<Account, 'id' | 'kind' | 'context' | 'users'>): string {
  if (account.kind !== 'device') return `${account.kind} ${account.id}`;
  const users = account.users === '*' ? 'every user' : `users ${(account.users ?? []).join(', ')}`;
  return `device ${account.id}: context ${account.context}, ${users}`;
}
