import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import type { UpstreamConfig } from '../config/schema.ts';
import type { Request } from '../jsonrpc.ts';
import type { RequestFacts } from './observation.ts';
import { RequestSpan } from './request-span.ts';
import { auditedTraceparent, newSpanId, parseTraceparent } from './trace-context.ts';

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';

function tracer(ratio = 1) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return { tracer: provider.getTracer('test'), exporter };
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
  assert.equal(server.kind, SpanKind.SERVER);
  assert.equal(server.spanContext().traceId, CLIENT_TRACE);
  assert.equal(server.parentSpanContext?.spanId, CLIENT_SPAN);
  assert.equal(facts.traceId, CLIENT_TRACE);
  assert.equal(facts.spanId, server.spanContext().spanId);
  assert.deepEqual(server.attributes, {
    'mcp.method.name': 'tools/call',
    'mcp.protocol.version': '2025-11-25',
    'jsonrpc.request.id': '7',
    'mcp.session.id': 's-1',
    'gatehouse.virtual_server': 'default',
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': 'web__echo',
    'gatehouse.upstream': 'web',
  });
  assert.equal(server.status.code, SpanStatusCode.UNSET, 'success: no outcome, no status');
});

test('without a client trace the SERVER span starts a new one', () => {
  const { tracer: t, exporter } = tracer();
  const facts: RequestFacts = {};
  new RequestSpan(t, call, facts, about).end(undefined, {});
  const [server] = exporter.getFinishedSpans();
  assert.equal(server?.parentSpanContext, undefined);
  assert.match(String(facts.traceId), /^[0-9a-f]{32}$/);
  assert.equal(facts.spanId, server?.spanContext().spanId);
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
  assert.deepEqual(policy?.attributes, {
    'gatehouse.policy.decision': 'deny',
    'gatehouse.policy.enforced': false,
    'gatehouse.policy.rule_id': 'r1',
  });
  assert.equal(client?.name, 'mcp tools/call web');
  assert.equal(client?.kind, SpanKind.CLIENT);
  for (const child of [policy, client]) assert.equal(child?.parentSpanContext?.spanId, facts.spanId);
  assert.equal(server?.spanContext().spanId, facts.spanId);
  assert.equal(traceparent, `00-${CLIENT_TRACE}-${client?.spanContext().spanId}-01`);
  assert.equal(client?.attributes['server.address'], '10.0.0.5');
  assert.equal(client?.attributes['server.port'], 8080);
  assert.equal(client?.attributes['rpc.status_code'], '-32602');
  assert.equal(client?.attributes['error.type'], '-32602');
  assert.deepEqual(client?.status, { code: SpanStatusCode.ERROR, message: 'bad arguments' });
  assert.ok(
    !JSON.stringify(client?.attributes).includes('secret'),
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
  assert.equal(client?.attributes['error.type'], 'upstream_timeout');
  assert.equal(client?.attributes['gatehouse.outcome'], 'error');
  assert.equal(client?.status.code, SpanStatusCode.ERROR);
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
