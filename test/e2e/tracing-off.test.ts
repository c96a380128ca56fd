// Tracing off (the default), end to end: nothing reaches a collector even when one is
// configured; an upstream request carries no traceparent unless the client sent a trace, and
// then it carries the client's trace with the audit record's span as the parent.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { StoredRecord } from '../../src/audit/record.ts';
import { openSqliteAuditStore } from '../../src/audit/sqlite-store.ts';
import { startTestGateway, stdio } from '../helpers/gateway.ts';
import { type OtlpReceiver, startOtlpReceiver } from '../helpers/otlp-receiver.ts';
import {
  clientTrace,
  type Noted,
  startTraceUpstream,
  type TraceUpstream,
  traceFixture,
  tracingClient,
} from '../helpers/trace-upstream.ts';

let dir: string;
let receiver: OtlpReceiver;
let web: TraceUpstream;
let records: StoredRecord[];
let all: Record<string, Noted[]>;
const headerTrace = clientTrace();
const metaTrace = clientTrace();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-tracing-off-'));
  receiver = await startOtlpReceiver();
  web = await startTraceUpstream('http');
  const gateway = await startTestGateway({
    audit: { store: { type: 'sqlite', file: join(dir, 'audit.db') }, spoolFile: join(dir, 'audit.spool') },
    tracing: { enabled: false, otlp: { url: receiver.url }, flushIntervalMs: 10 },
    upstreams: { web: { transport: 'http', url: web.url }, local: stdio(traceFixture, ['stdio']) },
  });
  const client = await tracingClient(`${gateway.url}/mcp`);
  await client.call('web__echo', { text: 'untraced' });
  await client.call('local__echo', { text: 'untraced' });
  await client.call('web__echo', { text: 'traced' }, { header: headerTrace.traceparent });
  await client.call('local__echo', { text: 'traced' }, { meta: metaTrace.traceparent });
  all = { web: await client.seen('web'), local: await client.seen('local') };
  await client.close();
  await gateway.close();
  const store = openSqliteAuditStore(join(dir, 'audit.db'));
  records = [];
  for await (const r of store.query({})) records.push(r);
  await store.close();
});

after(async () => {
  await Promise.all([web?.stop(), receiver?.close()]);
  await rm(dir, { recursive: true, force: true });
});

const recordOf = (traceId: string) => {
  const found = records.filter((r) => r.traceId === traceId);
  assert.equal(found.length, 1);
  return found[0]!;
};

test('nothing is exported, though a collector is configured', () => {
  assert.equal(receiver.requests.length, 0);
  assert.deepEqual(receiver.spans, []);
});

test('a call whose client sent no trace reaches the upstream with no traceparent, header or _meta', () => {
  for (const [prefix, noted] of Object.entries(all)) {
    // The untraced echo call, and the `seen` call itself.
    for (const call of [noted[0]!, noted.at(-1)!]) {
      assert.equal(call.meta, undefined, prefix);
      assert.ok(!call.header, `${prefix}: no traceparent header`);
      assert.equal(call.metaKeys, undefined, `${prefix}: no _meta added`);
    }
  }
});

test("a client's trace reaches the upstream, parented to the span its audit record names", () => {
  const viaHeader = recordOf(headerTrace.traceId);
  const expected = `00-${headerTrace.traceId}-${viaHeader.spanId}-01`;
  assert.equal(all.web![1]!.header, expected);
  assert.equal(all.web![1]!.meta, expected);
  const viaMeta = recordOf(metaTrace.traceId);
  assert.equal(all.local![1]!.meta, `00-${metaTrace.traceId}-${viaMeta.spanId}-01`);
  assert.notEqual(viaMeta.spanId, metaTrace.spanId, 'the gateway’s span, not the client’s');
});
