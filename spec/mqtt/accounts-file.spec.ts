/** The accounts file on disk: loaded with errors that name the file, and reloaded when it changes. */
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { hashPassword } from '../../src/directory/password.ts';
import { AccountsError, type Accounts } from '../../src/mqtt/accounts.ts';
import { AccountsWatcher, loadAccounts } from '../../src/mqtt/accounts-file.ts';
import { eventually } from '../support/client.ts';
import { tempDir } from '../support/node.ts';

describe('the accounts file', () => {
  const dir = tempDir();
  let hash: string;
  before(async () => {
    hash = await hashPassword('pw');
  });
  after(() => dir.cleanup());

  it('loads a valid file and says what to do about a missing one', async () => {
    const file = dir.file('accounts.json', JSON.stringify({ accounts: [{ id: 'b', kind: 'backend', password: hash }] }));
    expect([...(await loadAccounts(file)).byId.keys()]).to.deep.equal(['b']);
    const missing = await loadAccounts(`${dir.path}/nope.json`).catch((e: unknown) => e);
    expect(missing).to.be.instanceOf(AccountsError);
    expect((missing as Error).message).to.include('nope.json').and.include('mqtt.accountsFile');
  });

  it('reloads on a change, and keeps the previous accounts when the new text is invalid', async () => {
    const file = dir.file('watched.json', JSON.stringify({ accounts: [] }));
    const watcher = new AccountsWatcher(file, { debounceMs: 20 });
    const reloads: Accounts[] = [];
    const errors: Error[] = [];
    watcher.on('reload', (a) => reloads.push(a));
    watcher.on('error', (e) => errors.push(e));
    watcher.start();
    try {
      writeFileSync(file, JSON.stringify({ accounts: [{ id: 'd', kind: 'device', password: hash, context: 1, users: [3] }] }));
      await eventually(() => reloads.length === 1, 'a reload');
      expect(reloads[0].byId.get('d')).to.include({ kind: 'device', context: 1 });
      writeFileSync(file, '{"accounts": [{"id": "x", "kind": "device", "password": "clear"}]}');
      await eventually(() => errors.length === 1, 'an error');
      expect(errors[0]).to.be.instanceOf(AccountsError);
      expect(errors[0].message).to.not.include('clear"');
      expect(reloads).to.have.length(1);
    } finally {
      watcher.stop();
    }
  });
});
