// Bearer JWTs checked against a real OpenID provider (oidc-provider, on loopback): discovery,
// JWKS, audience, expiry, and the forgeries a resource server must refuse.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { generateKeyPair, SignJWT } from 'jose';
import { createJwtVerifier, type JwtVerifier } from '../../src/identity/jwt.ts';
import { startIssuer, type TestIssuer } from '../helpers/oidc.ts';

const RESOURCE = 'http://127.0.0.1:4680/mcp';
let issuer: TestIssuer;
let verifier: JwtVerifier;

before(async () => {
  issuer = await startIssuer();
  verifier = createJwtVerifier([
    {
      issuer: issuer.issuer,
      audience: [RESOURCE],
      clockSkewSeconds: 30,
      claims: { user: 'sub', agent: 'client_id', roles: 'roles', groups: 'groups', teams: 'team' },
    },
  ]);
});
after(() => issuer.close());

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

test('accepts a token the provider issued for this resource and maps its claims', async () => {
  const result = await verifier.verify(await issuer.token({ resource: RESOURCE }));
  assert.ok(result.ok);
  assert.equal(result.principal.agent, 'agent-one');
  assert.deepEqual(result.principal.roles, ['ops']);
  assert.deepEqual(result.scopes, ['mcp:tools']);
});

test('refuses a token for another resource (audience)', async () => {
  const result = await verifier.verify(await issuer.token({ resource: 'http://127.0.0.1:9999/other' }));
  assert.deepEqual(result, { ok: false, reason: 'wrong_audience' });
});

test('refuses an expired token, allowing the configured skew', async () => {
  const token = await issuer.token({ resource: RESOURCE });
  const later = new Date(Date.now() + 300_000 + 10_000); // Past exp, within 30 s skew.
  assert.ok((await verifier.verify(token, later)).ok);
  const muchLater = new Date(Date.now() + 300_000 + 60_000);
  assert.deepEqual(await verifier.verify(token, muchLater), { ok: false, reason: 'expired' });
});

test('refuses alg none, an HMAC token, an unknown key id, an unknown issuer and garbage', async () => {
  const claims = {
    iss: issuer.issuer,
    aud: RESOURCE,
    sub: 'mallory',
    exp: Math.floor(Date.now() / 1000) + 60,
  };
  const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
  assert.deepEqual(await verifier.verify(none), { ok: false, reason: 'bad_signature' });

  const hmac = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode('a-secret-that-is-not-the-providers'));
  assert.deepEqual(await verifier.verify(hmac), { ok: false, reason: 'bad_signature' });

  const { privateKey } = await generateKeyPair('RS256');
  const foreign = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: 'not-a-provider-key' })
    .sign(privateKey);
  assert.deepEqual(await verifier.verify(foreign), { ok: false, reason: 'unknown_key' });

  const stranger = await new SignJWT({ ...claims, iss: 'http://127.0.0.1:1/evil' })
    .setProtectedHeader({ alg: 'RS256' })
    .sign(privateKey);
  assert.deepEqual(await verifier.verify(stranger), { ok: false, reason: 'unknown_issuer' });

  for (const junk of ['', 'abc', 'a.b.c', `${b64({ alg: 'RS256' })}.not-json.sig`]) {
    assert.deepEqual(await verifier.verify(junk), { ok: false, reason: 'malformed' }, junk);
  }
});
