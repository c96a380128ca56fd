// `gatehouse secrets` as an operator runs it: the real command in child processes, values on
// stdin, a config file naming the store and the master key (or --store and an environment key).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { newMasterKey } from '../../src/secrets/cipher.ts';
import { secretStore } from '../../src/secrets/store.ts';
import { type CliResult, gatehouse } from '../helpers/cli.ts';

const VALUE = 'sk-live-31f0a9c2e7';
const ROTATED = 'sk-live-rotated-88d1';

describe('gatehouse secrets', () => {
  let dir: string;
  const key = newMasterKey();
  const env = { PATH: process.env['PATH'], STORE_KEY: key };
  /** Runs in `dir`, where gatehouse.yaml (the default config) names ./secrets.json. */
  const secrets = (args: string[], input?: string, environment: NodeJS.ProcessEnv = env) =>
    gatehouse(['secrets', ...args], {
      cwd: dir,
      env: environment,
      ...(input === undefined ? {} : { input }),
    });
  const storeValue = (name: string) =>
    secretStore(join(dir, 'secrets.json'), Buffer.from(key, 'hex')).get(name);
  const assertNoLeak = (result: CliResult) => {
    for (const value of [VALUE, ROTATED, key]) {
      assert.ok(!result.stdout.includes(value) && !result.stderr.includes(value), JSON.stringify(result));
    }
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-secrets-cli-'));
    await writeFile(
      join(dir, 'gatehouse.yaml'),
      'secrets:\n  store: secrets.json\n  masterKey: { env: STORE_KEY }\nupstreams:\n  x: { transport: stdio, command: "true" }\n',
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('new-key prints a fresh 64-hex master key on stdout', async () => {
    const [a, b] = await Promise.all([secrets(['new-key']), secrets(['new-key'])]);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /^[0-9a-f]{64}\n$/);
    assert.notEqual(a.stdout, b.stdout);
  });

  test('set reads the value from stdin, drops one trailing newline, and prints only the name and version', async () => {
    const result = await secrets(['set', 'API_TOKEN'], `${VALUE}\n`);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'Set secret API_TOKEN (version 1).\n');
    assertNoLeak(result);
    assert.equal(storeValue('API_TOKEN'), VALUE);
    assert.ok(
      !(await readFile(join(dir, 'secrets.json'), 'utf8')).includes(VALUE),
      'the file holds it sealed',
    );
  });

  test('list shows names, versions and update times, never values', async () => {
    await secrets(['set', 'OTHER.key-1'], 'second\n');
    const result = await secrets(['list']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.match(lines[0]!, /^NAME\s+VERSION\s+UPDATED$/);
    assert.match(lines[1]!, /^API_TOKEN\s+1\s+\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    assert.match(lines[2]!, /^OTHER\.key-1\s+1\s+/);
    assert.ok(!result.stdout.includes('second'));
    assertNoLeak(result);
  });

  test('rotate replaces an existing secret as a new version', async () => {
    const result = await secrets(['rotate', 'API_TOKEN'], ROTATED);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'Rotated secret API_TOKEN to version 2.\n');
    assertNoLeak(result);
    assert.equal(storeValue('API_TOKEN'), ROTATED);
  });

  test('rotate refuses a secret that does not exist (exit 1) and creates nothing', async () => {
    const result = await secrets(['rotate', 'MISSING'], VALUE);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /no secret named MISSING in secrets\.json; create it with gatehouse secrets set/,
    );
    assert.equal(storeValue('MISSING'), undefined);
  });

  test('a wrong master key is a clear error naming the store and the secret (exit 1), and changes nothing', async () => {
    const before = await readFile(join(dir, 'secrets.json'), 'utf8');
    for (const args of [['list'], ['set', 'NEW']]) {
      const result = await secrets(args, VALUE, { ...env, STORE_KEY: newMasterKey() });
      assert.equal(result.code, 1, args.join(' '));
      assert.match(
        result.stderr,
        /secrets\.json: secret API_TOKEN cannot be decrypted: the master key is not the one/,
      );
      assertNoLeak(result);
    }
    assert.equal(await readFile(join(dir, 'secrets.json'), 'utf8'), before);
  });

  test('names a missing or malformed master key variable, never its value (exit 1)', async () => {
    const missing = await secrets(['list'], undefined, { PATH: process.env['PATH'] });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /master key: environment variable STORE_KEY is not set/);
    const malformed = await secrets(['list'], undefined, { ...env, STORE_KEY: 'not-a-key-b7e2' });
    assert.equal(malformed.code, 1);
    assert.match(malformed.stderr, /environment variable STORE_KEY does not hold a 32-byte key/);
    assert.ok(!malformed.stderr.includes('not-a-key-b7e2'));
  });

  test('an empty value changes nothing (exit 1)', async () => {
    const result = await secrets(['set', 'EMPTY'], '\n');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no value on stdin for EMPTY; nothing was changed/);
    assert.equal(storeValue('EMPTY'), undefined);
  });

  test('--store with $GATEHOUSE_MASTER_KEY works without a config file', async () => {
    const other = join(dir, 'other.json');
    const withKey = { PATH: process.env['PATH'], GATEHOUSE_MASTER_KEY: key };
    const set = await gatehouse(['secrets', 'set', 'T', '--store', other], { env: withKey, input: VALUE });
    assert.equal(set.code, 0, set.stderr);
    const list = await gatehouse(['secrets', 'list', '--store', other], { env: withKey });
    assert.match(list.stdout, /^T\s+1\s+/m);
    const noKey = await gatehouse(['secrets', 'list', '--store', other], {
      env: { PATH: process.env['PATH'] },
    });
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /environment variable GATEHOUSE_MASTER_KEY is not set/);
  });

  test('a config without a secrets section, or a missing config, is a clear error (exit 1)', async () => {
    const plain = join(dir, 'plain.yaml');
    await writeFile(plain, 'upstreams:\n  x: { transport: stdio, command: "true" }\n');
    const result = await secrets(['list', '--config', plain]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /plain\.yaml has no secrets section/);
    const missing = await secrets(['list', '--config', join(dir, 'nope.yaml')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.yaml: cannot read the file \(ENOENT\)/);
  });

  test('usage errors exit 2: no name, a value as an argument, an unknown command, both --config and --store', async () => {
    for (const args of [
      ['set'],
      ['set', 'API_TOKEN', VALUE],
      ['list', 'extra'],
      ['show', 'API_TOKEN'],
      [],
      ['list', '--config', 'a.yaml', '--store', 'b.json'],
      ['list', '--value', VALUE],
    ]) {
      const result = await secrets(args, VALUE);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /Usage:/);
      assert.equal(result.stdout, '');
      assertNoLeak(result);
    }
    assert.equal(storeValue('API_TOKEN'), ROTATED, 'nothing was changed');
  });
});
