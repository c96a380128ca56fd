// The `tracing` section of gatehouse.yaml: OpenTelemetry spans sent to an OTLP/HTTP collector.
// Off by default; off, no tracer exists and requests do no tracing work (telemetry/tracing.ts).
import { z } from 'zod';

export const tracingSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    otlp: z
      .strictObject({
        /** The collector's OTLP/HTTP traces endpoint (spans are sent as JSON). */
        url: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:4318/v1/traces'),
        /** Sent with every export, e.g. a vendor's API key: write it as `${secret:NAME}`. */
        headers: z.record(z.string(), z.string()).default({}),
        timeoutMs: z.number().int().positive().default(10_000),
      })
      .prefault({}),
    /**
     * The share of new traces recorded (0..1). A request that arrives inside a trace follows the
     * caller's sampled flag instead, so a trace is kept or dropped whole.
     */
    sampleRatio: z.number().min(0).max(1).default(1),
    /** `service.name` of the spans. */
    serviceName: z.string().min(1).max(128).default('gatehouse'),
    /** Spans waiting for export beyond this are dropped (a collector that is down costs no memory). */
    maxQueueSize: z.number().int().min(64).max(1_000_000).default(8192),
    /** How long a span may wait before its batch is sent. */
    flushIntervalMs: z.number().int().min(10).max(60_000).default(5000),
  })
  .prefault({});

export type TracingConfig = z.infer<typeof tracingSchema>;
