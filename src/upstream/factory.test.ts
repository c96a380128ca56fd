import assert from 'node:assert/strict';
import { test } from 'node:test';
import { httpOptions } from './factory.ts';

test('turns credentials in an upstream URL into a Basic Authorization header and strips them', () => {
  const { url, headers } = httpOptions('https://ann:s%40cret@mcp.example/mcp', { 'x-team': 'a' });
  assert.equal(url, 'https://mcp.example/mcp');
  assert.equal(headers.authorization, `Basic ${Buffer.from('ann:s@cret').toString('base64')}`);
  assert.equal(headers['x-team'], 'a');
});

test('keeps a configured Authorization header over URL credentials', () => {
  const { headers } = httpOptions('https://ann:x@mcp.example/mcp', { Authorization: 'Bearer t' });
  assert.deepEqual(headers, { Authorization: 'Bearer t' });
});

test('leaves a URL without credentials as it is', () => {
  assert.deepEqual(httpOptions('http://127.0.0.1:9/mcp', {}), { url: 'http://127.0.0.1:9/mcp', headers: {} });
});
