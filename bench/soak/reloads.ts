/**
 * The reloads of the soak, each checked to have taken effect (a write the node
 * ignored would make the count a lie):
 *
 * - the directory file both nodes watch: a spare user is enabled and disabled in
 *   turn; after each write a login as that user must succeed (enabled) or be
 *   refused (disabled) on both nodes;
 * - each node's own `--config` file: `session.maxAge` switches between its base
 *   value and twice that; a login on that node must then answer a cookie expiring
 *   accordingly.
 *
 * Every login made to check is logged out at once, so the checks leave no session.
 * Files are replaced by rename, as editors save them (the watchers follow that).
 */
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hashPassword } from '../../src/directory/password.ts';
import { CONTEXT_ID, CONTEXT_NAME, PASSWORD, type BenchUser } from '../lib/directory.ts';
import { sleep } from '../lib/pool.ts';

/** The watchers debounce 100 ms; a reload applies within a few hundred ms on an idle node. */
const APPLY_TIMEOUT_MS = 10_000;
const POLL_MS = 200;

export const SPARE_LOGIN = 'soak-spare';

export interface ReloadTarget {
  name: string;
  /** `http://127.0.0.1:<port>` */
  base: string;
  configFile: string;
}

export class Reloads {
  private round = 0;

  private constructor(
    readonly directoryFile: string,
    private readonly users: readonly BenchUser[],
    private readonly hash: string,
    /** `session.maxAge` of the configs: this, and twice this on every other reload. */
    private readonly maxAgeMs: number,
  ) {}

  /** Writes the first directory (the spare disabled) into `dir`; the node configs are written by `configFile`. */
  static async create(dir: string, users: readonly BenchUser[], maxAgeMs: number): Promise<Reloads> {
    // One scrypt hash for every user: each costs tens of ms; each login still verifies it.
    const reloads = new Reloads(path.join(dir, 'directory.json'), users, await hashPassword(PASSWORD), maxAgeMs);
    await reloads.writeDirectory(false);
    return reloads;
  }

  /** Writes node `name`'s first config file into `dir` and returns its path. */
  async configFile(dir: string, name: string): Promise<string> {
    const file = path.join(dir, `node-${name}.json`);
    await writeFile(file, configText(this.maxAgeMs));
    return file;
  }

  /** One reload of every file, then the checks; throws saying which did not apply. */
  async reload(targets: readonly ReloadTarget[]): Promise<void> {
    this.round++;
    const spareEnabled = this.round % 2 === 1;
    const maxAge = spareEnabled ? 2 * this.maxAgeMs : this.maxAgeMs;
    await this.writeDirectory(spareEnabled);
    for (const target of targets) await replace(target.configFile, configText(maxAge));
    for (const target of targets) {
      await until(`directory reload on node ${target.name} (spare user ${spareEnabled ? 'enabled' : 'disabled'})`, async () => {
        const login = await tryLogin(target.base, SPARE_LOGIN);
        if (login.status === 200) await logout(target.base, login);
        return spareEnabled ? login.status === 200 : login.status === 403;
      });
      await until(`config reload on node ${target.name} (session.maxAge ${maxAge} ms)`, async () => {
        const login = await tryLogin(target.base, this.users[0].login);
        if (login.status !== 200) throw new Error(`login of ${this.users[0].login} on node ${target.name} answered HTTP ${login.status}`);
        await logout(target.base, login);
        // Expires is rounded to the second; the two values are maxAgeMs apart.
        return Math.abs(login.expiresAt - Date.now() - maxAge) < this.maxAgeMs / 2;
      });
    }
  }

  private async writeDirectory(spareEnabled: boolean): Promise<void> {
    const users = [
      ...this.users.map((user) => ({ id: user.id, context: CONTEXT_ID, login: user.login, password: this.hash, enabled: true, config: {} })),
      { id: this.users.length + 1, context: CONTEXT_ID, login: SPARE_LOGIN, password: this.hash, enabled: spareEnabled, config: {} },
    ];
    const directory = { contexts: [{ id: CONTEXT_ID, name: CONTEXT_NAME, tags: [], enabled: true, config: {} }], contextSets: [], users };
    await replace(this.directoryFile, JSON.stringify(directory, null, 1));
  }
}

function configText(maxAge: number): string {
  return JSON.stringify({ session: { maxAge } }, null, 2) + '\n';
}

async function replace(file: string, text: string): Promise<void> {
  await writeFile(`${file}.new`, text);
  await rename(`${file}.new`, file);
}

interface Attempt {
  status: number;
  session: string;
  cookie: string;
  /** Epoch ms of the session cookie's `expires`; NaN without one. */
  expiresAt: number;
}

async function tryLogin(base: string, login: string): Promise<Attempt> {
  const res = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login, password: PASSWORD }) });
  const body = (await res.json()) as { session?: string };
  const setCookies = res.headers.getSetCookie();
  const expires = setCookies.map((c) => /;\s*expires=([^;]+)/i.exec(c)?.[1]).find(Boolean);
  return { status: res.status, session: body.session ?? '', cookie: setCookies.map((c) => c.split(';')[0]).join('; '), expiresAt: expires ? Date.parse(expires) : NaN };
}

async function logout(base: string, login: { session: string; cookie: string }): Promise<void> {
  const res = await fetch(`${base}/api/logout?session=${encodeURIComponent(login.session)}`, { method: 'POST', headers: { cookie: login.cookie } });
  await res.arrayBuffer();
  if (res.status !== 204) throw new Error(`logout on ${base} answered HTTP ${res.status}`);
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + APPLY_TIMEOUT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not applied within ${APPLY_TIMEOUT_MS} ms`);
    await sleep(POLL_MS);
  }
}
