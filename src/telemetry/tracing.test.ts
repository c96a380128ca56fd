import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { Request } from '../jsonrpc.ts';
import { newTraceId } from './trace-context.ts';
import { openTracing, sampler } from './tracing.ts';
import { tracingSchema } from './tracing-schema.ts';

const call: Request = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } };
const about = { protocolVersion: '2025-11-25' };

test('tracing is off by default, and off there is no tracer at all', () => {
  const config = tracingSchema.parse({});
  assert.equal(config.enabled, false);
  assert.equal(
    openTracing(config, () => {}),
    undefined,
  );
});

test('the schema refuses a ratio outside 0..1 and a collector URL that is not http(s)', () => {
  assert.throws(() => tracingSchema.parse({ sampleRatio: 1.5 }));
  assert.throws(() => tracingSchema.parse({ otlp: { url: 'ftp://collector/v1/traces' } }));
});

test('a collector that refuses spans is reported once, and once more when it takes them again', async () => {
  let refuse = true;
  const bodies: string[] = [];
  const collector = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    bodies.push(Buffer.concat(chunks).toString('utf8'));
    // 400 is not retried by the exporter, so each batch fails at once.
    res.writeHead(refuse ? 400 : 200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const { port } = collector.address() as AddressInfo;
  const logs: string[] = [];
  const tracing = openTracing(
    tracingSchema.parse({
      enabled: true,
      otlp: { url: `http://127.0.0.1:${port}/v1/traces?token=hidden`, headers: { 'x-key': 'k' } },
    }),
    (line) => logs.push(line),
  );
  assert.ok(tracing);
  try {
    for (let batch = 0; batch < 2; batch++) {
      tracing.begin(call, {}, about).end(undefined, {});
      await tracing.flush();
    }
    refuse = false;
    tracing.begin(call, {}, about).end(undefined, {});
    await tracing.flush();
    const failures = logs.filter((l) => l.includes('not accepted'));
    assert.equal(failures.length, 1, logs.join('\n'));
    assert.equal(
      logs.filter((l) => l.includes('takes spans again; 2 span(s) were lost')).length,
      1,
      logs.join('\n'),
    );
    assert.ok(!logs.join('\n').includes('hidden'), 'the collector URL’s query never reaches the log');
    assert.equal(bodies.length, 3);
    assert.match(bodies[2]!, /"name":"mcp tools\/call"/);
  } finally {
    await tracing.shutdown();
    collector.close();
  }
});

test('spans reach the collector as OTLP JSON with its headers and the resource', async () => {
  const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  const collector = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const { port } = collector.address() as AddressInfo;
  const tracing = openTracing(
    tracingSchema.parse({
      enabled: true,
      serviceName: 'gw',
      otlp: { url: `http://127.0.0.1:${port}/v1/traces`, headers: { 'x-key': 'k' } },
    }),
    () => {},
    'node-1',
  );
  assert.ok(tracing);
  const facts: { traceId?: string; spanId?: string } = {};
  tracing
    .begin(call, facts, about)
    .end({ jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'no' } }, {});
  await tracing.shutdown();
  collector.close();
  assert.equal(received.length, 1);
  assert.equal(received[0]?.headers['x-key'], 'k');
  assert.match(String(received[0]?.headers['content-type']), /^application\/json/);
  const body = JSON.parse(received[0]!.body);
  const resource = Object.fromEntries(
    body.resourceSpans[0].resource.attributes.map((a: { key: string; value: { stringValue: string } }) => [
      a.key,
      a.value.stringValue,
    ]),
  );
  assert.equal(resource['service.name'], 'gw');
  assert.equal(resource['service.instance.id'], 'node-1');
  const [span] = body.resourceSpans[0].scopeSpans[0].spans;
  assert.equal(span.traceId, facts.traceId);
  assert.equal(span.spanId, facts.spanId);
  assert.equal(span.kind, 2);
  assert.deepEqual(span.status, { code: 2, message: 'no' });
});

test('a full queue drops spans and the log says how many; a full batch is sent at once', async () => {
  const held: http.ServerResponse[] = [];
  let batches = 0;
  const collector = http.createServer((req, res) => {
    req.resume();
    batches++;
    held.push(res);
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const { port } = collector.address() as AddressInfo;
  const logs: string[] = [];
  const tracing = openTracing(
    tracingSchema.parse({
      enabled: true,
      maxQueueSize: 64, // Batches of 64 too.
      flushIntervalMs: 60_000,
      otlp: { url: `http://127.0.0.1:${port}/v1/traces` },
    }),
    (line) => logs.push(line),
  );
  assert.ok(tracing);
  for (let i = 0; i < 64 + 64 + 10; i++) tracing.begin(call, {}, about).end(undefined, {});
  while (batches < 1) await new Promise((resolve) => setTimeout(resolve, 5));
  for (const res of held.splice(0)) res.writeHead(200).end('{}');
  const done = tracing.shutdown();
  while (batches < 2) await new Promise((resolve) => setTimeout(resolve, 5));
  for (const res of held.splice(0)) res.writeHead(200).end('{}');
  await done;
  collector.closeAllConnections();
  collector.close();
  assert.equal(batches, 2, 'the first batch went without waiting for the interval');
  assert.deepEqual(
    logs.filter((l) => l.includes('dropped')),
    ['tracing: 10 span(s) dropped: the export queue was full'],
  );
});

test('sampleRatio between 0 and 1 records about that share of new traces', () => {
  const sample = sampler(0.25);
  let kept = 0;
  for (let i = 0; i < 20_000; i++) if (sample(newTraceId())) kept++;
  assert.ok(kept > 4_500 && kept < 5_500, String(kept));
  assert.equal(sampler(0)(newTraceId()), false);
  assert.equal(sampler(1)('ffffffffffffffffffffffffffffffff'), true);
});

test('a collector that is not there fails neither a request nor the shutdown; the log says so', async () => {
  const free = http.createServer();
  await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
  const { port } = free.address() as AddressInfo;
  await new Promise<void>((resolve) => free.close(() => resolve())); // Nothing listens there now.
  const logs: string[] = [];
  const tracing = openTracing(
    tracingSchema.parse({
      enabled: true,
      otlp: { url: `http://127.0.0.1:${port}/v1/traces`, timeoutMs: 300 },
    }),
    (line) => logs.push(line),
  );
  assert.ok(tracing);
  tracing.begin(call, {}, about).end(undefined, {});
  await tracing.shutdown();
  assert.equal(logs.filter((l) => l.includes('not accepted')).length, 1, logs.join('\n'));
});

test('with tracing off the span recorder and exporter are never loaded; on, they are', () => {
  // A fresh process, since this one has loaded them for the tests above. It records every
  // module resolved while the gateway's code loads and its observers open.
  const script = `
    import { registerHooks } from 'node:module';
    const loaded = [];
    registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); loaded.push(r.url); return r; } });
    const { configSchema } = await import(${JSON.stringify(new URL('../config/schema.ts', import.meta.url).href)});
    await import(${JSON.stringify(new URL('../gateway.ts', import.meta.url).href)}); // Everything it imports.
    const { openObservers } = await import(${JSON.stringify(new URL('./observers.ts', import.meta.url).href)});
    const config = configSchema.parse({
      upstreams: { x: { transport: 'stdio', command: 'true' } },
      audit: { enabled: false },
      metrics: { enabled: false },
      tracing: { enabled: process.argv[1] === 'on', otlp: { url: 'http://127.0.0.1:9/v1/traces' } },
    });
    const observers = await openObservers(config, { registry: undefined, pool: undefined }, () => {});
    await observers.close();
    console.log(JSON.stringify(loaded.filter((u) => u.includes('/telemetry/tracing.ts') || u.includes('/telemetry/span-export.ts') || u.includes('@opentelemetry/sdk-') || u.includes('@opentelemetry/exporter-'))));
  `;
  const run = (mode: string) => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script, mode], {
      encoding: 'utf8',
    });
    return JSON.parse(out.trim().split('\n').at(-1)!) as string[];
  };
  assert.deepEqual(run('off'), []);
  const on = run('on');
  assert.ok(on.length > 0, 'the control: on, the recorder is loaded');
  assert.deepEqual(
    on.filter((u) => u.includes('@opentelemetry/')),
    [],
    'no OpenTelemetry SDK or exporter, on or off',
  );
});
