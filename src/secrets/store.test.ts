import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { seal } from './cipher.ts';
import { SecretStoreError, secretStore } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-secret-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(dir, `secrets-${++files}.json`);
const key = randomBytes(32);
const at = (iso: string) => () => new Date(iso);

/** The SecretStoreError message `fn` throws, checked to contain none of `secrets`. */
function errorOf(fn: () => unknown, secrets: string[] = []): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SecretStoreError, String(err));
    for (const s of secrets) assert.ok(!err.message.includes(s), `the message leaks ${s}: ${err.message}`);
    return err.message;
  }
  assert.fail('expected a SecretStoreError');
}

describe('secret store', () => {
  test('sets, gets and lists secrets; a missing file is an empty store', () => {
    const store = secretStore(freshPath(), key, at('2026-01-02T03:04:05.000Z'));
    assert.deepEqual(store.list(), []);
    assert.equal(store.get('GITHUB_TOKEN'), undefined);
    assert.deepEqual(store.set('GITHUB_TOKEN', 'ghp_one'), {
      name: 'GITHUB_TOKEN',
      version: 1,
      updated: '2026-01-02T03:04:05.000Z',
    });
    store.set('a.b-c_1', 'other');
    assert.equal(store.get('GITHUB_TOKEN'), 'ghp_one');
    assert.deepEqual(
      store.list().map((s) => [s.name, s.version]),
      [
        ['GITHUB_TOKEN', 1],
        ['a.b-c_1', 1],
      ],
    );
  });

  test('writes sealed values only, in a 0600 file replaced by rename, leaving no temp or lock file', () => {
    const path = freshPath();
    const store = secretStore(path, key);
    store.set('TOKEN', 'plain-text-value');
    store.set('TOKEN', 'plain-text-value-2');
    const text = readFileSync(path, 'utf8');
    assert.ok(!text.includes('plain-text-value'));
    const file = JSON.parse(text);
    assert.equal(file.version, 1);
    assert.match(file.secrets.TOKEN.value, /^v1\./);
    assert.equal(file.secrets.TOKEN.version, 2);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith(`secrets-${files}.json.`)),
      [],
    );
  });

  test('rotates an existing secret to a new version, and refuses to rotate an absent one', () => {
    const store = secretStore(freshPath(), key);
    store.set('TOKEN', 'old');
    assert.equal(store.rotate('TOKEN', 'new')?.version, 2);
    assert.equal(store.rotate('TOKEN', 'newer')?.version, 3);
    assert.equal(store.get('TOKEN'), 'newer');
    assert.equal(store.rotate('ABSENT', 'x'), undefined);
    assert.equal(store.get('ABSENT'), undefined);
  });

  test('rejects invalid names, naming them', () => {
    const store = secretStore(freshPath(), key);
    for (const name of ['', 'has space', 'a/b', 'x'.repeat(129), '__proto__', '${x}']) {
      assert.match(
        errorOf(() => store.set(name, 'v')),
        /invalid secret name/,
      );
    }
  });

  test('a wrong master key is a clear error naming the file and the secret, for every operation', () => {
    const path = freshPath();
    secretStore(path, key).set('TOKEN', 'the-real-value');
    const wrong = secretStore(path, randomBytes(32));
    const before = readFileSync(path, 'utf8');
    for (const op of [() => wrong.get('TOKEN'), () => wrong.list(), () => wrong.set('OTHER', 'v')]) {
      const message = errorOf(op, ['the-real-value']);
      assert.ok(message.startsWith(`${path}: secret TOKEN cannot be decrypted`), message);
    }
    assert.equal(readFileSync(path, 'utf8'), before, 'a wrong key never writes');
  });

  test('a value moved to another name, or altered, does not decrypt', () => {
    const path = freshPath();
    const store = secretStore(path, key);
    store.set('A', 'value-a');
    store.set('B', 'value-b');
    const file = JSON.parse(readFileSync(path, 'utf8'));
    file.secrets.B.value = file.secrets.A.value;
    writeFileSync(path, JSON.stringify(file));
    assert.equal(store.get('A'), 'value-a');
    assert.match(
      errorOf(() => store.get('B'), ['value-a']),
      /secret B cannot be decrypted/,
    );
    file.secrets.B.value = seal(key, 'value-b', 'B').replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    writeFileSync(path, JSON.stringify(file));
    assert.match(
      errorOf(() => store.get('B')),
      /secret B cannot be decrypted/,
    );
  });

  test('a corrupted file is named, and its content never quoted', () => {
    const path = freshPath();
    writeFileSync(path, '{"version":1,"secrets":{"T":{"value":"v1.leak');
    assert.equal(
      errorOf(() => secretStore(path, key).get('T'), ['leak']),
      `${path}: the secret store is not valid JSON`,
    );
    writeFileSync(
      path,
      JSON.stringify({ version: 1, secrets: { T: { value: 'plainleak', updated: 'x', version: 1 } } }),
    );
    assert.match(
      errorOf(() => secretStore(path, key).list(), ['plainleak']),
      /the secret store is invalid at secrets\.T\./,
    );
  });

  test('names an unreadable store and an unwritable directory', () => {
    const inFile = join(freshPath(), 'nested.json');
    writeFileSync(join(inFile, '..'), '{}');
    assert.match(
      errorOf(() => secretStore(inFile, key).get('T')),
      /cannot read the secret store \(ENOTDIR\)/,
    );
    assert.match(
      errorOf(() => secretStore('/nonexistent/dir/s.json', key).set('T', 'v')),
      /\/nonexistent\/dir\/s\.json\.lock: cannot create the lock file \(ENOENT\)/,
    );
  });
});
