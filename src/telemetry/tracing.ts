// OpenTelemetry tracing (the `tracing` section): a tracer provider whose spans are batched and
// sent to an OTLP/HTTP collector as JSON. Off (the default), this module is not even loaded
// (observers.ts imports it only when tracing is on): no SDK, no provider, no spans — the request
// path only checks that `tracing` is undefined. Each request's spans are made by `RequestSpan`
// (request-span.ts).
//
// Only the SDK's tracer is used, never the global API registration or a context manager: spans
// are passed along the request path explicitly, so nothing is paid per `await`.

import { DiagLogLevel, diag } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_INSTANCE_ID, ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { Request } from '../jsonrpc.ts';
import type { RequestFacts } from './observation.ts';
import { RequestSpan, type SpanAbout } from './request-span.ts';
import type { TracingConfig } from './tracing-schema.ts';

export interface Tracing {
  /** Starts the spans of one client request; `facts.traceId`/`spanId` become its SERVER span's. */
  begin(request: Request, facts: RequestFacts, about: SpanAbout): RequestSpan;
  /** Sends every finished span now (settles even if the collector refuses them). */
  flush(): Promise<void>;
  /** Sends what is left and stops (settles even if the collector refuses them). */
  shutdown(): Promise<void>;
}

/** `ExportResultCode.SUCCESS` (@opentelemetry/core). */
const EXPORTED = 0;
const MAX_BATCH = 512;

export function openTracing(
  config: TracingConfig,
  log: (line: string) => void,
  instance?: string,
): Tracing | undefined {
  if (!config.enabled) return undefined;
  const collector = new URL(config.otlp.url).host; // Never the whole URL in logs: it may hold a key.
  const exporter = reportingFailures(
    new OTLPTraceExporter({
      url: config.otlp.url,
      headers: config.otlp.headers,
      timeoutMillis: config.otlp.timeoutMs,
    }),
    collector,
    log,
  );
  routeWarnings(log);
  const provider = new BasicTracerProvider({
    resource: defaultResource().merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: config.serviceName,
        ...(instance ? { [ATTR_SERVICE_INSTANCE_ID]: instance } : {}),
      }),
    ),
    // A caller's sampled flag decides for its trace; the ratio decides for traces we start.
    sampler: new ParentBasedSampler({ root: rootSampler(config.sampleRatio) }),
    spanProcessors: [
      new BatchSpanProcessor(exporter, {
        maxQueueSize: config.maxQueueSize,
        maxExportBatchSize: Math.min(MAX_BATCH, config.maxQueueSize),
        scheduledDelayMillis: config.flushIntervalMs,
        exportTimeoutMillis: config.otlp.timeoutMs,
      }),
    ],
  });
  const tracer = provider.getTracer('gatehouse');
  log(`tracing: spans go to ${collector} (sampling ${config.sampleRatio} of new traces)`);
  return {
    begin: (request, facts, about) => new RequestSpan(tracer, request, facts, about),
    // Both settle even when the collector refuses the last spans: `reportingFailures` has said
    // so in the log, and a collector that is down must not fail the gateway's shutdown.
    flush: () => provider.forceFlush().catch(() => {}),
    shutdown: () => provider.shutdown().catch(() => {}),
  };
}

/** For traces the gateway starts. The ratio sampler costs ~0.7 µs a span: not paid at 0 or 1. */
function rootSampler(ratio: number): Sampler {
  if (ratio >= 1) return new AlwaysOnSampler();
  if (ratio <= 0) return new AlwaysOffSampler();
  return new TraceIdRatioBasedSampler(ratio);
}

/**
 * The exporter, saying in the log when the collector stops taking spans and when it takes them
 * again (once each way, not once per batch).
 */
function reportingFailures(
  inner: SpanExporter,
  collector: string,
  log: (line: string) => void,
): SpanExporter {
  let failing = false;
  let lost = 0;
  return {
    export(spans, done) {
      inner.export(spans, (result) => {
        if (result.code !== EXPORTED) {
          lost += spans.length;
          if (!failing)
            log(`tracing: spans not accepted by ${collector}: ${result.error?.message ?? 'failed'}`);
          failing = true;
        } else if (failing) {
          log(`tracing: ${collector} takes spans again; ${lost} span(s) were lost meanwhile`);
          failing = false;
          lost = 0;
        }
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

/** Where the SDK's warnings go (spans dropped from a full queue): the newest gateway's log. */
let warn: ((line: string) => void) | undefined;

/**
 * The SDK reports through the process-wide `diag` logger. Warnings (a full queue's dropped
 * spans) reach the log; its errors are export failures, which `reportingFailures` reports once.
 */
function routeWarnings(log: (line: string) => void): void {
  const first = warn === undefined;
  warn = log;
  if (!first) return;
  const quiet = () => {};
  diag.setLogger(
    {
      warn: (message) => warn?.(`tracing: ${message}`),
      error: quiet,
      info: quiet,
      debug: quiet,
      verbose: quiet,
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
}
