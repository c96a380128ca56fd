import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeCursor, encodeCursor } from './cursor.ts';

describe('cursors', () => {
  test('decode to the offset they were encoded with', () => {
    for (const offset of [0, 1, 500, 2 ** 40]) {
      assert.equal(decodeCursor(encodeCursor('tools', offset), 'tools'), offset);
    }
  });

  test('mean offset 0 when absent', () => {
    assert.equal(decodeCursor(undefined, 'tools'), 0);
  });

  test('are opaque URL-safe text', () => {
    assert.match(encodeCursor('resourceTemplates', 123), /^[A-Za-z0-9_-]+$/);
  });

  test('from one list are refused by another', () => {
    assert.equal(decodeCursor(encodeCursor('tools', 5), 'prompts'), undefined);
  });

  test('that are not ours are refused', () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const cursor of [
      '',
      'garbage',
      '!!!',
      null,
      5,
      {},
      [],
      b64(['tools', -1]),
      b64(['tools', 1.5]),
      b64(['tools', '5']),
      b64(['tools', 2 ** 60]),
      b64({ kind: 'tools', offset: 1 }),
      b64(['tools']),
      'x'.repeat(201),
    ]) {
      assert.equal(decodeCursor(cursor, 'tools'), undefined, JSON.stringify(cursor));
    }
  });
});
