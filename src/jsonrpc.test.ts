import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GatewayError } from './errors.ts';
import {
  failure,
  isNotification,
  isRequest,
  isResponse,
  type Message,
  parseBody,
  result,
  toMessage,
} from './jsonrpc.ts';

/** The GatewayError code parseBody throws for `text`. */
function codeFor(text: string, allowBatch = false): string {
  try {
    parseBody(text, allowBatch);
  } catch (err) {
    assert.ok(err instanceof GatewayError, `expected a GatewayError, got ${String(err)}`);
    return err.code;
  }
  assert.fail(`expected ${text} to be rejected`);
}

describe('toMessage', () => {
  test('accepts requests with string and integer ids', () => {
    for (const id of ['a', '', 0, -1, 42]) {
      const m = toMessage({ jsonrpc: '2.0', id, method: 'ping' });
      assert.equal(typeof m, 'object', `id ${JSON.stringify(id)}`);
      assert.ok(isRequest(m as Message));
    }
  });

  test('rejects a request id that is null, fractional, boolean, an object or an array', () => {
    for (const id of [null, 1.5, true, {}, [1]]) {
      assert.equal(toMessage({ jsonrpc: '2.0', id, method: 'ping' }), 'id must be a string or an integer');
    }
  });

  test('accepts a notification and tells it from a request', () => {
    const m = toMessage({ jsonrpc: '2.0', method: 'notifications/initialized' }) as Message;
    assert.ok(isNotification(m));
    assert.ok(!isRequest(m));
    assert.ok(!isResponse(m));
  });

  test('requires jsonrpc "2.0"', () => {
    for (const jsonrpc of [undefined, '1.0', 2, 2.0, null]) {
      assert.equal(toMessage({ jsonrpc, id: 1, method: 'ping' }), 'jsonrpc must be "2.0"');
    }
  });

  test('requires a JSON object', () => {
    for (const v of [null, 1, 'x', [], true]) {
      assert.equal(toMessage(v), 'a JSON-RPC message must be a JSON object');
    }
  });

  test('requires params to be an object when present', () => {
    for (const params of [[], 'x', 1, null]) {
      assert.equal(toMessage({ jsonrpc: '2.0', id: 1, method: 'm', params }), 'params must be an object');
    }
    assert.equal(typeof toMessage({ jsonrpc: '2.0', id: 1, method: 'm', params: {} }), 'object');
  });

  test('requires params._meta to be an object when present', () => {
    for (const _meta of [['x'], 'x', 1, null, true]) {
      assert.equal(
        toMessage({ jsonrpc: '2.0', id: 1, method: 'm', params: { _meta } }),
        'params._meta must be an object',
      );
      assert.equal(
        toMessage({ jsonrpc: '2.0', method: 'notifications/x', params: { _meta } }),
        'params._meta must be an object',
      );
    }
    assert.equal(typeof toMessage({ jsonrpc: '2.0', id: 1, method: 'm', params: { _meta: {} } }), 'object');
  });

  test('requires a non-empty string method', () => {
    for (const method of ['', 1, null, {}]) {
      assert.equal(toMessage({ jsonrpc: '2.0', id: 1, method }), 'method must be a non-empty string');
    }
  });

  test('accepts responses with exactly one of result or error', () => {
    const ok = toMessage({ jsonrpc: '2.0', id: 1, result: {} }) as Message;
    assert.ok(isResponse(ok));
    const err = toMessage({ jsonrpc: '2.0', id: 1, error: { code: -1, message: 'x' } }) as Message;
    assert.ok(isResponse(err));
    assert.equal(
      toMessage({ jsonrpc: '2.0', id: 1, result: {}, error: { code: 1, message: '' } }),
      'a response carries exactly one of result or error',
    );
    assert.equal(toMessage({ jsonrpc: '2.0', id: 1 }), 'a response carries exactly one of result or error');
  });

  test('accepts an error response with a null id (the peer could not read the id)', () => {
    assert.equal(
      typeof toMessage({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'x' } }),
      'object',
    );
  });

  test('rejects a response whose result or error is not an object', () => {
    assert.equal(toMessage({ jsonrpc: '2.0', id: 1, result: 1 }), 'result must be an object');
    assert.equal(toMessage({ jsonrpc: '2.0', id: 1, result: [] }), 'result must be an object');
    assert.equal(toMessage({ jsonrpc: '2.0', id: 1, error: 'bad' }), 'error must be an object');
    assert.equal(toMessage({ jsonrpc: '2.0', id: 1, error: { code: '1' } }), 'error must be an object');
  });

  test('requires a method or an id', () => {
    assert.equal(toMessage({ jsonrpc: '2.0' }), 'a message needs a method or an id');
    assert.equal(toMessage({ jsonrpc: '2.0', result: {} }), 'a message needs a method or an id');
  });
});

describe('parseBody', () => {
  test('parses one message', () => {
    const parsed = parseBody('{"jsonrpc":"2.0","id":1,"method":"ping"}', false);
    assert.deepEqual(parsed, { batch: false, message: { jsonrpc: '2.0', id: 1, method: 'ping' } });
  });

  test('answers invalid JSON with parse_error (-32700)', () => {
    for (const text of ['', '{', '{"jsonrpc":"2.0",}', 'nul', '\u0000']) {
      assert.equal(codeFor(text), 'parse_error', JSON.stringify(text));
    }
    assert.throws(
      () => parseBody('{', false),
      (err: GatewayError) => err.rpc === -32700 && err.http === 400,
    );
  });

  test('answers valid JSON that is not a message with invalid_request (-32600)', () => {
    for (const text of ['1', '"x"', 'null', '{}', '{"jsonrpc":"2.0","id":1.5,"method":"x"}']) {
      assert.equal(codeFor(text), 'invalid_request', text);
    }
  });

  test('refuses a batch where batches are not allowed', () => {
    assert.equal(codeFor('[{"jsonrpc":"2.0","id":1,"method":"ping"}]'), 'batch_not_supported');
  });

  test('parses a batch where batches are allowed', () => {
    const parsed = parseBody(
      '[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"}]',
      true,
    );
    assert.ok(Array.isArray(parsed));
    assert.equal(parsed.length, 2);
  });

  test('refuses an empty batch and a batch with an invalid member', () => {
    assert.equal(codeFor('[]', true), 'invalid_request');
    assert.equal(codeFor('[{"jsonrpc":"2.0","id":1,"method":"ping"},1]', true), 'invalid_request');
  });

  test('names the reason in the message', () => {
    assert.throws(
      () => parseBody('{"jsonrpc":"2.0","id":1,"method":"x","params":[1]}', false),
      /Invalid Request: params must be an object/,
    );
  });
});

describe('result / failure', () => {
  test('build JSON-RPC responses', () => {
    assert.deepEqual(result(7, { a: 1 }), { jsonrpc: '2.0', id: 7, result: { a: 1 } });
    assert.deepEqual(failure(null, { code: -32700, message: 'x' }), {
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: 'x' },
    });
  });
});
