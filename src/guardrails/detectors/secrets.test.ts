import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskSecrets, scanSecrets } from './secrets.ts';

const kinds = (text: string) => scanSecrets(text).findings.map((f) => f.kind);

test('finds provider tokens by prefix and length, the specific rule winning over the generic one', () => {
  assert.deepEqual(kinds(`GITHUB_TOKEN=ghp_${'a1B2'.repeat(9)}`), ['github-token']);
  assert.deepEqual(kinds(`key: sk-ant-api03-${'x9Y_'.repeat(23)}AA`), ['anthropic-key']);
});

test('skips AWS documentation keys and finds a real-looking pair', () => {
  assert.deepEqual(kinds('AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'), []);
  assert.deepEqual(kinds('id AKIAZ3MSJV7WQX2KDLPO secret 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'), [
    'aws-access-key',
    'aws-secret-key',
  ]);
});

test('finds private keys but not public keys or certificates', () => {
  assert.deepEqual(
    kinds('-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n-----END OPENSSH PRIVATE KEY-----'),
    ['private-key'],
  );
  assert.deepEqual(kinds('-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----'), []);
});

test('finds JWTs only when the header decodes to JSON with alg', () => {
  const header = Buffer.from('{"alg":"HS256"}').toString('base64url');
  assert.deepEqual(kinds(`t=${header}.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl`), ['jwt']);
  assert.deepEqual(kinds('eyJub3QiOiJqd3QifQ.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl'), []);
});

test('finds passwords in database URLs but not placeholders or environment references', () => {
  assert.deepEqual(kinds('postgres://app:s3cr3tP4ss@db:5432/app'), ['db-url']);
  assert.deepEqual(kinds('postgres://app:${DB_PASSWORD}@db/app mysql://u:password@localhost/x'), []);
});

test('finds random values of secret-named keys, not types, references or non-secret keys', () => {
  assert.deepEqual(kinds('"client_secret": "Xk29fLq0Pz7Wv3Nc8Rb5Ty1Ua6Sd4Ge"'), ['generic-secret']);
  assert.deepEqual(
    kinds('"password": "string", "api_key": "${API_KEY}", apiKey: config.apiKey, "token_type": "Bearer"'),
    [],
  );
  assert.deepEqual(kinds('"request_id": "a8f5f167f44f4964e6c998dee827110c"'), []);
  assert.deepEqual(kinds('spring.datasource.password=Winter&7970'), ['password']);
});

test('masks each secret with its kind', () => {
  assert.equal(maskSecrets(`token ghp_${'a1B2'.repeat(9)}.`), 'token [GITHUB-TOKEN].');
});
