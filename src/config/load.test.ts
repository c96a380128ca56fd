import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError } from '../errors.ts';
import { interpolate, loadConfig, parseConfig } from './load.ts';

const FILE = 'gatehouse.yaml';
const MINIMAL = 'upstreams:\n  everything:\n    transport: stdio\n    command: node\n';

/** The ConfigError message parseConfig throws for `text` (fails the test if it does not throw). */
function errorFor(text: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConfig(text, FILE, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected the config to be rejected');
}

describe('parseConfig', () => {
  test('fills every default from the schema for a minimal file', () => {
    const config = parseConfig(MINIMAL, FILE, {});
    assert.equal(config.listen.host, '127.0.0.1');
    assert.equal(config.listen.port, 4680);
    assert.equal(config.naming.separator, '__');
    assert.equal(config.naming.prefix, 'always');
    const upstream = config.upstreams.everything;
    assert.equal(upstream?.transport, 'stdio');
    assert.deepEqual(upstream.args, []);
    assert.deepEqual(upstream.env, {});
    assert.equal(upstream.timeoutMs, 60_000);
    assert.equal(upstream.connectTimeoutMs, 15_000);
    assert.deepEqual(config.virtualServers, {});
  });

  test('names the file when the YAML does not parse', () => {
    const message = errorFor('upstreams:\n  a: [unclosed\n');
    assert.match(message, /^gatehouse\.yaml: not valid YAML/);
  });

  test('rejects duplicate keys as invalid YAML', () => {
    assert.match(errorFor(`${MINIMAL}listen: {}\nlisten: {}\n`), /gatehouse\.yaml: not valid YAML/);
  });

  test('rejects an unknown top-level key and names it', () => {
    const message = errorFor(`${MINIMAL}lisen:\n  port: 1\n`);
    assert.match(message, /^gatehouse\.yaml: invalid configuration/);
    assert.match(message, /\(root\): unknown key\(s\) lisen: remove or correct them/);
  });

  test('rejects an unknown key and names its path', () => {
    const message = errorFor(`${MINIMAL}listen:\n  prot: 8080\n`);
    assert.match(message, /- listen: unknown key\(s\) prot/);
  });

  test('rejects an unknown key inside an upstream and names the upstream', () => {
    const message = errorFor('upstreams:\n  fs:\n    transport: stdio\n    command: node\n    argz: []\n');
    assert.match(message, /- upstreams\.fs: unknown key\(s\) argz/);
  });

  test('rejects an unknown key inside a virtual server override and names the full path', () => {
    const message = errorFor(
      `${MINIMAL}virtualServers:\n  ro:\n    overrides:\n      t:\n        descripton: x\n`,
    );
    assert.match(message, /- virtualServers\.ro\.overrides\.t: unknown key\(s\) descripton/);
  });

  test('names the path of a value of the wrong type', () => {
    const message = errorFor(`${MINIMAL}sessions:\n  idleTtlSeconds: soon\n`);
    assert.match(message, /- sessions\.idleTtlSeconds: /);
  });

  test('rejects an unknown transport and names the upstream', () => {
    const message = errorFor('upstreams:\n  a:\n    transport: carrier-pigeon\n');
    assert.match(message, /- upstreams\.a(\.transport)?: /);
  });

  test('requires at least one upstream', () => {
    assert.match(errorFor('upstreams: {}\n'), /upstreams: configure at least one upstream server/);
    assert.match(errorFor(''), /- upstreams: /);
  });

  test('rejects an upstream name the URL paths cannot carry', () => {
    const message = errorFor('upstreams:\n  "bad name":\n    transport: stdio\n    command: node\n');
    assert.match(message, /- upstreams\.bad name: invalid name: use 1-32 letters/);
  });

  test('rejects an empty or blank port instead of silently taking any free port', () => {
    const text = `${MINIMAL}listen:\n  port: "\${PORT:-}"\n`;
    assert.match(errorFor(text), /- listen\.port: use a port number/);
    assert.match(errorFor(`${MINIMAL}listen:\n  port:\n`), /- listen\.port: use a port number/);
    assert.match(errorFor(`${MINIMAL}listen:\n  port: "80a"\n`), /- listen\.port: use a port number/);
    assert.match(errorFor(`${MINIMAL}listen:\n  port: 70000\n`), /- listen\.port: /);
    assert.equal(parseConfig(`${MINIMAL}listen:\n  port: 0\n`, FILE, {}).listen.port, 0);
  });

  test('rejects a virtual server naming an unknown upstream', () => {
    const message = errorFor(`${MINIMAL}virtualServers:\n  ro:\n    servers: [everything, nosuch]\n`);
    assert.match(message, /^gatehouse\.yaml: virtualServers\.ro\.servers: no upstream named "nosuch"/);
  });

  test('replaces ${NAME} with the environment variable', () => {
    const text = `${MINIMAL}    env:\n      TOKEN: "Bearer \${API_TOKEN}"\n`;
    const config = parseConfig(text, FILE, { API_TOKEN: 's3cret' });
    const upstream = config.upstreams.everything;
    assert.equal(upstream?.transport, 'stdio');
    assert.deepEqual(upstream?.transport === 'stdio' && upstream.env, { TOKEN: 'Bearer s3cret' });
  });

  test('uses the ${NAME:-default} fallback only when the variable is unset', () => {
    const text = `${MINIMAL}listen:\n  host: "\${HOST:-127.0.0.1}"\n  port: \${PORT:-4999}\n`;
    const unset = parseConfig(text, FILE, {});
    assert.equal(unset.listen.host, '127.0.0.1');
    assert.equal(unset.listen.port, 4999);
    const set = parseConfig(text, FILE, { PORT: '5111', HOST: 'localhost' });
    assert.equal(set.listen.port, 5111, 'a port from the environment is coerced to a number');
    assert.equal(set.listen.host, 'localhost');
  });

  test('keeps $${NAME} as the literal text ${NAME}', () => {
    const text = `${MINIMAL}    args: ["$\${HOME}", "a$\${X:-y}b"]\n`;
    const config = parseConfig(text, FILE, { HOME: '/root', X: 'x' });
    const upstream = config.upstreams.everything;
    assert.deepEqual(upstream?.transport === 'stdio' && upstream.args, ['${HOME}', 'a${X:-y}b']);
  });

  test('names the file, the path and the variable when an environment variable is missing', () => {
    const message = errorFor(`${MINIMAL}    env:\n      TOKEN: \${MISSING_TOKEN}\n`);
    assert.match(message, /^gatehouse\.yaml: upstreams\.everything\.env\.TOKEN: /);
    assert.match(message, /environment variable MISSING_TOKEN is not set/);
    assert.match(message, /\$\{MISSING_TOKEN:-default\}/, 'says how to give a fallback');
  });

  test('returns a deeply frozen config', () => {
    const config = parseConfig(
      `${MINIMAL}    args: [a]\nvirtualServers:\n  ro:\n    include: ["x*"]\n`,
      FILE,
      {},
    );
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.listen));
    assert.ok(Object.isFrozen(config.upstreams.everything));
    const include = config.virtualServers.ro?.include;
    assert.ok(include && Object.isFrozen(include));
    assert.throws(() => {
      (config.listen as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => {
      (include as string[]).push('y');
    }, TypeError);
  });
});

describe('interpolate', () => {
  test('walks arrays and objects and leaves non-strings alone', () => {
    const out = interpolate({ a: ['${A}', 1, true, null], b: { c: '${B:-d}' } }, { A: 'x' });
    assert.deepEqual(out, { a: ['x', 1, true, null], b: { c: 'd' } });
  });

  test('uses the fallback for an empty variable too, as the shell does', () => {
    assert.equal(interpolate('[${A:-fallback}]', { A: '' }), '[fallback]');
    assert.equal(interpolate('[${A}]', { A: '' }), '[]', 'without a fallback, empty is a value');
  });

  test('replaces several variables in one string', () => {
    assert.equal(interpolate('${A}-${B}-${A}', { A: '1', B: '2' }), '1-2-1');
  });

  test('leaves text that only looks like a variable alone', () => {
    assert.equal(interpolate('$A ${1x} $ {A}', { A: 'no' }), '$A ${1x} $ {A}');
  });

  test('does not interpolate the value of a variable again', () => {
    assert.equal(interpolate('${A}', { A: '${B}', B: 'no' }), '${B}');
  });
});

describe('loadConfig', () => {
  test('names the file it cannot read and the reason', async () => {
    await assert.rejects(loadConfig('/nonexistent/gatehouse.yaml', {}), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /^\/nonexistent\/gatehouse\.yaml: cannot read the file \(ENOENT\)/);
      return true;
    });
  });

  test('reads and validates a file from disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-load-'));
    try {
      const file = join(dir, 'gatehouse.yaml');
      await writeFile(file, MINIMAL);
      const config = await loadConfig(file, {});
      assert.deepEqual(Object.keys(config.upstreams), ['everything']);
      await writeFile(file, `${MINIMAL}bogus: 1\n`);
      await assert.rejects(loadConfig(file, {}), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.ok(err.message.startsWith(`${file}: invalid configuration`));
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('secrets from files', () => {
  test('replaces ${file:PATH} with the file content, without interpolating what it brings in', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-secret-'));
    const file = join(dir, 'token');
    await writeFile(file, 's3cret-${HOME}\n');
    assert.equal(interpolate(`Bearer \${file:${file}}`, {}), 'Bearer s3cret-${HOME}');
    assert.equal(interpolate(`$\${file:${file}}`, {}), `\${file:${file}}`);
    await rm(dir, { recursive: true, force: true });
  });

  test('names a missing secret file and its config path, never any content', () => {
    assert.throws(
      () =>
        interpolate({ upstreams: { gh: { headers: { authorization: '${file:/nonexistent/token}' } } } }, {}),
      (err: Error) =>
        /upstreams\.gh\.headers\.authorization: cannot read \/nonexistent\/token \(ENOENT\)/.test(
          err.message,
        ),
    );
  });
});
