// Tracing (the `tracing` section): each request's spans (request-span.ts), batched and sent to
// an OTLP/HTTP collector as JSON (span-export.ts). Off (the default), this module is not even
// loaded (observers.ts imports it only when tracing is on): no queue, no spans — the request
// path only checks that `tracing` is undefined.
//
// The spans are the gateway's own, not the OpenTelemetry SDK's: a span is one small object,
// its ids come from a pooled random buffer and its JSON is written when its batch is sent. The
// SDK cost 25-30 µs a call at full sampling (docs/performance.md); what the gateway needs of it
// (spans with ids, attributes and status, parent-based ratio sampling, batched OTLP/HTTP JSON
// export) is small. Spans are passed along the request path explicitly: no context manager,
// nothing paid per `await`.

import type { Request } from '../jsonrpc.ts';
import type { RequestFacts } from './observation.ts';
import { envelope } from './otlp-json.ts';
import { RequestSpan, type SpanAbout } from './request-span.ts';
import type { AttributeValue, SpanRecorder } from './span.ts';
import { SpanExport } from './span-export.ts';
import type { TracingConfig } from './tracing-schema.ts';

export interface Tracing {
  /** Starts the spans of one client request; `facts.traceId`/`spanId` become its SERVER span's. */
  begin(request: Request, facts: RequestFacts, about: SpanAbout): RequestSpan;
  /** Sends every finished span now (settles even if the collector refuses them). */
  flush(): Promise<void>;
  /** Sends what is left and stops (settles even if the collector refuses them). */
  shutdown(): Promise<void>;
}

const MAX_BATCH = 512;

export function openTracing(
  config: TracingConfig,
  log: (line: string) => void,
  instance?: string,
): Tracing | undefined {
  if (!config.enabled) return undefined;
  const resource: Record<string, AttributeValue> = {
    'service.name': config.serviceName,
    ...(instance ? { 'service.instance.id': instance } : {}),
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.name': 'gatehouse',
  };
  const exporter = new SpanExport({
    url: config.otlp.url,
    headers: config.otlp.headers,
    timeoutMs: config.otlp.timeoutMs,
    maxQueueSize: config.maxQueueSize,
    maxBatchSize: Math.min(MAX_BATCH, config.maxQueueSize),
    flushIntervalMs: config.flushIntervalMs,
    envelope: envelope(resource),
    log,
  });
  const recorder: SpanRecorder = {
    sample: sampler(config.sampleRatio),
    record: (span) => exporter.add(span),
  };
  // Never the whole URL in logs: it may hold a key.
  log(`tracing: spans go to ${new URL(config.otlp.url).host} (sampling ${config.sampleRatio} of new traces)`);
  return {
    begin: (request, facts, about) => new RequestSpan(recorder, request, facts, about),
    flush: () => exporter.flush(),
    shutdown: () => exporter.shutdown(),
  };
}

/**
 * Whether a trace the gateway starts is recorded. Between 0 and 1 the decision is read from
 * the trace id's last 8 hex digits (random), so it is the same wherever that trace id is seen.
 */
export function sampler(ratio: number): (traceId: string) => boolean {
  if (ratio >= 1) return () => true;
  if (ratio <= 0) return () => false;
  const bound = Math.floor(ratio * 0x1_0000_0000);
  return (traceId) => Number.parseInt(traceId.slice(24), 16) < bound;
}
