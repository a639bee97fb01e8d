import { expect } from 'chai';
import { ConfigError } from '../../src/config/error.ts';
import { deriveNodeId, loadConfig, unknownEnvVars, type LoadedConfig, type LoadOptions } from '../../src/config/load.ts';
import { makeTempDir, type TempDir } from './support/temp-dir.ts';

const HOST = { hostname: 'test-host' };

function load(options: Partial<LoadOptions> = {}): LoadedConfig {
  return loadConfig({ argv: [], env: {}, ...HOST, ...options });
}

/** The ConfigError `fn` throws; fails the test when it throws nothing else. */
function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  expect.fail('expected a ConfigError');
}

describe('config load', () => {
  let dir: TempDir;

  beforeEach(() => {
    dir = makeTempDir();
  });

  afterEach(() => {
    dir.remove();
  });

  describe('#loadConfig', () => {
    it('returns the schema defaults when no source sets anything', () => {
      const { config, sources, files } = load();
      expect(config.server).to.deep.equal({ host: '0.0.0.0', port: 8009, route: 'test-host-8009', shutdownTimeout: 10000, drainDuration: 10000, trustProxy: false, proxyHops: 1, trustedProxies: [], headersTimeout: 5000, requestTimeout: 10000, admissionSlice: 5, backlog: 4096 });
      expect(config.session).to.include({ maxAge: 3600000, ipCheck: true, cookieName: 'wsmesh-secret' });
      expect(config.websockets).to.deep.include({
        enabled: true,
        paths: ['/ws', '/socket.io'],
        maxSocketsPerUser: 8,
        allowedOrigins: [],
        pingInterval: 25000,
        pingTimeout: 20000,
        maxPayload: 65536,
        maxBufferedBytes: 1048576,
        remote: { delayDuration: 1000, maxDelayDuration: 3000, timerFrequency: 500 },
      });
      expect(config.directory.file).to.equal('config/directory.json');
      expect(config.log.level).to.equal('info');
      expect(files).to.deep.equal([]);
      expect(sources['server.port']).to.equal('default');
      expect(sources['websockets.remote.timerFrequency']).to.equal('default');
    });

    it('lets a file override a default, env the file, and a flag env', () => {
      const file = dir.write('a.json', JSON.stringify({ server: { port: 7000 }, log: { level: 'warn' }, session: { maxAge: 5 } }));
      const fromFile = load({ argv: ['--config', file] });
      expect(fromFile.config.server.port).to.equal(7000);
      expect(fromFile.sources['server.port']).to.equal(file);

      const fromEnv = load({ argv: ['--config', file], env: { WSMESH_PORT: '7001', WSMESH_LOG_LEVEL: 'debug' } });
      expect(fromEnv.config.server.port).to.equal(7001);
      expect(fromEnv.sources['server.port']).to.equal('env WSMESH_PORT');

      const fromFlag = load({ argv: ['--port', '7002', '--config', file], env: { WSMESH_PORT: '7001' } });
      expect(fromFlag.config.server.port).to.equal(7002);
      expect(fromFlag.sources['server.port']).to.equal('flag --port');
      expect(fromFlag.config.log.level).to.equal('warn');
      expect(fromFlag.config.session.maxAge).to.equal(5);
      expect(fromFlag.sources['session.maxAge']).to.equal(file);
    });

    it('lets the later of two files win, key by key', () => {
      const first = dir.write('first.json', JSON.stringify({ server: { port: 7000, host: '127.0.0.1' } }));
      const second = dir.write('second.properties', 'server.port=7100\n');
      const { config, sources, files } = load({ argv: ['--config', first, '--config', second] });
      expect(config.server.port).to.equal(7100);
      expect(sources['server.port']).to.equal(second);
      expect(config.server.host).to.equal('127.0.0.1');
      expect(sources['server.host']).to.equal(first);
      expect(files).to.deep.equal([first, second]);
    });

    it('reads --port 9000 and --port=9000 alike', () => {
      expect(load({ argv: ['--port', '9000'] }).config.server.port).to.equal(9000);
      expect(load({ argv: ['--port=9000'] }).config.server.port).to.equal(9000);
    });

    it('accepts the generic dotted flag and the generic env name of any key', () => {
      const { config, sources } = load({
        argv: ['--websockets.maxSocketsPerUser', '3', '--session.ipCheck=false'],
        env: { WSMESH_WEBSOCKETS_REMOTE_DELAY_DURATION: '200', WSMESH_WEBSOCKETS_ALLOWED_ORIGINS: 'https://a.example, https://b.example' },
      });
      expect(config.websockets.maxSocketsPerUser).to.equal(3);
      expect(config.session.ipCheck).to.equal(false);
      expect(config.websockets.remote.delayDuration).to.equal(200);
      expect(config.websockets.allowedOrigins).to.deep.equal(['https://a.example', 'https://b.example']);
      expect(sources['websockets.remote.delayDuration']).to.equal('env WSMESH_WEBSOCKETS_REMOTE_DELAY_DURATION');
      expect(sources['websockets.maxSocketsPerUser']).to.equal('flag --websockets.maxSocketsPerUser');
    });

    it('resolves a relative --config path against cwd', () => {
      const file = dir.write('rel.json', '{"server": {"port": 7300}}');
      const { config, files } = load({ argv: ['--config', 'rel.json'], cwd: dir.path });
      expect(config.server.port).to.equal(7300);
      expect(files).to.deep.equal([file]);
    });

    it('reads nested JSON objects, dotted JSON keys and JSON arrays', () => {
      const file = dir.write('c.json', JSON.stringify({ websockets: { remote: { timerFrequency: 50 }, paths: ['/push'] }, 'session.keys': ['k1', 'k2'] }));
      const { config, generated } = load({ argv: ['--config', file] });
      expect(config.websockets.remote.timerFrequency).to.equal(50);
      expect(config.websockets.paths).to.deep.equal(['/push']);
      expect(config.session.keys).to.deep.equal(['k1', 'k2']);
      expect(generated.sessionKeys).to.equal(false);
    });

    it('applies a reference-product .properties file through its aliases', () => {
      const file = dir.write(
        'websockets.properties',
        [
          '# reference product settings',
          'com.openexchange.websockets.enabled=false',
          'com.openexchange.websockets.grizzly.remote.delayDuration = 100',
          'com.openexchange.websockets.grizzly.remote.maxDelayDuration: 900',
          'com.openexchange.websockets.grizzly.remote.timerFrequency 50',
          'websockets.paths = /ws, \\',
          '    /push',
        ].join('\n'),
      );
      const { config, sources } = load({ argv: ['--config', file] });
      expect(config.websockets.enabled).to.equal(false);
      expect(config.websockets.remote).to.deep.equal({ delayDuration: 100, maxDelayDuration: 900, timerFrequency: 50 });
      expect(config.websockets.paths).to.deep.equal(['/ws', '/push']);
      expect(sources['websockets.remote.delayDuration']).to.equal(file);
    });

    it('states the key, value, file and remedy when delayDuration exceeds maxDelayDuration', () => {
      const file = dir.write('my.json', JSON.stringify({ websockets: { remote: { delayDuration: 5000 } } }));
      const err = configErrorOf(() => load({ argv: ['--config', file] }));
      expect(err.message).to.equal(
        `Invalid configuration: websockets.remote.delayDuration = 5000 (from ${file}) must not exceed websockets.remote.maxDelayDuration (3000). Fix the file and restart.`,
      );
      expect(err.key).to.equal('websockets.remote.delayDuration');
      expect(err.source).to.equal(file);
    });

    it('blames the file that lowered maxDelayDuration below the default delayDuration', () => {
      const file = dir.write('max.json', JSON.stringify({ websockets: { remote: { maxDelayDuration: 500 } } }));
      const err = configErrorOf(() => load({ argv: ['--config', file] }));
      expect(err.key).to.equal('websockets.remote.delayDuration');
      expect(err.source).to.equal(file);
      expect(err.message).to.include(`websockets.remote.maxDelayDuration (500, from ${file})`).and.include('Fix the file');
    });

    describe('when a source is invalid', () => {
      type Case = { what: string; setup: (dir: TempDir) => Partial<LoadOptions>; key?: string; source: (dir: TempDir) => string; says: RegExp[] };
      const cases: Case[] = [
        {
          what: 'a value of the wrong type in a JSON file',
          setup: (d) => ({ argv: ['--config', d.write('t.json', '{"server": {"port": "http"}}')] }),
          key: 'server.port',
          source: (d) => `${d.path}/t.json`,
          says: [/server\.port = "http"/, /integer from 0 to 65535/, /Fix the file and restart/],
        },
        {
          what: 'a boolean given as a number',
          setup: (d) => ({ argv: ['--config', d.write('b.json', '{"session": {"ipCheck": 1}}')] }),
          key: 'session.ipCheck',
          source: (d) => `${d.path}/b.json`,
          says: [/true or false/],
        },
        {
          what: 'an unknown key in a JSON file',
          setup: (d) => ({ argv: ['--config', d.write('u.json', '{"websockets": {"maxSockets": 3}}')] }),
          key: 'websockets.maxSockets',
          source: (d) => `${d.path}/u.json`,
          says: [/unknown key "websockets\.maxSockets"/, /fix its spelling/],
        },
        {
          what: 'an unknown section in a JSON file',
          setup: (d) => ({ argv: ['--config', d.write('s.json', '{"bogus": {}}')] }),
          key: 'bogus',
          source: (d) => `${d.path}/s.json`,
          says: [/unknown key "bogus"/],
        },
        {
          what: 'delayDuration above maxDelayDuration in a .properties file',
          setup: (d) => ({
            argv: ['--config', d.write('r.properties', 'com.openexchange.websockets.grizzly.remote.maxDelayDuration=100\ncom.openexchange.websockets.grizzly.remote.delayDuration=200\n')],
          }),
          key: 'websockets.remote.delayDuration',
          source: (d) => `${d.path}/r.properties`,
          says: [/delayDuration = 200/, /r\.properties:2/, /must not exceed websockets\.remote\.maxDelayDuration \(100, from .*r\.properties:1\)/],
        },
        {
          what: 'an unknown key in a .properties file',
          setup: (d) => ({ argv: ['--config', d.write('k.properties', '\nfoo.bar=1')] }),
          key: 'foo.bar',
          source: (d) => `${d.path}/k.properties`,
          says: [/k\.properties:2/],
        },
        {
          what: 'a missing file',
          setup: (d) => ({ argv: ['--config', `${d.path}/nope.json`] }),
          source: (d) => `${d.path}/nope.json`,
          says: [/nope\.json \(from --config\) does not exist/],
        },
        {
          what: 'a file of another type',
          setup: (d) => ({ argv: ['--config', d.write('c.yaml', 'a: 1')] }),
          source: (d) => `${d.path}/c.yaml`,
          says: [/must end in \.json or \.properties/],
        },
        {
          what: 'bad JSON',
          setup: (d) => ({ argv: ['--config', d.write('bad.json', '{"server": ')] }),
          source: (d) => `${d.path}/bad.json`,
          says: [/bad\.json is not valid JSON/, /Fix the file and restart/],
        },
        {
          what: 'JSON that is not an object',
          setup: (d) => ({ argv: ['--config', d.write('arr.json', '[1]')] }),
          source: (d) => `${d.path}/arr.json`,
          says: [/must hold a JSON object/],
        },
        {
          what: 'an unknown flag',
          setup: () => ({ argv: ['--websockets.maxSockets', '3'] }),
          source: () => 'flag --websockets.maxSockets',
          says: [/unknown command-line flag --websockets\.maxSockets/],
        },
        {
          what: 'a bad env value',
          setup: () => ({ env: { WSMESH_PORT: 'eighty' } }),
          key: 'server.port',
          source: () => 'env WSMESH_PORT',
          says: [/server\.port = "eighty" \(from env WSMESH_PORT\)/, /Fix the environment variable WSMESH_PORT/],
        },
        {
          what: 'a bad flag value',
          setup: () => ({ argv: ['--route', 'a.b'] }),
          key: 'server.route',
          source: () => 'flag --route',
          says: [/server\.route = "a\.b" \(from flag --route\)/, /Fix the --route flag/],
        },
        {
          what: 'a node id too long',
          setup: () => ({ env: { WSMESH_NODE_ID: 'n'.repeat(65) } }),
          key: 'node.id',
          source: () => 'env WSMESH_NODE_ID',
          says: [/at most 64/],
        },
        {
          what: 'a bad admin token type, without echoing the secret',
          setup: (d) => ({ argv: ['--config', d.write('tok.json', '{"admin": {"token": 12345}}')] }),
          key: 'admin.token',
          source: (d) => `${d.path}/tok.json`,
          says: [/admin\.token = \[sensitive\]/],
        },
      ];
      for (const { what, setup, key, source, says } of cases) {
        it(`throws a ConfigError naming the key and source on ${what}`, () => {
          const err = configErrorOf(() => load(setup(dir)));
          expect(err.key).to.equal(key);
          expect(err.source).to.equal(source(dir));
          expect(err.message).to.match(/^Invalid configuration: /);
          if (key) expect(err.message).to.include(key);
          expect(err.message).to.include(source(dir).replace(/^(env|flag) /, ''));
          for (const pattern of says) expect(err.message).to.match(pattern);
          expect(err.message).not.to.include('12345');
        });
      }
    });

    it('derives node.id from hostname and port and uses it as the route', () => {
      const { config, sources } = load({ argv: ['--port', '9000'], hostname: 'web.01.example.com' });
      expect(config.node.id).to.equal('web-01-example-com-9000');
      expect(config.server.route).to.equal('web-01-example-com-9000');
      expect(sources['node.id']).to.equal('derived');
      expect(sources['server.route']).to.equal('derived');
    });

    it('uses a set node.id as the route, and keeps a set route', () => {
      expect(load({ argv: ['--node-id', 'n1'] }).config.server.route).to.equal('n1');
      const both = load({ argv: ['--node-id', 'n1', '--route', 'r1'] });
      expect(both.config.server.route).to.equal('r1');
      expect(both.sources['server.route']).to.equal('flag --route');
    });

    it('generates an admin token and a session key when unset, and says so', () => {
      const { config, generated, sources } = load();
      expect(generated).to.deep.equal({ adminToken: true, sessionKeys: true });
      expect(config.admin.token).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(config.session.keys).to.have.length(1);
      expect(config.session.keys[0]).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(sources['admin.token']).to.equal('generated');
      expect(load().config.admin.token).not.to.equal(config.admin.token);
    });

    it('keeps the generated secrets across a reload given previous', () => {
      const first = load();
      const second = load({ previous: first, argv: ['--log-level', 'debug'] });
      expect(second.config.admin.token).to.equal(first.config.admin.token);
      expect(second.config.session.keys).to.deep.equal(first.config.session.keys);
      expect(second.generated).to.deep.equal({ adminToken: true, sessionKeys: true });
    });

    it('keeps the token in force when a reload finds it unset (a new token nobody saw would lock operators out)', () => {
      const set = load({ env: { WSMESH_ADMIN_TOKEN: 's3cret-token' } });
      expect(set.config.admin.token).to.equal('s3cret-token');
      expect(set.generated.adminToken).to.equal(false);
      const unset = load({ previous: set });
      expect(unset.generated.adminToken).to.equal(true);
      expect(unset.config.admin.token).to.equal('s3cret-token');
    });
  });

  describe('#deriveNodeId', () => {
    it('keeps the port when it shortens a long host name to 64 characters', () => {
      const id = deriveNodeId('h'.repeat(100), 8009);
      expect(id).to.have.length(64);
      expect(id.endsWith('-8009')).to.equal(true);
    });

    it('falls back to "node" when the host name is empty', () => {
      expect(deriveNodeId('', 1)).to.equal('node-1');
    });
  });

  describe('#unknownEnvVars', () => {
    it('lists WSMESH_ variables that set no key', () => {
      expect(unknownEnvVars({ WSMESH_PORT: '1', WSMESH_PROT: '1', HOME: '/root', WSMESH_SERVER_PORT: '2' })).to.deep.equal(['WSMESH_PROT', 'WSMESH_SERVER_PORT']);
    });
  });
});
