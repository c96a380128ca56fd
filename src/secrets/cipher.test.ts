import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError } from '../errors.ts';
import { loadMasterKey, newMasterKey, open, seal } from './cipher.ts';

const key = randomBytes(32);

/** Flips one bit in the decoded bytes of field `index` (1 iv, 2 tag, 3 ciphertext). */
function flip(sealed: string, index: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[index]!, 'base64url');
  bytes[0]! ^= 1;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('seal and open', () => {
  test('round-trips text, including empty and non-ASCII text', () => {
    for (const text of ['s3cret', '', 'pässwörd 🔑', 'x'.repeat(10_000)]) {
      assert.equal(open(key, seal(key, text, 'NAME'), 'NAME'), text);
    }
  });

  test('writes v1 and three base64url fields, with a fresh IV every time', () => {
    const a = seal(key, 'same', 'NAME');
    const b = seal(key, 'same', 'NAME');
    assert.match(a, /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]*$/);
    assert.notEqual(a.split('.')[1], b.split('.')[1]);
    assert.ok(!a.includes('same'));
  });

  test('refuses a value whose IV, tag or ciphertext was altered', () => {
    const sealed = seal(key, 'the value', 'NAME');
    for (const index of [1, 2, 3]) assert.equal(open(key, flip(sealed, index), 'NAME'), undefined);
  });

  test('refuses the wrong key', () => {
    assert.equal(open(randomBytes(32), seal(key, 'v', 'NAME'), 'NAME'), undefined);
  });

  test('refuses a value moved to another name (the context is authenticated)', () => {
    assert.equal(open(key, seal(key, 'v', 'GITHUB_TOKEN'), 'SLACK_TOKEN'), undefined);
  });

  test('returns undefined for malformed text and keys, never throwing', () => {
    const good = seal(key, 'v', 'N');
    const [, iv, tag, ct] = good.split('.');
    const bad = [
      '',
      'v1',
      'v2.' + good.slice(3),
      `v1.${iv}.${tag}`,
      `${good}.extra`,
      `v1.${iv}.${tag}.${ct}!`,
      `v1.${iv}=.${tag}.${ct}`,
      `v1.${iv!.slice(2)}.${tag}.${ct}`,
      `v1.${iv}.${tag!.slice(2)}.${ct}`,
      'v1....',
      42 as unknown as string,
    ];
    for (const text of bad) assert.equal(open(key, text, 'N'), undefined, String(text));
    assert.equal(open(Buffer.alloc(16), good, 'N'), undefined);
  });

  test('will not seal under a key of the wrong length', () => {
    assert.throws(() => seal(Buffer.alloc(16), 'v', 'N'), TypeError);
  });
});

describe('loadMasterKey', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cipher-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const hex = newMasterKey();

  /** The ConfigError message for `source`, checked to contain none of `secrets`. */
  function errorFor(source: { env?: string; file?: string }, env: NodeJS.ProcessEnv, secrets: string[] = []) {
    try {
      loadMasterKey(source, env);
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      for (const s of secrets) assert.ok(!err.message.includes(s), `the message leaks ${s}: ${err.message}`);
      return err.message;
    }
    assert.fail('expected a ConfigError');
  }

  test('reads 64 hex characters or 44 base64 characters from a variable or a file', () => {
    const bytes = Buffer.from(hex, 'hex');
    assert.deepEqual(loadMasterKey({ env: 'K' }, { K: hex }), bytes);
    assert.deepEqual(loadMasterKey({ env: 'K' }, { K: bytes.toString('base64') }), bytes);
    const file = join(dir, 'key');
    writeFileSync(file, `${bytes.toString('base64')}\n`);
    assert.deepEqual(loadMasterKey({ file }), bytes);
  });

  test('names a missing variable or file', () => {
    assert.match(errorFor({ env: 'GH_KEY' }, {}), /environment variable GH_KEY is not set/);
    assert.match(
      errorFor({ file: '/nonexistent/key' }, {}),
      /cannot read file \/nonexistent\/key \(ENOENT\)/,
    );
  });

  test('names a malformed key without showing it', () => {
    const short = hex.slice(0, 62);
    assert.match(
      errorFor({ env: 'K' }, { K: short }, [short]),
      /environment variable K does not hold a 32-byte key/,
    );
    const b64 = randomBytes(31).toString('base64');
    assert.match(errorFor({ env: 'K' }, { K: b64 }, [b64]), /does not hold a 32-byte key/);
    const file = join(dir, 'bad');
    writeFileSync(file, 'correct horse battery staple');
    assert.match(errorFor({ file }, {}, ['horse']), new RegExp(`file ${file} does not hold`));
  });

  test('needs exactly one source', () => {
    assert.match(errorFor({}, {}), /exactly one/);
    assert.match(errorFor({ env: 'K', file: '/k' }, { K: hex }, [hex]), /exactly one/);
  });
});
