import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createKeyStore, KeyStoreError } from './key-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(dir, `keys-${++files}.json`);

/** A store with a clock the test moves. */
function storeAt(path = freshPath(), start = Date.parse('2026-01-01T00:00:00Z')) {
  const clock = { now: start };
  return { store: createKeyStore({ path, now: () => clock.now }), clock, path };
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The same key with the character at `index` replaced. */
const withChar = (key: string, index: number, char: string) =>
  key.slice(0, index) + char + key.slice(index + 1);

describe('API key store', () => {
  test('a created key verifies to a principal with its name, roles, team and virtual servers', () => {
    const { store } = storeAt();
    const { key, info } = store.create({
      name: 'ci-agent',
      roles: ['deployer', 'reader'],
      team: 'platform',
      virtualServers: ['github', '/'],
    });
    assert.match(key, /^gh_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/);
    const result = store.verify(key);
    assert.deepEqual(result, {
      ok: true,
      principal: {
        kind: 'api-key',
        agent: 'ci-agent',
        roles: ['deployer', 'reader'],
        groups: [],
        teams: ['platform'],
        virtualServers: ['github', '/'],
        keyId: info.id,
      },
    });
  });

  test('a key without virtual servers may use all of them (virtualServers undefined)', () => {
    const { store } = storeAt();
    const { key } = store.create({ name: 'all' });
    const result = store.verify(key);
    assert.ok(result.ok);
    assert.equal(result.principal.virtualServers, undefined);
    assert.deepEqual(result.principal.teams, []);
  });

  test('the key file never contains the secret, and is created with mode 0600', () => {
    const { store, path } = storeAt();
    const { key } = store.create({ name: 'secretive' });
    const secret = key.slice(-43);
    const text = readFileSync(path, 'utf8');
    assert.ok(!text.includes(secret));
    assert.ok(!text.includes(key));
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  test('list never returns secrets or hashes', () => {
    const { store } = storeAt();
    const { key } = store.create({ name: 'listed', roles: ['r'] });
    const listed = store.list();
    assert.equal(listed.length, 1);
    const text = JSON.stringify(listed);
    assert.ok(!text.includes(key.slice(-43)));
    assert.ok(!('secretSha256' in listed[0]!));
    assert.equal(listed[0]!.status, 'active');
  });

  test('a revoked key is refused as revoked', () => {
    const { store } = storeAt();
    const { key, info } = store.create({ name: 'to-revoke' });
    const revoked = store.revoke(info.id);
    assert.ok(revoked.ok && !revoked.alreadyRevoked);
    assert.deepEqual(store.verify(key), { ok: false, reason: 'revoked', keyId: info.id });
  });

  test('an expired key is refused as expired, from its expiry instant on', () => {
    const { store, clock } = storeAt();
    const expiresAt = new Date(clock.now + 60_000);
    const { key } = store.create({ name: 'short-lived', expiresAt });
    assert.ok(store.verify(key).ok);
    clock.now = expiresAt.getTime();
    assert.equal(reason(store.verify(key)), 'expired');
    assert.equal(store.list()[0]!.status, 'expired');
  });

  test('an unknown key id is refused as unknown', () => {
    const { store } = storeAt();
    const { key } = store.create({ name: 'real' });
    const other = withChar(key, 3, key[3] === 'a' ? 'b' : 'a');
    assert.equal(reason(store.verify(other)), 'unknown');
  });

  test('a wrong secret for a known id is refused as mismatch', () => {
    const { store } = storeAt();
    const { key } = store.create({ name: 'real' });
    const index = 20;
    assert.equal(reason(store.verify(withChar(key, index, key[index] === 'A' ? 'B' : 'A'))), 'mismatch');
  });

  test('a wrong secret on a revoked key says mismatch, so an id alone reveals no state', () => {
    const { store } = storeAt();
    const { key, info } = store.create({ name: 'gone' });
    store.revoke(info.id);
    assert.equal(reason(store.verify(withChar(key, 20, key[20] === 'A' ? 'B' : 'A'))), 'mismatch');
  });

  describe('malformed input is refused as malformed, without throwing', () => {
    const { store } = storeAt();
    const { key } = store.create({ name: 'shape' });
    const secretStart = 'gh_'.length + 12 + 1; // the secret itself may contain `_`
    const letterInSecret = [...key].findIndex(
      (c, i) => i >= secretStart && i < key.length - 1 && /[a-z]/.test(c),
    );
    const cases: Record<string, unknown> = {
      truncated: key.slice(0, -1),
      'one character longer': `${key}A`,
      'base64 padding': `${key}=`,
      'trailing whitespace': `${key} `,
      'trailing newline': `${key}\n`,
      'leading whitespace': ` ${key}`,
      'uppercase prefix': `GH_${key.slice(3)}`,
      'uppercase key id': key.slice(0, 3) + key.slice(3, 15).toUpperCase() + key.slice(15),
      'Cyrillic а for a Latin a in the id': withChar(key, 3, '\u0430'),
      'Cyrillic о in the secret': withChar(key, 20, '\u043e'),
      'fullwidth digit': withChar(key, 20, '\uff11'),
      'zero-width space inside': key.slice(0, 10) + '\u200b' + key.slice(11),
      'standard base64 + and /': withChar(withChar(key, 20, '+'), 21, '/'),
      // The same bytes spelled differently: the last character's 2 unused bits set.
      'non-canonical last character': withChar(key, key.length - 1, B64URL[B64URL.indexOf(key.at(-1)!) + 1]!),
      'the bare secret': key.slice(secretStart),
      empty: '',
      'a very long string': `${key}${'A'.repeat(1_000_000)}`,
      'not a string': 42,
      undefined: undefined,
    };
    for (const [what, presented] of Object.entries(cases)) {
      test(what, () => {
        assert.deepEqual(store.verify(presented), { ok: false, reason: 'malformed' });
      });
    }
    test('a letter in the secret changed to uppercase is a mismatch (base64url is case-sensitive)', () => {
      const changed = withChar(key, letterInSecret, key[letterInSecret]!.toUpperCase());
      assert.equal(reason(store.verify(changed)), 'mismatch');
    });
  });

  test('a revocation by another process (a second store on the same file) takes effect at once', () => {
    const { store: gateway, path } = storeAt();
    const cli = createKeyStore({ path });
    const { key, info } = cli.create({ name: 'shared' });
    assert.ok(gateway.verify(key).ok, 'a key created elsewhere is seen without a restart');
    cli.revoke('shared');
    assert.deepEqual(gateway.verify(key), { ok: false, reason: 'revoked', keyId: info.id });
  });

  test('revoke by name picks the one live key of that name; several live keys are ambiguous', () => {
    const { store } = storeAt();
    const old = store.create({ name: 'rotating' });
    store.revoke(old.info.id);
    const next = store.create({ name: 'rotating' });
    const result = store.revoke('rotating');
    assert.ok(result.ok && result.key.id === next.info.id && !result.alreadyRevoked);
    const again = store.revoke('rotating');
    assert.ok(again.ok && again.alreadyRevoked);
    store.create({ name: 'twin' });
    store.create({ name: 'twin' });
    const twin = store.revoke('twin');
    assert.ok(!twin.ok && twin.reason === 'ambiguous' && twin.matches.length === 2);
    assert.deepEqual(store.revoke('nobody'), { ok: false, reason: 'not-found' });
  });

  test('create refuses bad names, virtual servers and past expiry with a KeyStoreError', () => {
    const { store, clock } = storeAt();
    assert.throws(() => store.create({ name: 'has space' }), KeyStoreError);
    assert.throws(() => store.create({ name: 'x', roles: [''] }), KeyStoreError);
    assert.throws(() => store.create({ name: 'x', virtualServers: ['a.b'] }), KeyStoreError);
    assert.throws(() => store.create({ name: 'x', expiresAt: new Date(clock.now) }), KeyStoreError);
  });

  test('a missing key file refuses every key as unknown; a corrupt one fails closed with KeyStoreError', () => {
    const { store, path } = storeAt();
    const { key } = createKeyStore({ path: freshPath() }).create({ name: 'elsewhere' });
    assert.equal(reason(store.verify(key)), 'unknown');
    writeFileSync(path, '{ not json');
    assert.throws(() => store.verify(key), KeyStoreError);
    writeFileSync(path, JSON.stringify({ version: 1, keys: [{ id: 'x' }] }));
    assert.throws(() => store.list(), KeyStoreError);
  });
});

function reason(result: ReturnType<ReturnType<typeof createKeyStore>['verify']>): string | undefined {
  return result.ok ? undefined : result.reason;
}
