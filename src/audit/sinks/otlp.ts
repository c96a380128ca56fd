// The OTLP sink: each batch is one OTLP/HTTP JSON logs export (`POST .../v1/logs`,
// ExportLogsServiceRequest), one log record per audit record. Encoding rules followed (OTLP
// spec, "JSON Protobuf Encoding"): lowerCamelCase field names, enums as numbers, 64-bit integers
// as decimal strings, trace and span ids as lower-case hex (not base64).
//
// - One resourceLogs per gateway instance: service.name=gatehouse, service.instance.id=<instance>.
// - body: the whole record as a JSON string, the same bytes the webhook and syslog sinks send.
//   A kvlist would be queryable without parsing, but AnyValue cannot keep a record exactly
//   (integers beyond 2^53, key order), and the record is hash-chained as JSON; the fields people
//   filter on are attributes instead.
// - severity: ok INFO (9), denied/blocked WARN (13), error ERROR (17): as for syslog.
//
// Retries follow OTLP/HTTP: 429, 502, 503, 504 and network errors are retried (Retry-After
// honoured); every other status is permanent. A partial success is not retried (the spec
// forbids it) but logged.
import type { Outcome, StoredRecord } from '../record.ts';
import type { SinkConfig } from '../schema.ts';
import {
  createDelivery,
  type DeliverySink,
  deliveryLimits,
  type SinkOptions,
  type Transport,
} from './delivery.ts';
import { checkTarget, postJson } from './http-post.ts';

export type OtlpSinkConfig = Extract<SinkConfig, { type: 'otlp' }>;

const SEVERITY: Readonly<Record<Outcome, { number: number; text: string }>> = {
  ok: { number: 9, text: 'INFO' },
  denied: { number: 13, text: 'WARN' },
  blocked: { number: 13, text: 'WARN' },
  error: { number: 17, text: 'ERROR' },
};

const RETRYABLE = new Set([429, 502, 503, 504]);

export function createOtlpSink(config: OtlpSinkConfig, options: SinkOptions): DeliverySink {
  const target = { url: config.url, headers: config.headers, timeoutMs: config.timeoutMs };
  const destination = checkTarget(options.name, target);
  const transport: Transport = {
    async send(batch, signal) {
      const answer = await postJson(target, JSON.stringify(encodeLogs(batch)), signal);
      if (!answer.answered) return { ok: false, error: answer.error };
      const { status, retryAfterMs } = answer;
      if (status >= 200 && status < 300) {
        const rejected = rejectedCount(answer.body);
        if (rejected > 0) {
          options.log(
            `audit sink ${options.name} (${destination}): the receiver rejected ${rejected} of ${batch.length} log record(s)`,
          );
        }
        return { ok: true };
      }
      const error = `HTTP ${status}`;
      return RETRYABLE.has(status)
        ? { ok: false, error, retryAfterMs }
        : { ok: false, error, permanent: true };
    },
  };
  return createDelivery(transport, { ...options, ...deliveryLimits(config), destination });
}

type AnyValue = { stringValue: string } | { intValue: string } | { doubleValue: number };
interface KeyValue {
  key: string;
  value: AnyValue;
}

/** The ExportLogsServiceRequest for a batch, as OTLP JSON. */
export function encodeLogs(batch: readonly StoredRecord[], observedMs = Date.now()) {
  const byInstance = new Map<string, StoredRecord[]>();
  for (const record of batch) {
    const list = byInstance.get(record.instance);
    if (list) list.push(record);
    else byInstance.set(record.instance, [record]);
  }
  const observedTimeUnixNano = nanos(observedMs);
  return {
    resourceLogs: [...byInstance].map(([instance, records]) => ({
      resource: { attributes: [text('service.name', 'gatehouse'), text('service.instance.id', instance)] },
      scopeLogs: [
        {
          scope: { name: 'gatehouse.audit' },
          logRecords: records.map((record) => logRecord(record, observedTimeUnixNano)),
        },
      ],
    })),
  };
}

function logRecord(record: StoredRecord, observedTimeUnixNano: string) {
  const time = Date.parse(record.time);
  const severity = SEVERITY[record.outcome] ?? SEVERITY.error;
  return {
    // 0 means "unknown" in OTLP; a record always has a time, but a malformed one stays honest.
    timeUnixNano: Number.isNaN(time) ? '0' : nanos(time),
    observedTimeUnixNano,
    severityNumber: severity.number,
    severityText: severity.text,
    body: { stringValue: JSON.stringify(record) },
    attributes: attributes(record),
    ...(isHexId(record.traceId, 32) ? { traceId: record.traceId.toLowerCase() } : {}),
    ...(isHexId(record.traceId, 32) && isHexId(record.spanId, 16)
      ? { spanId: record.spanId.toLowerCase() }
      : {}),
  };
}

/** Key fields, under semantic-convention names where one exists (log.record.uid, user.id, ...). */
function attributes(record: StoredRecord): KeyValue[] {
  const out: KeyValue[] = [text('log.record.uid', record.id), text('gatehouse.outcome', record.outcome)];
  out.push(text('mcp.method.name', record.method));
  const optional: [string, string | undefined][] = [
    ['gatehouse.agent', record.principal.agent],
    ['user.id', record.principal.user],
    ['gatehouse.target', record.target],
    ['mcp.session.id', record.session],
    ['gatehouse.virtual_server', record.virtualServer],
    ['gatehouse.upstream', record.upstream],
    ['error.type', record.errorCode === undefined ? undefined : String(record.errorCode)],
    ['gatehouse.policy.rule_id', record.policy?.ruleId],
  ];
  for (const [key, value] of optional) if (value !== undefined) out.push(text(key, value));
  out.push({ key: 'gatehouse.latency_ms', value: { doubleValue: record.latencyMs } });
  out.push({ key: 'gatehouse.seq', value: { intValue: String(record.seq) } });
  return out;
}

function text(key: string, value: string): KeyValue {
  return { key, value: { stringValue: value } };
}

/** Milliseconds since the epoch as a decimal string of nanoseconds (int64 in OTLP JSON). */
function nanos(ms: number): string {
  return (BigInt(Math.trunc(ms)) * 1_000_000n).toString();
}

/** A W3C trace (32) or span (16) id: hex, not all zeros (the spec's "invalid" id). */
function isHexId(id: string | undefined, length: number): id is string {
  return id !== undefined && id.length === length && /^[0-9a-fA-F]+$/.test(id) && !/^0+$/.test(id);
}

/** `partialSuccess.rejectedLogRecords` of an ExportLogsServiceResponse, 0 when absent. */
function rejectedCount(body: string): number {
  try {
    const parsed = JSON.parse(body) as { partialSuccess?: { rejectedLogRecords?: unknown } };
    const n = Number(parsed?.partialSuccess?.rejectedLogRecords ?? 0);
    return Number.isFinite(n) ? n : 0;
  } catch {
    return 0; // an empty or non-JSON success body is a full success
  }
}
