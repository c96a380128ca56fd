import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeSpans, envelope, unixNanos } from './otlp-json.ts';
import { CLIENT, Span, STATUS_ERROR } from './span.ts';

test('times are unix nanoseconds in a string, on the wall clock', () => {
  const before = BigInt(Date.now()) * 1_000_000n;
  const nanos = unixNanos(performance.now());
  const after = BigInt(Date.now() + 1) * 1_000_000n;
  assert.match(nanos, /^\d{19}$/);
  assert.ok(BigInt(nanos) >= before - 5_000_000n && BigInt(nanos) <= after + 5_000_000n, nanos);
  assert.equal(BigInt(unixNanos(1.001)) - BigInt(unixNanos(1)), 1000n, 'microseconds kept');
});

test('a batch is an ExportTraceServiceRequest: resource, scope, spans with hex ids, enums as numbers', () => {
  const span = new Span(
    '4bf92f3577b34da6a3ce929d0e0e4736',
    '00f067aa0ba902b7',
    'aaaaaaaaaaaaaaaa',
    true,
    'mcp "x"',
    CLIENT,
    true,
  );
  span.encoded = '{"key":"server.port","value":{"intValue":8080}}';
  span.set('gatehouse.policy.enforced', false);
  span.set('ratio', 0.5);
  span.set('text', 'a "quoted"\nline');
  span.status = STATUS_ERROR;
  span.statusMessage = 'bad arguments';
  span.end = span.start + 1.5;
  const plain = new Span(
    '4bf92f3577b34da6a3ce929d0e0e4736',
    '1111111111111111',
    undefined,
    false,
    'p',
    1,
    true,
  );
  plain.end = plain.start;
  const body = JSON.parse(encodeSpans([span, plain], envelope({ 'service.name': 'gw' })));
  const [resourceSpans] = body.resourceSpans;
  assert.deepEqual(resourceSpans.resource.attributes, [
    { key: 'service.name', value: { stringValue: 'gw' } },
  ]);
  assert.equal(resourceSpans.scopeSpans[0].scope.name, 'gatehouse');
  const [one, two] = resourceSpans.scopeSpans[0].spans;
  assert.equal(one.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(one.spanId, '00f067aa0ba902b7');
  assert.equal(one.parentSpanId, 'aaaaaaaaaaaaaaaa');
  assert.equal(one.name, 'mcp "x"');
  assert.equal(one.kind, 3);
  assert.equal(BigInt(one.endTimeUnixNano) - BigInt(one.startTimeUnixNano), 1_500_000n);
  assert.deepEqual(one.attributes, [
    { key: 'server.port', value: { intValue: 8080 } },
    { key: 'gatehouse.policy.enforced', value: { boolValue: false } },
    { key: 'ratio', value: { doubleValue: 0.5 } },
    { key: 'text', value: { stringValue: 'a "quoted"\nline' } },
  ]);
  assert.deepEqual(one.status, { code: 2, message: 'bad arguments' });
  assert.equal(one.flags, 0x301, 'sampled, with a remote parent');
  assert.equal(two.parentSpanId, undefined);
  assert.deepEqual(two.attributes, []);
  assert.deepEqual(two.status, { code: 0 });
  assert.equal(two.flags, 0x101);
});
