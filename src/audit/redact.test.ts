import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRedactor, REDACTED } from './redact.ts';

const defaults = {
  keys: ['*password*', '*token*', 'authorization'],
  patterns: ['\\b\\d{4}(?:[ -]?\\d{4}){3}\\b'],
  maxArgumentBytes: 4096,
};

test('replaces values under sensitive keys at any depth, matching keys case-insensitively', () => {
  const redact = createRedactor(defaults);
  const args = {
    user: 'alice',
    Password: 'hunter2',
    nested: { list: [{ accessToken: 'abc', keep: 1 }], Authorization: 'Bearer x' },
  };
  assert.deepEqual(redact(args), {
    user: 'alice',
    Password: REDACTED,
    nested: { list: [{ accessToken: REDACTED, keep: 1 }], Authorization: REDACTED },
  });
  // The call's own arguments are untouched.
  assert.equal(args.Password, 'hunter2');
});

test('replaces pattern matches inside string values, every occurrence', () => {
  const redact = createRedactor(defaults);
  assert.deepEqual(redact({ note: 'cards 4111 1111 1111 1111 and 5500-0000-0000-0004, ok' }), {
    note: `cards ${REDACTED} and ${REDACTED}, ok`,
  });
});

test('cuts arguments over the cap to a marked prefix, never inside a UTF-8 character', () => {
  const redact = createRedactor({ ...defaults, maxArgumentBytes: 20 });
  const out = redact({ text: 'ééééééééééééééé' }) as { truncated: boolean; bytes: number; head: string };
  assert.equal(out.truncated, true);
  assert.ok(out.bytes > 20);
  assert.ok(Buffer.byteLength(out.head) <= 20);
  assert.ok(!out.head.includes('\uFFFD'));
  assert.ok('{"text":"éééééé'.startsWith(out.head));
});

test('redacts before cutting: a secret near the start never survives in the prefix', () => {
  const redact = createRedactor({ ...defaults, maxArgumentBytes: 30 });
  const out = redact({ password: 'hunter2', filler: 'x'.repeat(100) }) as { head: string };
  assert.ok(!out.head.includes('hunter2'));
});

test('leaves absent arguments absent and scalars as they are', () => {
  const redact = createRedactor(defaults);
  assert.equal(redact(undefined), undefined);
  assert.equal(redact(42), 42);
  assert.deepEqual(redact([1, 'two']), [1, 'two']);
});

test('a bad pattern is refused when the redactor is built, not when a call comes', () => {
  assert.throws(() => createRedactor({ ...defaults, patterns: ['(unclosed'] }), SyntaxError);
});

test('a "__proto__" argument stays an argument: kept as a key, never made the prototype', () => {
  const redact = createRedactor({ keys: ['secret'], patterns: [], maxArgumentBytes: 4096 });
  const out = redact(JSON.parse('{"__proto__": {"secret": "s3", "polluted": true}, "a": 1}')) as Record<
    string,
    unknown
  >;
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.equal(JSON.stringify(out), '{"__proto__":{"polluted":true,"secret":"[REDACTED]"},"a":1}');
});
