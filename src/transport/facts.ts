// What the transport knows about a request that its audit record and trace need: where it came
// from and which trace it belongs to (the W3C `traceparent` header, else `_meta.traceparent`).
import type { IncomingMessage } from 'node:http';
import type { Params } from '../jsonrpc.ts';
import type { RequestFacts } from '../telemetry/observation.ts';
import { newSpanId, parseTraceparent } from '../telemetry/trace-context.ts';

export function requestFacts(req: IncomingMessage, params?: Params): RequestFacts {
  const facts: RequestFacts = { source: req.socket.remoteAddress };
  const meta = params?._meta as Record<string, unknown> | undefined;
  const parent = parseTraceparent(req.headers.traceparent) ?? parseTraceparent(meta?.traceparent);
  if (parent) {
    facts.parent = parent;
    facts.traceId = parent.traceId;
    // The gateway's own span within the caller's trace.
    facts.spanId = newSpanId();
  }
  return facts;
}
