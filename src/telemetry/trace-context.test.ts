import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTraceparent } from './trace-context.ts';

const valid = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

test('reads trace id, parent span and flags from a valid traceparent', () => {
  assert.deepEqual(parseTraceparent(valid), {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    parentId: '00f067aa0ba902b7',
    flags: '01',
  });
});

test('ignores malformed values: wrong lengths, upper case, zero ids, version ff, extra fields in version 00', () => {
  for (const bad of [
    '',
    'garbage',
    valid.toUpperCase(),
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
    'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    `${valid}-extra`,
    42,
    undefined,
  ]) {
    assert.equal(parseTraceparent(bad), undefined, String(bad));
  }
});

test('accepts a future version with extra fields', () => {
  assert.equal(parseTraceparent(`01-${valid.slice(3)}-more`)?.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
});
