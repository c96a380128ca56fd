// `${secret:NAME}` in gatehouse.yaml, read from the encrypted local store named by `secrets`.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError } from '../errors.ts';
import { secretStore } from '../secrets/store.ts';
import { parseConfig, readSecretsConfig } from './load.ts';

const FILE = 'gatehouse.yaml';
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-load-secrets-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const key = randomBytes(32);
const hexKey = key.toString('hex');
const storePath = join(dir, 'secrets.json');
secretStore(storePath, key).set('GITHUB_TOKEN', 'ghp_from_the_store');
secretStore(storePath, key).set('api.key-2', 'k2');

const env = { MASTER: hexKey, STORE: storePath };
const section = 'secrets:\n  store: ${STORE}\n  masterKey: { env: MASTER }\n';
const upstream = (header: string) =>
  `upstreams:\n  gh:\n    transport: http\n    url: https://mcp.example.com/\n    headers:\n      authorization: "${header}"\n`;

/** The ConfigError message for `text`, checked to contain no secret value and not the key. */
function errorFor(text: string, environment: NodeJS.ProcessEnv = env): string {
  try {
    parseConfig(text, FILE, environment);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    for (const s of ['ghp_from_the_store', hexKey]) assert.ok(!err.message.includes(s), err.message);
    return err.message;
  }
  assert.fail('expected the config to be rejected');
}

describe('secrets from the encrypted store', () => {
  test('replaces ${secret:NAME} with the decrypted value, next to ${ENV} and ${file:}', () => {
    const config = parseConfig(
      `${section}${upstream('Bearer ${secret:GITHUB_TOKEN} ${secret:api.key-2}')}`,
      FILE,
      env,
    );
    const gh = config.upstreams.gh;
    assert.equal(gh?.transport, 'http');
    assert.equal(gh.headers.authorization, 'Bearer ghp_from_the_store k2');
    assert.deepEqual(config.secrets, { store: storePath, masterKey: { env: 'MASTER' } });
  });

  test('reads the master key from a file', () => {
    const keyFile = join(dir, 'master.key');
    writeFileSync(keyFile, `${key.toString('base64')}\n`);
    const text = `secrets:\n  store: ${storePath}\n  masterKey: { file: ${keyFile} }\n${upstream('${secret:GITHUB_TOKEN}')}`;
    const gh = parseConfig(text, FILE, {}).upstreams.gh;
    assert.equal(gh?.transport === 'http' && gh.headers.authorization, 'ghp_from_the_store');
  });

  test('does not interpolate what a secret brings in', () => {
    secretStore(storePath, key).set('LITERAL', '${MASTER} and ${secret:GITHUB_TOKEN}');
    const gh = parseConfig(`${section}${upstream('${secret:LITERAL}')}`, FILE, env).upstreams.gh;
    assert.equal(
      gh?.transport === 'http' && gh.headers.authorization,
      '${MASTER} and ${secret:GITHUB_TOKEN}',
    );
  });

  test('keeps $${secret:NAME} as literal text', () => {
    const gh = parseConfig(`${section}${upstream('$${secret:GITHUB_TOKEN}')}`, FILE, env).upstreams.gh;
    assert.equal(gh?.transport === 'http' && gh.headers.authorization, '${secret:GITHUB_TOKEN}');
  });

  test('names the path and the secret when the store has no such secret', () => {
    assert.equal(
      errorFor(`${section}${upstream('${secret:NOPE}')}`),
      `${FILE}: upstreams.gh.headers.authorization: secret NOPE is not in the secret store; add it with gatehouse secrets set NOPE`,
    );
  });

  test('asks for a secrets section when there is none', () => {
    assert.match(
      errorFor(upstream('${secret:GITHUB_TOKEN}')),
      /upstreams\.gh\.headers\.authorization: \$\{secret:GITHUB_TOKEN\} needs a top-level secrets section/,
    );
  });

  test('rejects an invalid secret name in a reference', () => {
    assert.match(errorFor(`${section}${upstream('${secret:a b}')}`), /\$\{secret:a b\}: use 1-128 letters/);
  });

  test('names the master key variable when it is missing or malformed, never the key', () => {
    assert.match(
      errorFor(`${section}${upstream('x')}`, { STORE: storePath }),
      /^gatehouse\.yaml: secrets: master key: environment variable MASTER is not set/,
    );
    assert.match(
      errorFor(`${section}${upstream('x')}`, { STORE: storePath, MASTER: hexKey.slice(1) }),
      /environment variable MASTER does not hold a 32-byte key/,
    );
  });

  test('a wrong master key names the store file, the secret and the config path', () => {
    const message = errorFor(`${section}${upstream('${secret:GITHUB_TOKEN}')}`, {
      STORE: storePath,
      MASTER: randomBytes(32).toString('hex'),
    });
    assert.ok(
      message.startsWith(
        `${FILE}: upstreams.gh.headers.authorization: ${storePath}: secret GITHUB_TOKEN cannot be decrypted`,
      ),
      message,
    );
  });

  test('validates the secrets section, and refuses ${secret:} inside it', () => {
    assert.match(
      errorFor(`secrets:\n  store: s.json\n  masterKey: { env: A, file: b }\n${upstream('x')}`),
      /- secrets\.masterKey: give exactly one of/,
    );
    assert.match(
      errorFor(`secrets:\n  store: s.json\n  masterKey: { env: A }\n  extra: 1\n${upstream('x')}`),
      /- secrets: unknown key\(s\) extra/,
    );
    assert.match(
      errorFor(`secrets:\n  store: \${secret:X}\n  masterKey: { env: MASTER }\n${upstream('x')}`),
      /secrets\.store: the secrets section says where secrets come from; it cannot use/,
    );
  });

  test('readSecretsConfig reads the section alone, even while a referenced secret is missing', async () => {
    const file = join(dir, 'gatehouse.yaml');
    writeFileSync(file, `${section}${upstream('${secret:NOT_YET_SET} ${UNSET_VARIABLE}')}`);
    assert.deepEqual(await readSecretsConfig(file, env), { store: storePath, masterKey: { env: 'MASTER' } });
    writeFileSync(file, upstream('x'));
    assert.equal(await readSecretsConfig(file, env), undefined);
  });
});

test('refuses secrets in the policy, whose text is shown in explanations and errors', () => {
  const text = [
    'upstreams: { a: { transport: stdio, command: x } }',
    'policy:',
    '  rules:',
    '    - { id: r, effect: allow, when: "args.key == \'${file:/etc/hostname}\'" }',
  ].join('\n');
  assert.throws(
    () => parseConfig(text, 'g.yaml', {}),
    /policy\.rules\.0\.when: secrets .* cannot be used in the policy/,
  );
});
