// Tracing on (issue 4, part 7), end to end: a raw client sends calls inside its own traces (the
// W3C `traceparent` header, or `_meta.traceparent`) through a gateway with a policy, in front of
// real upstreams over Streamable HTTP, legacy SSE and stdio that note the trace context they
// receive. The gateway's spans reach an OTLP/HTTP receiver on loopback; the audit records are
// read back from the SQLite store. Everything is sent first; the gateway is closed (flushing
// spans and records) before the tests read what arrived.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { StoredRecord } from '../../src/audit/record.ts';
import { openSqliteAuditStore } from '../../src/audit/sqlite-store.ts';
import { startTestGateway, stdio } from '../helpers/gateway.ts';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../helpers/otlp-receiver.ts';
import {
  clientTrace,
  type Noted,
  startTraceUpstream,
  type TraceUpstream,
  traceFixture,
  tracingClient,
} from '../helpers/trace-upstream.ts';

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

let dir: string;
let receiver: OtlpReceiver;
let web: TraceUpstream;
let old: TraceUpstream;
let records: StoredRecord[];
const seen: Record<string, Noted[]> = {};
const traces = {
  web: clientTrace(),
  sse: clientTrace(),
  stdioMeta: clientTrace(),
  denied: clientTrace(),
  toolError: clientTrace(),
  list: clientTrace(),
  unsampled: clientTrace(false),
};
let untracedResponse: Record<string, unknown>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-tracing-'));
  receiver = await startOtlpReceiver();
  [web, old] = await Promise.all([startTraceUpstream('http'), startTraceUpstream('sse')]);
  const gateway = await startTestGateway({
    audit: { store: { type: 'sqlite', file: join(dir, 'audit.db') }, spoolFile: join(dir, 'audit.spool') },
    tracing: {
      enabled: true,
      serviceName: 'gatehouse-e2e',
      otlp: { url: receiver.url, headers: { 'x-collector-key': 'collector-secret' } },
      flushIntervalMs: 50,
    },
    upstreams: {
      web: { transport: 'http', url: web.url },
      old: { transport: 'sse', url: old.url },
      local: stdio(traceFixture, ['stdio']),
    },
    policy: {
      rules: [
        {
          id: 'nothing-forbidden',
          effect: 'deny',
          targets: { tools: ['web__echo'] },
          when: "args.text == 'forbidden'",
        },
      ],
    },
  });
  const client = await tracingClient(`${gateway.url}/mcp`);
  await client.call('web__echo', { text: 'hello' }, { header: traces.web.traceparent });
  await client.call('old__echo', { text: 'hello' }, { header: traces.sse.traceparent });
  await client.call('local__echo', { text: 'hello' }, { meta: traces.stdioMeta.traceparent });
  untracedResponse = await client.call('web__echo', { text: 'no trace' });
  await client.call('web__echo', { text: 'forbidden' }, { header: traces.denied.traceparent });
  await client.call('local__fail', {}, { header: traces.toolError.traceparent });
  await client.list({ header: traces.list.traceparent });
  await client.call('web__echo', { text: 'unsampled' }, { header: traces.unsampled.traceparent });
  for (const prefix of ['web', 'old', 'local']) seen[prefix] = await client.seen(prefix);
  await client.close();
  await gateway.close(); // Flushes the spans and the audit records.
  const store = openSqliteAuditStore(join(dir, 'audit.db'));
  records = [];
  for await (const r of store.query({})) records.push(r);
  await store.close();
});

after(async () => {
  await Promise.all([web?.stop(), old?.stop(), receiver?.close()]);
  await rm(dir, { recursive: true, force: true });
});

const spansOf = (traceId: string) => receiver.spans.filter((s) => s.traceId === traceId);
const one = <T>(list: T[], what: string): T => {
  assert.equal(list.length, 1, `expected one ${what}, got ${list.length}`);
  return list[0]!;
};
const recordOf = (traceId: string) =>
  one(
    records.filter((r) => r.traceId === traceId),
    `record in ${traceId}`,
  );
const describe = (spans: ReceivedSpan[]) => spans.map((s) => `${s.name} (${s.kind})`).sort();

test('a traced call is one trace: the SERVER span is the client span’s child, with policy and upstream children', () => {
  const spans = spansOf(traces.web.traceId);
  assert.deepEqual(describe(spans), ['mcp tools/call (2)', 'mcp tools/call web (3)', 'policy.decide (1)']);
  const server = one(
    spans.filter((s) => s.kind === SERVER),
    'SERVER span',
  );
  assert.equal(server.parentSpanId, traces.web.spanId);
  for (const child of spans.filter((s) => s !== server)) assert.equal(child.parentSpanId, server.spanId);
  assert.equal(server.attributes['mcp.method.name'], 'tools/call');
  assert.equal(server.attributes['gen_ai.tool.name'], 'web__echo');
  assert.equal(server.attributes['gen_ai.operation.name'], 'execute_tool');
  assert.equal(server.attributes['gatehouse.upstream'], 'web');
  assert.equal(server.attributes['gatehouse.outcome'], undefined, 'success is the unset default');
  assert.equal(server.status.code, 0);
  assert.equal(server.attributes['mcp.protocol.version'], '2025-11-25');
  assert.equal(typeof server.attributes['mcp.session.id'], 'string');
  assert.equal(server.resource['service.name'], 'gatehouse-e2e');
  const upstream = one(
    spans.filter((s) => s.kind === CLIENT),
    'CLIENT span',
  );
  assert.deepEqual(
    {
      upstream: upstream.attributes['gatehouse.upstream'],
      transport: upstream.attributes['gatehouse.upstream.transport'],
      tool: upstream.attributes['gen_ai.tool.name'],
      status: upstream.status.code,
      address: upstream.attributes['server.address'],
      port: upstream.attributes['server.port'],
    },
    {
      upstream: 'web',
      transport: 'http',
      tool: 'echo',
      status: 0,
      address: '127.0.0.1',
      port: Number(new URL(web.url).port),
    },
  );
  const policy = one(
    spans.filter((s) => s.name === 'policy.decide'),
    'policy span',
  );
  assert.equal(policy.attributes['gatehouse.policy.decision'], 'allow');
});

test('the audit record names the SERVER span, so a record links to its trace', () => {
  for (const trace of [traces.web, traces.sse, traces.stdioMeta, traces.denied, traces.toolError]) {
    const server = one(
      spansOf(trace.traceId).filter((s) => s.kind === SERVER),
      'SERVER span',
    );
    const record = recordOf(trace.traceId);
    assert.equal(record.spanId, server.spanId, `record for ${record.target}`);
  }
});

test('a Streamable HTTP upstream receives the traceparent of the gateway’s upstream span, as a header and in _meta', () => {
  const upstream = one(
    spansOf(traces.web.traceId).filter((s) => s.kind === CLIENT),
    'CLIENT span',
  );
  const expected = `00-${traces.web.traceId}-${upstream.spanId}-01`;
  const call = one(
    seen.web!.filter((n) => n.header === expected),
    'call with the traceparent header',
  );
  assert.equal(call.meta, expected);
});

test('a legacy SSE upstream receives it the same way', () => {
  const upstream = one(
    spansOf(traces.sse.traceId).filter((s) => s.kind === CLIENT),
    'CLIENT span',
  );
  assert.equal(upstream.attributes['gatehouse.upstream.transport'], 'sse');
  const expected = `00-${traces.sse.traceId}-${upstream.spanId}-01`;
  const call = one(
    seen.old!.filter((n) => n.header === expected),
    'call with the traceparent header',
  );
  assert.equal(call.meta, expected);
});

test('a trace sent in _meta is honoured, and a stdio upstream receives the traceparent in _meta', () => {
  const spans = spansOf(traces.stdioMeta.traceId);
  const server = one(
    spans.filter((s) => s.kind === SERVER),
    'SERVER span',
  );
  assert.equal(server.parentSpanId, traces.stdioMeta.spanId);
  const upstream = one(
    spans.filter((s) => s.kind === CLIENT),
    'CLIENT span',
  );
  assert.equal(upstream.attributes['gatehouse.upstream.transport'], 'stdio');
  assert.equal(upstream.attributes['server.address'], undefined);
  const call = one(
    seen.local!.filter((n) => String(n.meta).includes(traces.stdioMeta.traceId)),
    'stdio call in the trace',
  );
  assert.equal(call.meta, `00-${traces.stdioMeta.traceId}-${upstream.spanId}-01`);
  assert.equal(call.header, undefined);
});

test('a call without a trace starts one; its record and its upstream call carry it', () => {
  assert.ok(untracedResponse.result, JSON.stringify(untracedResponse));
  const record = one(
    records.filter(
      (r) => r.target === 'web__echo' && r.arguments && JSON.stringify(r.arguments).includes('no trace'),
    ),
    'record of the untraced call',
  );
  assert.match(String(record.traceId), /^[0-9a-f]{32}$/);
  const server = one(
    spansOf(String(record.traceId)).filter((s) => s.kind === SERVER),
    'SERVER span',
  );
  assert.equal(server.parentSpanId, undefined, 'a root span');
  assert.equal(server.spanId, record.spanId);
  const call = one(
    seen.web!.filter((n) => String(n.header).includes(String(record.traceId))),
    'upstream call in the new trace',
  );
  assert.equal(call.meta, call.header);
});

test('a call refused by policy: a policy.decide span saying deny and which rule, no upstream span, an error SERVER span', () => {
  const spans = spansOf(traces.denied.traceId);
  assert.deepEqual(describe(spans), ['mcp tools/call (2)', 'policy.decide (1)']);
  const policy = one(
    spans.filter((s) => s.name === 'policy.decide'),
    'policy span',
  );
  assert.equal(policy.attributes['gatehouse.policy.decision'], 'deny');
  assert.equal(policy.attributes['gatehouse.policy.rule_id'], 'nothing-forbidden');
  assert.equal(policy.attributes['gatehouse.policy.enforced'], true);
  const server = one(
    spans.filter((s) => s.kind === SERVER),
    'SERVER span',
  );
  assert.equal(server.status.code, ERROR);
  assert.equal(server.attributes['gatehouse.outcome'], 'denied');
  assert.equal(typeof server.attributes['rpc.status_code'], 'string');
  assert.equal(
    seen.web!.some((n) => String(n.header).includes(traces.denied.traceId)),
    false,
    'never forwarded',
  );
});

test('a tool error marks the upstream span and the SERVER span as errors', () => {
  const spans = spansOf(traces.toolError.traceId);
  for (const kind of [SERVER, CLIENT]) {
    const span = one(
      spans.filter((s) => s.kind === kind),
      `span of kind ${kind}`,
    );
    assert.equal(span.status.code, ERROR);
    assert.equal(span.attributes['error.type'], 'tool_error');
    assert.equal(span.attributes['gatehouse.outcome'], 'error');
  }
});

test('a list filtered by the policy has a policy.filter span with the counts', () => {
  const spans = spansOf(traces.list.traceId);
  assert.deepEqual(describe(spans), ['mcp tools/list (2)', 'policy.filter (1)']);
  const filter = one(
    spans.filter((s) => s.name === 'policy.filter'),
    'filter span',
  );
  assert.equal(filter.attributes['gatehouse.policy.listed'], 9);
  assert.equal(filter.attributes['gatehouse.policy.visible'], 9);
});

test('a trace the client did not sample is not exported, and stays unsampled upstream', () => {
  assert.deepEqual(spansOf(traces.unsampled.traceId), []);
  const call = one(
    seen.web!.filter((n) => String(n.header).includes(traces.unsampled.traceId)),
    'upstream call in the unsampled trace',
  );
  assert.match(String(call.header), new RegExp(`^00-${traces.unsampled.traceId}-[0-9a-f]{16}-00$`));
  assert.equal(call.meta, call.header);
  assert.equal(recordOf(traces.unsampled.traceId).target, 'web__echo');
});

test('the client’s other _meta keys reach the upstream beside the gateway’s traceparent', () => {
  const call = one(
    seen.local!.filter((n) => String(n.meta).includes(traces.stdioMeta.traceId)),
    'stdio call in the trace',
  );
  assert.deepEqual(call.metaKeys, ['other', 'traceparent']);
});

test('spans go to the configured collector with its headers, as OTLP JSON', () => {
  assert.ok(receiver.requests.length > 0);
  for (const headers of receiver.requests) {
    assert.equal(headers['x-collector-key'], 'collector-secret');
    assert.match(String(headers['content-type']), /^application\/json/);
  }
});
