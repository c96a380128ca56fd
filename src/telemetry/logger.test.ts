import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { inRequest } from './log-context.ts';
import { createLogger } from './logger.ts';

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { stream, lines: () => text.trim().split('\n').filter(Boolean) };
}

const tick = () => new Promise((r) => setImmediate(r));

test('writes one JSON object per line with time, level and message', async () => {
  const out = capture();
  const { log } = createLogger({ format: 'json', level: 'info', secrets: () => [], destination: out.stream });
  log('upstream connected', { upstream: 'memory' });
  log('careful', { level: 'warn' });
  await tick();
  const [first, second] = out.lines().map((l) => JSON.parse(l));
  assert.equal(first.msg, 'upstream connected');
  assert.equal(first.level, 'info');
  assert.equal(first.upstream, 'memory');
  assert.match(first.time, /^\d{4}-\d{2}-\d{2}T/);
  assert.equal(second.level, 'warn');
});

test('lines logged while serving a request carry its trace, span, session and method', async () => {
  const out = capture();
  const { log } = createLogger({ format: 'json', level: 'info', secrets: () => [], destination: out.stream });
  await inRequest(
    { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), session: 's1', method: 'tools/call' },
    async () => {
      await tick();
      log('policy denied');
    },
  );
  log('outside');
  await tick();
  const [inside, outside] = out.lines().map((l) => JSON.parse(l));
  assert.equal(inside.traceId, 'a'.repeat(32));
  assert.equal(inside.spanId, 'b'.repeat(16));
  assert.equal(inside.session, 's1');
  assert.equal(inside.method, 'tools/call');
  assert.equal(outside.traceId, undefined);
});

test('masks configured secret values in the message and in every field, in both formats', async () => {
  const secret = 'S3cr3t-value-123';
  for (const format of ['json', 'text'] as const) {
    const out = capture();
    const { log } = createLogger({ format, level: 'info', secrets: () => [secret], destination: out.stream });
    log(`connect failed: Bearer ${secret} refused`, { detail: { nested: [`x${secret}y`] } });
    await tick();
    const text = out.lines().join('\n');
    assert.ok(!text.includes(secret), text);
    assert.match(text, /\[REDACTED\]/);
  }
});

test('drops lines below the configured level', async () => {
  const out = capture();
  const { log } = createLogger({ format: 'text', level: 'warn', secrets: () => [], destination: out.stream });
  log('chatter');
  log('problem', { level: 'error' });
  await tick();
  assert.deepEqual(out.lines(), ['problem']);
});
