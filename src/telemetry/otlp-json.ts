// Spans as OTLP/HTTP JSON: the JSON encoding of opentelemetry-proto's ExportTraceServiceRequest
// (`resourceSpans[].scopeSpans[].spans[]`; ids as hex, times as unix nanoseconds in strings,
// enums as numbers), written in one pass into a string when a batch is exported, never per span
// on the request path.
import type { AttributeValue, Span } from './span.ts';

/** `{"key":<key>,"value":` for each attribute name seen: names are few and fixed. */
const keyPrefixes = new Map<string, string>();

function keyPrefix(key: string): string {
  let prefix = keyPrefixes.get(key);
  if (prefix === undefined) {
    prefix = `{"key":${JSON.stringify(key)},"value":`;
    keyPrefixes.set(key, prefix);
  }
  return prefix;
}

/** OTLP `AnyValue`: integers as `intValue`, other numbers as `doubleValue`. */
function encodeValue(value: AttributeValue): string {
  switch (typeof value) {
    case 'string':
      return `{"stringValue":${JSON.stringify(value)}}`;
    case 'boolean':
      return value ? '{"boolValue":true}' : '{"boolValue":false}';
    default:
      return Number.isSafeInteger(value)
        ? `{"intValue":${value}}`
        : `{"doubleValue":${JSON.stringify(value)}}`;
  }
}

/** Flat `key, value` pairs as comma-separated OTLP `KeyValue` items. */
export function encodeAttributes(pairs: readonly AttributeValue[]): string {
  let out = '';
  for (let i = 0; i < pairs.length; i += 2) {
    if (i > 0) out += ',';
    out += `${keyPrefix(String(pairs[i]))}${encodeValue(pairs[i + 1] as AttributeValue)}}`;
  }
  return out;
}

// `performance.now()` readings become unix time through the clock's origin, split into whole
// milliseconds and the rest so that no step exceeds a double's exact integers (unix nanoseconds
// do: ~1.8e18 > 2^53).
const originMs = Math.floor(performance.timeOrigin);
const originFraction = performance.timeOrigin - originMs;

/** A `performance.now()` reading as unix nanoseconds, in a string. */
export function unixNanos(now: number): string {
  const relative = now + originFraction;
  let ms = Math.floor(relative);
  let nanos = Math.round((relative - ms) * 1e6);
  if (nanos >= 1e6) {
    ms += 1;
    nanos -= 1e6;
  }
  return `${originMs + ms}${String(nanos).padStart(6, '0')}`;
}

// OTLP span flags: the W3C trace flags (sampled: every exported span is) plus whether the
// parent is known to be remote (bit 8 says bit 9 is meaningful).
const FLAGS_LOCAL = 0x101;
const FLAGS_REMOTE = 0x301;

function encodeSpan(span: Span): string {
  let out = `{"traceId":"${span.traceId}","spanId":"${span.spanId}"`;
  if (span.parentId) out += `,"parentSpanId":"${span.parentId}"`;
  out += `,"name":${JSON.stringify(span.name)},"kind":${span.kind}`;
  out += `,"startTimeUnixNano":"${unixNanos(span.start)}","endTimeUnixNano":"${unixNanos(span.end)}"`;
  out += ',"attributes":[';
  out += span.encoded;
  if (span.attributes) {
    if (span.encoded) out += ',';
    out += encodeAttributes(span.attributes);
  }
  out += '],"droppedAttributesCount":0,"events":[],"droppedEventsCount":0,"status":{';
  out += `"code":${span.status}`;
  if (span.statusMessage !== undefined) out += `,"message":${JSON.stringify(span.statusMessage)}`;
  out += `},"links":[],"droppedLinksCount":0,"flags":${span.remoteParent ? FLAGS_REMOTE : FLAGS_LOCAL}}`;
  return out;
}

/**
 * The resource and scope every span of this gateway shares, as the JSON around the spans:
 * `before` + spans joined by commas + `after`.
 */
export function envelope(resource: Record<string, AttributeValue>): { before: string; after: string } {
  const attributes = encodeAttributes(Object.entries(resource).flat());
  return {
    before:
      `{"resourceSpans":[{"resource":{"attributes":[${attributes}],"droppedAttributesCount":0},` +
      '"scopeSpans":[{"scope":{"name":"gatehouse"},"spans":[',
    after: ']}]}]}',
  };
}

/** One export request's body. */
export function encodeSpans(spans: readonly Span[], around: { before: string; after: string }): string {
  let out = around.before;
  for (let i = 0; i < spans.length; i++) {
    if (i > 0) out += ',';
    out += encodeSpan(spans[i] as Span);
  }
  return out + around.after;
}
