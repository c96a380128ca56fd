// One span as the gateway records it: a small object of plain fields, made and ended on the
// request path and turned into OTLP JSON only when its batch is exported (otlp-json.ts). No
// attribute map, context object or closure per span: attributes are a flat [key, value, ...]
// list, filled only for spans that are recorded (sampled), and times are `performance.now()`
// readings, made into unix nanoseconds at export.

/** OTLP span kinds (opentelemetry-proto `Span.SpanKind`). */
export const INTERNAL = 1;
export const SERVER = 2;
export const CLIENT = 3;

/** OTLP status codes: unset (the default, meaning ok) and error. */
export const STATUS_UNSET = 0;
export const STATUS_ERROR = 2;

export type AttributeValue = string | number | boolean;

export class Span {
  readonly traceId: string;
  readonly spanId: string;
  /** The parent span's id; undefined for the root of a trace. */
  readonly parentId: string | undefined;
  /** Whether the parent is another process's span (the client's), for the OTLP flags. */
  readonly remoteParent: boolean;
  readonly name: string;
  readonly kind: number;
  /** Sampled: recorded and exported. Unsampled spans only carry ids (for propagation). */
  readonly recorded: boolean;
  readonly start: number;
  /** `performance.now()` at the end; 0 while open. */
  end = 0;
  /** Flat `key, value` pairs; undefined until the first attribute (never, for unrecorded spans). */
  attributes: AttributeValue[] | undefined = undefined;
  /** Attributes already in OTLP JSON (`{"key":..,"value":..}` items, comma-separated), or ''. */
  encoded = '';
  status = STATUS_UNSET;
  statusMessage: string | undefined = undefined;

  constructor(
    traceId: string,
    spanId: string,
    parentId: string | undefined,
    remoteParent: boolean,
    name: string,
    kind: number,
    recorded: boolean,
  ) {
    this.traceId = traceId;
    this.spanId = spanId;
    this.parentId = parentId;
    this.remoteParent = remoteParent;
    this.name = name;
    this.kind = kind;
    this.recorded = recorded;
    this.start = performance.now();
  }

  set(key: string, value: AttributeValue): void {
    if (this.attributes) this.attributes.push(key, value);
    else this.attributes = [key, value];
  }
}

/** Where a request's spans come from and go to (tracing.ts; a collecting one in tests). */
export interface SpanRecorder {
  /** Whether a trace the gateway starts, with this id, is recorded (`sampleRatio`). */
  sample(traceId: string): boolean;
  /** Takes an ended, recorded span for export. */
  record(span: Span): void;
}
