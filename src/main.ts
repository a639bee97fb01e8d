/**
 * Boot: config -> directory -> node -> signals. Exit status 2 for a configuration
 * that cannot start (named key and file), 0 after a clean shutdown, 1 otherwise.
 */
import { ConfigError, ConfigWatcher, helpText, loadConfig, parseArgs, unknownEnvVars, type LoadOptions } from './config/index.ts';
import { DirectoryError, loadDirectory } from './directory/directory.ts';
import { DirectoryWatcher } from './directory/watcher.ts';
import { AccountsError, type Accounts } from './mqtt/accounts.ts';
import { AccountsWatcher, loadAccounts } from './mqtt/accounts-file.ts';
import { createLogger } from './log/logger.ts';
import { WsmeshNode } from './node.ts';
import { AuthSetupError } from './auth/create.ts';

const options: LoadOptions = { argv: process.argv.slice(2), env: process.env };

function fail(message: string, status = 2): never {
  process.stderr.write(`wsmesh: ${message}\n`);
  process.exit(status);
}

try {
  if (parseArgs(options.argv).help) {
    process.stdout.write(`${helpText()}\n`);
    process.exit(0);
  }
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}

let loaded;
try {
  loaded = loadConfig(options);
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}
const { config } = loaded;
const log = createLogger(config.log.level).child({ node: config.node.id });

for (const name of unknownEnvVars(process.env)) {
  log.warn('config.unknown_env', { name, advice: 'no configuration key reads this variable: check its spelling (npm start -- --help lists them)' });
}
if (loaded.generated.adminToken) {
  // Printed once, on purpose not through the logger: logs never carry secrets.
  process.stdout.write(`wsmesh: no admin.token set; generated for this run: ${config.admin.token}\n`);
}
if (loaded.generated.sessionKeys) {
  log.warn('config.session_keys_generated', { advice: 'set session.keys: every node of a cluster must share them, or a cookie signed on one node is refused on another' });
}

let directory;
try {
  directory = await loadDirectory(config.directory.file);
} catch (error) {
  if (error instanceof DirectoryError) fail(`${error.message} (directory.file = ${config.directory.file})`);
  throw error;
}

let accounts: Accounts | undefined;
if (config.mqtt.accountsFile) {
  try {
    accounts = await loadAccounts(config.mqtt.accountsFile);
  } catch (error) {
    if (error instanceof AccountsError) fail(`${error.message} (mqtt.accountsFile = ${config.mqtt.accountsFile})`);
    throw error;
  }
}

let node: WsmeshNode;
try {
  node = new WsmeshNode(config, directory, { log, accounts });
} catch (error) {
  if (error instanceof AuthSetupError) fail(error.message);
  throw error;
}

// Watchers and signal handlers exist before the node says it started: a SIGHUP that
// arrives earlier would otherwise end the process (its default action).
const configWatcher = new ConfigWatcher(options, loaded);
configWatcher.on('reload', (next, diff, reason) => node.applyConfig(next.config, diff, reason));
configWatcher.on('error', (error) => log.error('config.reload_failed', { error, advice: 'the previous configuration stays in force; fix the file' }));

const directoryWatcher = new DirectoryWatcher(config.directory.file);
directoryWatcher.on('reload', (next) => node.applyDirectory(next));
directoryWatcher.on('error', (error) => log.error('directory.reload_failed', { error, advice: 'the previous directory stays in force; fix the file' }));

const accountsWatcher = config.mqtt.accountsFile ? new AccountsWatcher(config.mqtt.accountsFile) : undefined;
accountsWatcher?.on('reload', (next) => node.applyAccounts(next));
accountsWatcher?.on('error', (error) => log.error('accounts.reload_failed', { error, advice: 'the previous accounts stay in force; fix the file' }));

async function stop(signal: string): Promise<void> {
  log.info('node.signal', { signal });
  configWatcher.stop();
  directoryWatcher.stop();
  accountsWatcher?.stop();
  await node.shutdown();
  process.exit(0);
}
process.on('SIGHUP', () => configWatcher.reload('signal'));
process.once('SIGTERM', () => void stop('SIGTERM'));
process.once('SIGINT', () => void stop('SIGINT'));
configWatcher.start();
directoryWatcher.start();
accountsWatcher?.start();

try {
  const address = await node.listen();
  log.info('node.started', { host: address.address, port: address.port, route: config.server.route, configFiles: loaded.files });
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') fail(`port ${config.server.port} is in use: choose another with --port or WSMESH_PORT`);
  if (code === 'EACCES') fail(`no permission to listen on port ${config.server.port}: use a port above 1023 (--port)`);
  throw error;
}
