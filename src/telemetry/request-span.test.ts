import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UpstreamConfig } from '../config/schema.ts';
import type { Request } from '../jsonrpc.ts';
import type { RequestFacts } from './observation.ts';
import { RequestSpan } from './request-span.ts';
import { CLIENT, SERVER, type Span, STATUS_ERROR, STATUS_UNSET } from './span.ts';
import { auditedTraceparent, newSpanId, parseTraceparent } from './trace-context.ts';

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';

/** A recorder keeping ended spans, sampling new traces at `ratio` (0 or 1 here). */
function tracer(ratio = 1) {
  const spans: Span[] = [];
  return {
    tracer: { sample: () => ratio >= 1, record: (span: Span) => void spans.push(span) },
    exporter: { getFinishedSpans: () => spans },
  };
}

/** A span's attributes as an object (the upstream's, kept encoded, read back from their JSON). */
function attributesOf(span: Span | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of JSON.parse(`[${span?.encoded ?? ''}]`) as {
    key: string;
    value: Record<string, unknown>;
  }[])
    out[key] = Object.values(value)[0];
  const pairs = span?.attributes ?? [];
  for (let i = 0; i < pairs.length; i += 2) out[String(pairs[i])] = pairs[i + 1];
  return out;
}

const call: Request = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'web__echo' } };
const about = { session: 's-1', protocolVersion: '2025-11-25', virtualServer: 'default' };
const http = { transport: 'http', url: 'http://10.0.0.5:8080/mcp?key=secret' } as UpstreamConfig;
const factsFrom = (traceparent: string): RequestFacts => ({
  source: '127.0.0.1',
  parent: parseTraceparent(traceparent),
  traceId: CLIENT_TRACE,
  spanId: 'aaaaaaaaaaaaaaaa',
});

test("the SERVER span joins the client's trace as its span's child, and its ids become the request's", () => {
  const { tracer: t, exporter } = tracer();
  const facts = factsFrom(`00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`);
  const span = new RequestSpan(t, call, facts, about);
  span.end({ jsonrpc: '2.0', id: 7, result: {} }, { target: 'web__echo', upstream: 'web' });
  const [server] = exporter.getFinishedSpans();
  assert.ok(server);
  assert.equal(server.name, 'mcp tools/call');
  assert.equal(server.kind, SERVER);
  assert.equal(server.traceId, CLIENT_TRACE);
  assert.equal(server.parentId, CLIENT_SPAN);
  assert.equal(facts.traceId, CLIENT_TRACE);
  assert.equal(facts.spanId, server.spanId);
  assert.deepEqual(attributesOf(server), {
    'mcp.method.name': 'tools/call',
    'mcp.protocol.version': '2025-11-25',
    'jsonrpc.request.id': '7',
    'mcp.session.id': 's-1',
    'gatehouse.virtual_server': 'default',
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': 'web__echo',
    'gatehouse.upstream': 'web',
  });
  assert.equal(server.status, STATUS_UNSET, 'success: no outcome, no status');
});

test('without a client trace the SERVER span starts a new one', () => {
  const { tracer: t, exporter } = tracer();
  const facts: RequestFacts = {};
  new RequestSpan(t, call, facts, about).end(undefined, {});
  const [server] = exporter.getFinishedSpans();
  assert.equal(server?.parentId, undefined);
  assert.match(String(facts.traceId), /^[0-9a-f]{32}$/);
  assert.equal(facts.spanId, server?.spanId);
});

test('policy and upstream spans are children of the SERVER span; the call carries the upstream span', () => {
  const { tracer: t, exporter } = tracer();
  const facts = factsFrom(`00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`);
  const request = new RequestSpan(t, call, facts, about);
  request.endPolicy(request.policy(), { decision: 'deny', ruleId: 'r1' }, false);
  const upstream = request.upstream('tools/call', 'web', 'echo', http);
  const traceparent = request.traceparent(upstream);
  request.endUpstream(upstream, { jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'bad arguments' } });
  request.end(undefined, {});
  const [policy, client, server] = exporter.getFinishedSpans();
  assert.equal(policy?.name, 'policy.decide');
  assert.deepEqual(attributesOf(policy), {
    'gatehouse.policy.decision': 'deny',
    'gatehouse.policy.enforced': false,
    'gatehouse.policy.rule_id': 'r1',
  });
  assert.equal(client?.name, 'mcp tools/call web');
  assert.equal(client?.kind, CLIENT);
  for (const child of [policy, client]) assert.equal(child?.parentId, facts.spanId);
  assert.equal(server?.spanId, facts.spanId);
  assert.equal(traceparent, `00-${CLIENT_TRACE}-${client?.spanId}-01`);
  assert.equal(attributesOf(client)['server.address'], '10.0.0.5');
  assert.equal(attributesOf(client)['server.port'], 8080);
  assert.equal(attributesOf(client)['rpc.status_code'], '-32602');
  assert.equal(attributesOf(client)['error.type'], '-32602');
  assert.deepEqual([client?.status, client?.statusMessage], [STATUS_ERROR, 'bad arguments']);
  assert.ok(
    !JSON.stringify(attributesOf(client)).includes('secret'),
    'the URL path and query stay out of spans',
  );
});

test("a failed upstream call records the gateway's error code", () => {
  const { tracer: t, exporter } = tracer();
  const request = new RequestSpan(t, call, {}, about);
  request.endUpstream(request.upstream('tools/call', 'web', 'echo', http), undefined, {
    code: 'upstream_timeout',
    message: 'upstream "web" did not answer tools/call in time',
  });
  const [client] = exporter.getFinishedSpans();
  assert.equal(attributesOf(client)['error.type'], 'upstream_timeout');
  assert.equal(attributesOf(client)['gatehouse.outcome'], 'error');
  assert.equal(client?.status, STATUS_ERROR);
});

test('a trace the client did not sample records nothing and stays unsampled upstream', () => {
  const { tracer: t, exporter } = tracer();
  const facts = factsFrom(`00-${CLIENT_TRACE}-${CLIENT_SPAN}-00`);
  const request = new RequestSpan(t, call, facts, about);
  const upstream = request.upstream('tools/call', 'web', 'echo', http);
  assert.match(request.traceparent(upstream), new RegExp(`^00-${CLIENT_TRACE}-[0-9a-f]{16}-00$`));
  request.endUpstream(upstream, { jsonrpc: '2.0', id: 1, result: {} });
  request.end(undefined, {});
  assert.deepEqual(exporter.getFinishedSpans(), []);
  assert.equal(facts.traceId, CLIENT_TRACE);
});

test('sampleRatio 0 records no new traces, but still follows a sampled caller', () => {
  const { tracer: t, exporter } = tracer(0);
  new RequestSpan(t, call, {}, about).end(undefined, {});
  assert.equal(exporter.getFinishedSpans().length, 0);
  new RequestSpan(t, call, factsFrom(`00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`), about).end(undefined, {});
  assert.equal(exporter.getFinishedSpans().length, 1);
});

test('with tracing off, the traceparent sent upstream names the audit span in the client trace', () => {
  const facts = factsFrom(`00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`);
  assert.equal(auditedTraceparent(facts), `00-${CLIENT_TRACE}-aaaaaaaaaaaaaaaa-01`);
  assert.equal(auditedTraceparent({}), undefined);
});

test('span ids from the pool are 16 hex digits and do not repeat', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 5000; i++) ids.add(newSpanId()); // Crosses several refills of the pool.
  assert.equal(ids.size, 5000);
  for (const id of ids) assert.match(id, /^[0-9a-f]{16}$/);
});
