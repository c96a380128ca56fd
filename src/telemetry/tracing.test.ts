import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { Request } from '../jsonrpc.ts';
import { openTracing } from './tracing.ts';
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

test('with tracing off the OpenTelemetry SDK is never loaded; on, it is', () => {
  // A fresh process, since this one has loaded the SDK for the tests above. It records every
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
    console.log(JSON.stringify(loaded.filter((u) => u.includes('@opentelemetry/sdk-trace') || u.includes('exporter-trace'))));
  `;
  const run = (mode: string) => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script, mode], {
      encoding: 'utf8',
    });
    return JSON.parse(out.trim().split('\n').at(-1)!) as string[];
  };
  assert.deepEqual(run('off'), []);
  assert.ok(run('on').length > 0, 'the control: on, the SDK is loaded');
});
