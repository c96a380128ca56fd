// `gatehouse keys` (src/cli/keys.ts). It lives here, beside the store it drives, until the
// command is wired into src/cli/main.ts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { type KeysIo, parseExpires, runKeys } from '../cli/keys.ts';
import { createKeyStore } from './key-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-keys-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(dir, `keys-${++files}.json`);

const KEYS_MODULE = new URL('../cli/keys.ts', import.meta.url).href;

/** `gatehouse keys ...` in a real child process, as an operator runs it beside a gateway. */
async function keysProcess(args: string[], env: NodeJS.ProcessEnv = {}) {
  const script = `import { runKeys } from ${JSON.stringify(KEYS_MODULE)}; process.exitCode = await runKeys(process.argv.slice(1));`;
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script, '--', ...args],
      { env: { PATH: process.env['PATH'], ...env } },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `runKeys` in this process, with its output captured. */
async function keys(args: string[], env: NodeJS.ProcessEnv = {}, now = Date.parse('2026-01-01T00:00:00Z')) {
  let stdout = '';
  let stderr = '';
  const io: KeysIo = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env,
    now: () => now,
  };
  const code = await runKeys(args, io);
  return { code, stdout, stderr };
}

describe('gatehouse keys', () => {
  test('create, list and revoke in child processes reach a store open in another process', async () => {
    const store = freshPath();
    const gateway = createKeyStore({ path: store });
    const created = await keysProcess([
      'create',
      '--name',
      'ci-agent',
      '--role',
      'deployer',
      '--role',
      'reader',
      '--team',
      'platform',
      '--virtual-server',
      'github',
      '--store',
      store,
    ]);
    assert.equal(created.code, 0, created.stderr);
    const key = created.stdout.trim();
    assert.match(key, /^gh_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/);
    assert.match(created.stderr, /only time the key is shown/);
    const verified = gateway.verify(key);
    assert.ok(verified.ok);
    assert.deepEqual(verified.principal.roles, ['deployer', 'reader']);

    const listed = await keysProcess(['list', '--store', store]);
    assert.equal(listed.code, 0);
    assert.match(listed.stdout, /ci-agent +active +deployer,reader +platform +github/);
    assert.ok(!listed.stdout.includes(key.slice(-43)), 'list shows no secret');
    assert.ok(!listed.stdout.includes(readFileSync(store, 'utf8').match(/"secretSha256": "([^"]+)"/)![1]!));

    const revoked = await keysProcess(['revoke', 'ci-agent', '--store', store]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(gateway.verify(key).ok, false, 'the running store refuses the key without a restart');
    assert.match((await keysProcess(['list', '--store', store])).stdout, /ci-agent +revoked/);
  });

  test('concurrent creates in several processes all land, leaving no temp or lock files', async () => {
    const store = freshPath();
    const runs = await Promise.all(
      ['a', 'b', 'c', 'd'].map((name) => keysProcess(['create', '--name', name, '--store', store])),
    );
    for (const run of runs) assert.equal(run.code, 0, run.stderr);
    const names = createKeyStore({ path: store })
      .list()
      .map((k) => k.name)
      .sort();
    assert.deepEqual(names, ['a', 'b', 'c', 'd']);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith(basename(store)) && f !== basename(store)),
      [],
    );
  });

  test('the store defaults to $GATEHOUSE_KEYS_FILE', async () => {
    const store = freshPath();
    const created = await keys(['create', '--name', 'env-agent'], { GATEHOUSE_KEYS_FILE: store });
    assert.equal(created.code, 0, created.stderr);
    assert.equal(createKeyStore({ path: store }).list()[0]?.name, 'env-agent');
  });

  test('--expires takes a duration or an ISO date, and list shows the expiry', async () => {
    const store = freshPath();
    assert.equal((await keys(['create', '--name', 'a', '--expires', '30d', '--store', store])).code, 0);
    const b = await keys(['create', '--name', 'b', '--expires', '2026-03-01T12:00:00Z', '--store', store]);
    assert.equal(b.code, 0);
    const { stdout } = await keys(['list', '--store', store]);
    assert.match(stdout, /2026-01-31T00:00:00.000Z/);
    assert.match(stdout, /2026-03-01T12:00:00.000Z/);
    assert.equal(parseExpires('2026-13-40', 0), undefined);
    assert.equal(parseExpires('30 days', 0), undefined);
    assert.equal(parseExpires('0d', 0), undefined);
  });

  test('usage errors exit 2: unknown option, missing name, unknown command, bad --expires', async () => {
    const store = freshPath();
    assert.equal((await keys(['create', '--name', 'x', '--bogus', '--store', store])).code, 2);
    assert.equal((await keys(['create', '--store', store])).code, 2);
    assert.equal((await keys(['rotate', '--store', store])).code, 2);
    assert.equal((await keys([])).code, 2);
    assert.equal((await keys(['create', '--name', 'x', '--expires', 'soon', '--store', store])).code, 2);
    assert.equal((await keys(['revoke', '--store', store])).code, 2);
  });

  test('failures exit 1: unknown key to revoke, invalid name, expiry in the past', async () => {
    const store = freshPath();
    const missing = await keys(['revoke', 'nobody', '--store', store]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no key with id or name nobody/);
    assert.equal((await keys(['create', '--name', 'bad name', '--store', store])).code, 1);
    assert.equal(
      (await keys(['create', '--name', 'x', '--expires', '2020-01-01', '--store', store])).code,
      1,
    );
  });
});
