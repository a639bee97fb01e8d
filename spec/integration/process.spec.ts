/**
 * The node as a process: boot errors, reloads by signal and by file change, and
 * shutdown on SIGTERM / SIGINT.
 */
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { login, openSocket, push, type TestSocket } from '../support/client.ts';
import { killAll, runNode, startNodeProcess } from '../support/process.ts';
import { tempDir } from '../support/node.ts';

describe('wsmesh process', function () {
  this.timeout(30000);
  const dir = tempDir();
  const sockets: TestSocket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    await killAll();
  });
  after(() => dir.cleanup());

  describe('boot', () => {
    it('exits with 2 naming the key and the file when a config file holds an invalid value', async () => {
      const file = dir.file('bad.json', JSON.stringify({ websockets: { remote: { delayDuration: 5000 } } }));
      const proc = runNode(['--config', file]);
      const { code } = await proc.exited;
      expect(code).to.equal(2);
      const message = proc.stderr.join('\n');
      expect(message).to.contain('websockets.remote.delayDuration').and.to.contain(file);
    });

    it('exits with 2 naming the alias key and the file for a bad .properties value', async () => {
      const file = dir.file('bad.properties', 'com.openexchange.websockets.grizzly.remote.timerFrequency=often\n');
      const proc = runNode(['--config', file]);
      expect((await proc.exited).code).to.equal(2);
      expect(proc.stderr.join('\n')).to.contain('websockets.remote.timerFrequency').and.to.contain(file);
    });

    it('exits with 2 when the directory file is invalid, naming it', async () => {
      const file = dir.file('directory.json', '{"contexts": [}');
      const proc = runNode(['--directory.file', file]);
      expect((await proc.exited).code).to.equal(2);
      expect(proc.stderr.join('\n')).to.contain(file);
    });

    it('exits with 2 when the accounts file is invalid, naming it, the location and the fix', async () => {
      const file = dir.file('accounts.json', '{"accounts": [{"id": "thermo", "kind": "device", "password": "clear-text", "context": 1, "users": [3]}]}');
      const proc = runNode(['--mqtt.accountsFile', file]);
      expect((await proc.exited).code).to.equal(2);
      const stderr = proc.stderr.join('\n');
      expect(stderr).to.contain(file).and.contain('accounts[0].password').and.contain('hash-password');
      expect(stderr).to.not.contain('clear-text');
    });

    it('exits with 2 when auth.jwt.publicKeyFile cannot be used, naming the key and the fix', async () => {
      const file = dir.file('not-a-key.pem', 'hello');
      const proc = runNode(['--auth.jwt.publicKeyFile', file]);
      expect((await proc.exited).code).to.equal(2);
      expect(proc.stderr.join('\n')).to.contain('auth.jwt.publicKeyFile').and.contain('BEGIN PUBLIC KEY');
    });

    it('exits with 2 when auth.proxy.url holds credentials, which fetch refuses', async () => {
      const proc = runNode(['--auth.proxy.url', 'http://user:secret@127.0.0.1:9/connect']);
      expect((await proc.exited).code).to.equal(2);
      expect(proc.stderr.join('\n')).to.contain('auth.proxy.url').and.not.contain('secret@');
    });

    it('exits with 2 and names the flag to change when the port is in use', async () => {
      const first = await startNodeProcess();
      const second = runNode(['--host', '127.0.0.1', '--port', String(first.port)]);
      expect((await second.exited).code).to.equal(2);
      expect(second.stderr.join('\n')).to.contain('--port');
    });

    it('prints a generated admin token once when none is configured, and never logs it', async () => {
      const proc = await startNodeProcess([], { WSMESH_ADMIN_TOKEN: '' });
      const line = proc.stdout.find((l) => l.includes('admin.token'))!;
      const token = line.split(': ').pop()!;
      expect(token).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(proc.stderr.join('\n')).not.to.contain(token);
      const res = await fetch(`${proc.url}/api/admin/stats`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).to.equal(200);
    });
  });

  describe('reload', () => {
    it('applies websockets.maxSocketsPerUser from an edited file on SIGHUP, without a restart', async () => {
      const file = dir.file('limits.json', JSON.stringify({ websockets: { maxSocketsPerUser: 1 } }));
      const proc = await startNodeProcess(['--config', file]);
      const auth = await login(proc.url);
      sockets.push(await openSocket(`ws://127.0.0.1:${proc.port}`, auth));
      const refused = await openSocket(`ws://127.0.0.1:${proc.port}`, auth).catch((e) => e);
      expect(refused.status).to.equal(429);

      proc.child.kill('SIGSTOP'); // hold the process so the file watcher cannot beat the signal
      writeFileSync(file, JSON.stringify({ websockets: { maxSocketsPerUser: 2 } }));
      proc.child.kill('SIGHUP');
      proc.child.kill('SIGCONT');
      await proc.waitForLog((l) => l.event === 'config.reloaded', 'config.reloaded');
      sockets.push(await openSocket(`ws://127.0.0.1:${proc.port}`, auth));
    });

    it('reloads when a config file changes, and logs a non-reloadable key as needing a restart', async () => {
      const file = dir.file('reload.json', JSON.stringify({ log: { level: 'info' } }));
      const proc = await startNodeProcess(['--config', file]);
      writeFileSync(file, JSON.stringify({ log: { level: 'debug' }, websockets: { paths: ['/ws'] } }));
      const restart = await proc.waitForLog((l) => l.event === 'config.restart_required', 'config.restart_required');
      expect(restart.restartRequired).to.deep.equal(['websockets.paths']);
      const applied = await proc.waitForLog((l) => l.event === 'config.reloaded', 'config.reloaded');
      expect(applied.applied).to.deep.equal(['log.level']);
      // The running paths did not change: /socket.io still answers as a socket path
      // (Engine.IO's 400 for a request without Upgrade, not a 404).
      const answer = await fetch(`${proc.url}/socket.io/x`);
      expect(answer.status).to.equal(400);
      expect(await answer.json()).to.deep.equal({ code: 0, message: 'Transport unknown' });
    });

    it('keeps the previous config and logs the error when a reloaded file is invalid', async () => {
      const file = dir.file('invalid-later.json', JSON.stringify({ websockets: { maxSocketsPerUser: 3 } }));
      const proc = await startNodeProcess(['--config', file]);
      writeFileSync(file, '{ not json');
      proc.child.kill('SIGHUP');
      const error = await proc.waitForLog((l) => l.event === 'config.reload_failed', 'config.reload_failed');
      expect(JSON.stringify(error)).to.contain(file);
      expect((await fetch(`${proc.url}/healthz`)).status).to.equal(200);
    });

    it('reloads the directory when its file changes', async () => {
      const text = (await import('node:fs')).readFileSync('config/directory.json', 'utf8');
      const file = dir.file('dir-reload.json', text);
      const proc = await startNodeProcess(['--directory.file', file]);
      expect((await login(proc.url)).userId).to.equal(3);
      const data = JSON.parse(text);
      data.users = data.users.filter((u: { login: string }) => u.login !== 'alice');
      writeFileSync(file, JSON.stringify(data));
      await proc.waitForLog((l) => l.event === 'directory.reloaded', 'directory.reloaded');
      const res = await fetch(`${proc.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'alice@demo', password: 'wonderland' }) });
      expect(res.status).to.equal(401);
    });
  });

  describe('the accounts file', () => {
    it('is loaded at start and reloaded when it changes', async () => {
      const text = readFileSync('config/accounts.json', 'utf8');
      const file = dir.file('accounts-reload.json', text);
      const proc = await startNodeProcess(['--mqtt.accountsFile', file]);
      const data = JSON.parse(text);
      data.accounts.push({ ...data.accounts[0], id: 'second-thermostat' });
      writeFileSync(file, JSON.stringify(data));
      const line = await proc.waitForLog((l) => l.event === 'accounts.reloaded', 'accounts.reloaded');
      expect(line).to.include({ accounts: 2, clientsEnded: 0 });
    });
  });

  describe('shutdown', () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      it(`closes sockets with 1001 and exits 0 on ${signal}`, async () => {
        const proc = await startNodeProcess();
        const auth = await login(proc.url);
        const socket = await openSocket(`ws://127.0.0.1:${proc.port}`, auth);
        sockets.push(socket);
        const sent = await push(proc.url, { contextId: 1, userId: 3, message: 'before shutdown' });
        expect(sent.body.local).to.equal(1);
        proc.child.kill(signal);
        expect(await socket.closedWith(5000)).to.equal(1001);
        expect(await proc.exited).to.deep.equal({ code: 0, signal: null });
        expect(socket.frames).to.deep.equal(['before shutdown']);
      });
    }

    it('exits 0 within server.shutdownTimeout when a client never answers the close', async () => {
      const proc = await startNodeProcess(['--server.shutdownTimeout', '500']);
      const socket = await openSocket(`ws://127.0.0.1:${proc.port}`, await login(proc.url));
      sockets.push(socket);
      (socket.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const started = Date.now();
      proc.child.kill('SIGTERM');
      expect((await proc.exited).code).to.equal(0);
      expect(Date.now() - started).to.be.below(5000);
    });
  });
});
