import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSseParser, type SseEvent, sseEvent } from './sse.ts';

/** Feeds `chunks` to a fresh parser and returns the events it dispatched. */
function parse(...chunks: string[]): SseEvent[] {
  const events: SseEvent[] = [];
  const feed = createSseParser((e) => events.push(e));
  for (const chunk of chunks) feed(chunk);
  return events;
}

const message = (data: string, extra: Partial<SseEvent> = {}): SseEvent => ({
  event: 'message',
  data,
  id: undefined,
  retry: undefined,
  ...extra,
});

describe('createSseParser', () => {
  test('dispatches an event at a blank line, with type "message" by default', () => {
    assert.deepEqual(parse('data: {"a":1}\n\n'), [message('{"a":1}')]);
  });

  test('does not dispatch an event before its blank line', () => {
    assert.deepEqual(parse('data: x\n'), []);
  });

  test('accepts LF, CRLF and CR line endings', () => {
    const expected = [message('a'), message('b')];
    assert.deepEqual(parse('data: a\n\ndata: b\n\n'), expected);
    assert.deepEqual(parse('data: a\r\n\r\ndata: b\r\n\r\n'), expected);
    assert.deepEqual(parse('data: a\r\rdata: b\r\r:\n'), expected);
    assert.deepEqual(parse('data: a\r\n\ndata: b\r\r\n'), expected, 'mixed endings');
  });

  test('joins a CRLF split across chunks as one line ending', () => {
    assert.deepEqual(parse('data: a\r', '\n\r', '\n'), [message('a')]);
    assert.deepEqual(parse('data: a\r', '\r', 'data: b\n\n'), [message('a'), message('b')]);
  });

  // A CR ends a line at once (WHATWG); a following LF is then skipped. Waiting for the next
  // chunk to see whether an LF follows delays the last event of a CR-only stream until the
  // server next writes (e.g. a keepalive 15 s later).
  test('dispatches an event ended by CR CR without waiting for the next chunk', () => {
    assert.deepEqual(parse('data: a\r\r'), [message('a')]);
    assert.deepEqual(parse('data: a\r', '\r'), [message('a')]);
  });

  test('reassembles events split across chunks anywhere', () => {
    const text = 'event: note\nid: 7\ndata: {"hello":"world"}\n\ndata: second\n\n';
    const whole = parse(text);
    assert.equal(whole.length, 2);
    for (let i = 1; i < text.length; i++) {
      assert.deepEqual(parse(text.slice(0, i), text.slice(i)), whole, `split at ${i}`);
    }
    assert.deepEqual(parse(...text.split('')), whole, 'one character at a time');
  });

  test('ignores comment lines', () => {
    assert.deepEqual(parse(': keepalive\n\n: another\ndata: x\n: inside\n\n'), [message('x')]);
  });

  test('joins multi-line data with LF', () => {
    assert.deepEqual(parse('data: one\ndata: two\ndata:\ndata: three\n\n'), [message('one\ntwo\n\nthree')]);
  });

  test('strips one leading space from a value, not more', () => {
    assert.deepEqual(parse('data:  two spaces\n\ndata:none\n\n'), [message(' two spaces'), message('none')]);
  });

  test('keeps colons after the first one in the value', () => {
    assert.deepEqual(parse('data: {"a":"b:c"}\n\n'), [message('{"a":"b:c"}')]);
  });

  test('takes a field name alone on a line as an empty value', () => {
    assert.deepEqual(parse('data\n\n'), [message('')]);
  });

  test('reads event types, ids and retry, resetting the type after each event', () => {
    assert.deepEqual(parse('event: endpoint\nid: 1\nretry: 500\ndata: /message?x=1\n\ndata: y\n\n'), [
      { event: 'endpoint', data: '/message?x=1', id: '1', retry: 500 },
      message('y', { id: '1' }),
    ]);
  });

  test('ignores an id containing NUL and a retry that is not digits', () => {
    assert.deepEqual(parse('id: 1\n\nid: a\0b\nretry: 5s\ndata: x\n\n'), [message('x', { id: '1' })]);
  });

  test('does not dispatch an event without data', () => {
    assert.deepEqual(parse('event: ping\n\nid: 3\n\n'), []);
  });

  test('ignores unknown fields', () => {
    assert.deepEqual(parse('foo: bar\ndata: x\n\n'), [message('x')]);
  });

  test('parses what sseEvent writes', () => {
    const text = sseEvent('{"jsonrpc":"2.0"}', { id: 'e1', event: 'message' }) + sseEvent('plain');
    assert.deepEqual(parse(text), [
      message('{"jsonrpc":"2.0"}', { id: 'e1' }),
      message('plain', { id: 'e1' }),
    ]);
  });
});

describe('sseEvent', () => {
  test('writes data, and the event and id fields when given', () => {
    assert.equal(sseEvent('x'), 'data: x\n\n');
    assert.equal(sseEvent('x', { id: '5', event: 'message' }), 'event: message\nid: 5\ndata: x\n\n');
  });
});
