// The OTLP sink against a loopback node:http receiver that checks each export against the
// OTLP/HTTP JSON encoding (opentelemetry-proto logs.proto and the spec's "JSON Protobuf
// Encoding" rules). No OpenTelemetry Collector binary is available on these machines (nothing
// beyond Debian packages and npm can be installed), so the receiver is the check.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually, storedRecord, storedRecords } from '../../../test/helpers/sink-records.ts';
import type { StoredRecord } from '../record.ts';
import type { DeadLetter } from './delivery.ts';
import { createSink } from './open-sinks.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-otlp-'));
});
after(() => rm(dir, { recursive: true, force: true }));

type Json = Record<string, unknown>;

const LOG_RECORD_FIELDS = new Set([
  'timeUnixNano',
  'observedTimeUnixNano',
  'severityNumber',
  'severityText',
  'body',
  'attributes',
  'droppedAttributesCount',
  'flags',
  'traceId',
  'spanId',
  'eventName',
]);
const ANY_VALUE_FIELDS = [
  'stringValue',
  'boolValue',
  'intValue',
  'doubleValue',
  'arrayValue',
  'kvlistValue',
  'bytesValue',
];
const SEVERITY_TEXT: [number, number, string][] = [
  [9, 12, 'INFO'],
  [13, 16, 'WARN'],
  [17, 20, 'ERROR'],
];

/** Problems with an ExportLogsServiceRequest in OTLP JSON; empty when it follows the encoding. */
function checkExport(body: Json): string[] {
  const problems: string[] = [];
  const fail = (where: string, what: string) => problems.push(`${where}: ${what}`);
  const keys = Object.keys(body);
  if (keys.length !== 1 || !Array.isArray(body.resourceLogs))
    fail('request', `only resourceLogs[] expected, got ${keys}`);
  for (const [i, rl] of ((body.resourceLogs ?? []) as Json[]).entries()) {
    const at = `resourceLogs[${i}]`;
    checkAttributes((rl.resource as Json | undefined)?.attributes, `${at}.resource.attributes`, fail);
    if (!Array.isArray(rl.scopeLogs) || rl.scopeLogs.length === 0) {
      fail(at, 'scopeLogs[] missing');
      continue;
    }
    for (const [j, sl] of (rl.scopeLogs as Json[]).entries()) {
      const scope = sl.scope as Json | undefined;
      if (scope && typeof scope.name !== 'string')
        fail(`${at}.scopeLogs[${j}].scope`, 'name must be a string');
      if (!Array.isArray(sl.logRecords)) {
        fail(`${at}.scopeLogs[${j}]`, 'logRecords[] missing');
        continue;
      }
      for (const [k, lr] of (sl.logRecords as Json[]).entries())
        checkLogRecord(lr, `${at}.scopeLogs[${j}].logRecords[${k}]`, fail);
    }
  }
  return problems;
}

function checkLogRecord(lr: Json, where: string, fail: (where: string, what: string) => void): void {
  for (const key of Object.keys(lr)) if (!LOG_RECORD_FIELDS.has(key)) fail(where, `unknown field ${key}`);
  // fixed64 fields are JSON strings of decimal digits (int64 must not lose precision).
  for (const key of ['timeUnixNano', 'observedTimeUnixNano']) {
    if (typeof lr[key] !== 'string' || !/^\d+$/.test(lr[key] as string))
      fail(where, `${key} must be a decimal string`);
  }
  const n = lr.severityNumber;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 24)
    fail(where, 'severityNumber: enum as an integer 1-24');
  const range = SEVERITY_TEXT.find(([lo, hi]) => typeof n === 'number' && n >= lo && n <= hi);
  if (!range || lr.severityText !== range[2])
    fail(where, `severityText ${lr.severityText} does not match ${n}`);
  checkAnyValue(lr.body, `${where}.body`, fail);
  checkAttributes(lr.attributes, `${where}.attributes`, fail);
  // Trace and span ids are hex in OTLP JSON (not base64 as in the generic protobuf mapping).
  if ('traceId' in lr && !/^[0-9a-f]{32}$/.test(String(lr.traceId)))
    fail(where, 'traceId: 32 lower-case hex');
  if ('spanId' in lr && !/^[0-9a-f]{16}$/.test(String(lr.spanId))) fail(where, 'spanId: 16 lower-case hex');
  if ('spanId' in lr && !('traceId' in lr)) fail(where, 'spanId without traceId');
}

function checkAttributes(list: unknown, where: string, fail: (where: string, what: string) => void): void {
  if (!Array.isArray(list)) {
    fail(where, 'must be an array of KeyValue');
    return;
  }
  const seen = new Set<string>();
  for (const kv of list as Json[]) {
    if (typeof kv.key !== 'string' || kv.key === '') fail(where, 'KeyValue.key must be a non-empty string');
    if (seen.has(kv.key as string)) fail(where, `duplicate key ${kv.key}`);
    seen.add(kv.key as string);
    checkAnyValue(kv.value, `${where}.${kv.key}`, fail);
  }
}

function checkAnyValue(value: unknown, where: string, fail: (where: string, what: string) => void): void {
  if (typeof value !== 'object' || value === null) {
    fail(where, 'AnyValue must be an object');
    return;
  }
  const keys = Object.keys(value);
  if (keys.length !== 1 || !ANY_VALUE_FIELDS.includes(keys[0]!)) {
    fail(where, `AnyValue must hold one value, got ${keys}`);
    return;
  }
  const v = value as Json;
  if ('intValue' in v && !/^-?\d+$/.test(String(v.intValue)))
    fail(where, 'intValue must be a decimal string');
  if ('intValue' in v && typeof v.intValue !== 'string')
    fail(where, 'intValue (int64) must be encoded as a string');
  if ('stringValue' in v && typeof v.stringValue !== 'string') fail(where, 'stringValue must be a string');
  if ('doubleValue' in v && typeof v.doubleValue !== 'number') fail(where, 'doubleValue must be a number');
}

interface Export {
  body: Json;
  contentType?: string;
  authorization?: string;
}

async function collector(answers: ((res: ServerResponse) => void)[] = []) {
  const exports: Export[] = [];
  let n = 0;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk);
    const answer = answers[n++];
    if (answer) return answer(res);
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/v1/logs');
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json;
    exports.push({
      body,
      contentType: req.headers['content-type'],
      authorization: req.headers.authorization,
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/logs`,
    exports,
    requests: () => n,
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function otlp(url: string, name: string, maxAttempts = 5) {
  const logs: string[] = [];
  const file = join(dir, `${name}.jsonl`);
  const sink = createSink(
    {
      type: 'otlp',
      url,
      headers: { Authorization: 'Bearer otlp-secret' },
      timeoutMs: 2_000,
      maxAttempts,
      batchSize: 100,
      queueSize: 1000,
      deadLetterFile: file,
    },
    2,
    (line) => logs.push(line),
    { baseBackoffMs: 10, maxBackoffMs: 50 },
  );
  return { sink, logs, file };
}

interface LogRecord {
  timeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: { stringValue: string };
  attributes: { key: string; value: Record<string, unknown> }[];
  traceId?: string;
  spanId?: string;
}

describe('OTLP sink', () => {
  test('exports each batch as OTLP/HTTP JSON logs that follow the encoding rules', async () => {
    const receiver = await collector();
    const { sink } = otlp(receiver.url, 'encoding');
    const traced = storedRecord({
      traceId: '4BF92F3577B34DA6A3CE929D0E0E4736',
      spanId: '00f067aa0ba902b7',
      outcome: 'denied',
      errorCode: 'policy_denied',
      policy: { decision: 'deny', ruleId: 'no-prod-writes' },
      session: 'sess-9',
      virtualServer: 'dev',
      upstream: 'files',
    });
    const plain = storedRecord({ outcome: 'error', principal: { kind: 'none' }, method: 'auth' });
    const other = storedRecord({ instance: 'gw-test-2', arguments: { big: 2 ** 60, text: 'Zoë "q" \n ☃' } });
    const zeroTrace = storedRecord({ traceId: '0'.repeat(32), spanId: '0'.repeat(16) });
    const records = [traced, plain, other, zeroTrace];
    sink.accept(records);
    await sink.close();
    assert.deepEqual(sink.stats(), { delivered: 4, failed: 0, deadLettered: 0, lost: 0, queued: 0 });
    assert.equal(receiver.exports.length, 1);
    const [exported] = receiver.exports;
    assert.equal(exported!.contentType, 'application/json');
    assert.equal(exported!.authorization, 'Bearer otlp-secret');
    assert.deepEqual(checkExport(exported!.body), []);

    // One resource per gateway instance, service.name=gatehouse.
    const resources = exported!.body.resourceLogs as {
      resource: { attributes: { key: string; value: { stringValue: string } }[] };
      scopeLogs: { scope: { name: string }; logRecords: LogRecord[] }[];
    }[];
    assert.deepEqual(
      resources.map((r) =>
        Object.fromEntries(r.resource.attributes.map((a) => [a.key, a.value.stringValue])),
      ),
      [
        { 'service.name': 'gatehouse', 'service.instance.id': 'gw-test-1' },
        { 'service.name': 'gatehouse', 'service.instance.id': 'gw-test-2' },
      ],
    );
    const logRecords = resources.flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords));
    const byId = new Map(logRecords.map((lr) => [JSON.parse(lr.body.stringValue).id as string, lr]));
    for (const record of records) {
      const lr = byId.get(record.id)!;
      assert.deepEqual(JSON.parse(lr.body.stringValue), record, 'the body is the whole record as JSON');
      assert.equal(lr.timeUnixNano, `${Date.parse(record.time)}000000`);
      const attrs = Object.fromEntries(lr.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
      assert.equal(attrs['log.record.uid'], record.id);
      assert.equal(attrs['mcp.method.name'], record.method);
      assert.equal(attrs['gatehouse.outcome'], record.outcome);
      assert.equal(attrs['gatehouse.seq'], String(record.seq));
    }
    const severity = (r: StoredRecord) => [byId.get(r.id)!.severityNumber, byId.get(r.id)!.severityText];
    assert.deepEqual(severity(traced), [13, 'WARN']);
    assert.deepEqual(severity(plain), [17, 'ERROR']);
    assert.deepEqual(severity(other), [9, 'INFO']);

    const t = byId.get(traced.id)!;
    assert.equal(t.traceId, '4bf92f3577b34da6a3ce929d0e0e4736', 'hex, lower case');
    assert.equal(t.spanId, '00f067aa0ba902b7');
    const attrs = Object.fromEntries(t.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
    assert.equal(attrs['user.id'], 'alice');
    assert.equal(attrs['gatehouse.agent'], 'build-bot');
    assert.equal(attrs['mcp.session.id'], 'sess-9');
    assert.equal(attrs['error.type'], 'policy_denied');
    assert.equal(attrs['gatehouse.policy.rule_id'], 'no-prod-writes');
    assert.equal(byId.get(plain.id)!.traceId, undefined, 'no trace id when the record has none');
    assert.equal(byId.get(zeroTrace.id)!.traceId, undefined, 'an all-zero (invalid) trace id is left out');

    // The checker has teeth: the usual encoding mistakes in a copy of this export are caught.
    const broken = structuredClone(exported!.body) as {
      resourceLogs: { scopeLogs: { logRecords: Json[] }[] }[];
    };
    const lr = broken.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    lr.timeUnixNano = Date.now() * 1e6; // a number, not a string
    lr.traceId = Buffer.from(traced.traceId!, 'hex').toString('base64'); // base64, not hex
    lr.severityText = 'INFO'; // does not match 13
    (lr.attributes as Json[]).push({ key: 'n', value: { intValue: 5 } }); // int64 as a number
    assert.equal(checkExport(broken as unknown as Json).length, 4);
    await receiver.close();
  });

  test('429, 502, 503 and 504 are retried (Retry-After honoured); the export then arrives once', async () => {
    const after =
      (code: number, headers: Record<string, string> = {}) =>
      (res: ServerResponse) =>
        res.writeHead(code, headers).end();
    const receiver = await collector([
      after(429, { 'retry-after': '0' }),
      after(502),
      after(503),
      after(504),
    ]);
    const { sink } = otlp(receiver.url, 'retry');
    const records = storedRecords(3);
    sink.accept(records);
    await eventually(() => sink.stats().delivered === 3, 'delivered after four retryable failures');
    await sink.close();
    assert.deepEqual(sink.stats(), { delivered: 3, failed: 4, deadLettered: 0, lost: 0, queued: 0 });
    assert.equal(receiver.exports.length, 1);
    await receiver.close();
  });

  test('any other status is permanent per OTLP/HTTP (500 and 400 alike): dead-lettered without retry', async () => {
    for (const code of [500, 400]) {
      const receiver = await collector([(res) => res.writeHead(code).end()]);
      const { sink, file } = otlp(receiver.url, `permanent-${code}`);
      const records = storedRecords(2);
      sink.accept(records);
      await sink.close();
      assert.equal(receiver.requests(), 1);
      assert.deepEqual(sink.stats(), { delivered: 0, failed: 1, deadLettered: 2, lost: 0, queued: 0 });
      const dead = (await readFile(file, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as DeadLetter);
      assert.deepEqual(
        dead.map((d) => d.record),
        records,
      );
      assert.equal(dead[0]!.reason, `refused: HTTP ${code}`);
      assert.equal(dead[0]!.sink, 'otlp-2');
      await receiver.close();
    }
  });

  test('a partial success is delivered, not retried (the spec forbids it), and logged', async () => {
    const receiver = await collector([
      (res) =>
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end('{"partialSuccess":{"rejectedLogRecords":"1","errorMessage":"too old"}}'),
    ]);
    const { sink, logs } = otlp(receiver.url, 'partial');
    sink.accept(storedRecords(3));
    await sink.close();
    assert.equal(receiver.requests(), 1);
    assert.deepEqual(sink.stats(), { delivered: 3, failed: 0, deadLettered: 0, lost: 0, queued: 0 });
    assert.ok(logs.some((line) => line.includes('rejected 1 of 3')));
    assert.ok(logs.every((line) => !line.includes('otlp-secret')));
    await receiver.close();
  });
});
