import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configSchema } from './schema.ts';
import { secretValues } from './secret-values.ts';

test('collects upstream headers (and their bearer part), URL passwords, client secrets, secret-named env, metrics token, sink headers and the audit database password', () => {
  const config = configSchema.parse({
    upstreams: {
      api: {
        transport: 'http',
        url: 'https://user:url-p%40ss@api.example/mcp',
        headers: { Authorization: 'Bearer header-token-1', 'X-Other': 'other-value-2' },
        onBehalfOf: {
          method: 'oauth',
          issuer: 'https://as.example',
          clientId: 'gw',
          clientSecret: 'client-secret-3',
        },
      },
      local: {
        transport: 'stdio',
        command: 'x',
        env: { API_KEY: 'env-secret-4', DATA_DIR: '/var/lib/data' },
      },
    },
    metrics: { token: 'metrics-token-5-long-enough' },
    audit: {
      store: { type: 'postgres', url: 'postgres://gh:db-password-6@db/gh' },
      sinks: [
        { type: 'webhook', url: 'https://siem.example/in', headers: { Authorization: 'Basic sink-cred-7' } },
      ],
    },
  });
  const values = secretValues(config);
  for (const expected of [
    'Bearer header-token-1',
    'header-token-1',
    'other-value-2',
    'url-p%40ss',
    'url-p@ss',
    'client-secret-3',
    'env-secret-4',
    'metrics-token-5-long-enough',
    'db-password-6',
    'sink-cred-7',
  ]) {
    assert.ok(values.includes(expected), expected);
  }
  assert.ok(!values.includes('/var/lib/data'), 'a plain env value is not a secret');
  assert.deepEqual(
    values,
    [...values].sort((a, b) => b.length - a.length),
  );
});
