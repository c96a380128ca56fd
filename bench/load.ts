// One autocannon run of `tools/call` echo against one target, with a unique JSON-RPC id per
// request and every response body checked. autocannon's own latency histogram keeps whole
// milliseconds; the same per-request times are also collected unrounded from its `response`
// event, so sub-millisecond differences (the added-latency budget is 1 ms) stay visible.
import autocannon from 'autocannon';
import { callBody, isEchoBody, mcpHeaders } from './mcp-client.ts';

export interface LoadSpec {
  endpoint: string;
  sessionId: string;
  authorization?: string;
  /** Sent with every call besides the MCP ones (e.g. a `traceparent`). */
  headers?: Record<string, string>;
  /** A fixed request rate (calls/s over all connections) instead of as fast as answers come. */
  rate?: number;
  tool: string;
  connections: number;
  durationS: number;
  /** First JSON-RPC id; each request takes the next one. */
  firstId: number;
}

export interface LoadResult {
  connections: number;
  durationS: number;
  /** Completed requests, of any status. */
  calls: number;
  callsPerSec: number;
  /** autocannon's histogram (whole ms). */
  p50Ms: number;
  p99Ms: number;
  /** From the unrounded per-request times. */
  p50ExactMs: number;
  p99ExactMs: number;
  meanMs: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  wrongBodies: number;
  lastId: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const [head, tail] = callBody(0, spec.tool).split('"id":0');
  let nextId = spec.firstId;
  let times = new Float64Array(1 << 16);
  let count = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.endpoint,
        connections: spec.connections,
        ...(spec.rate ? { overallRate: spec.rate } : {}),
        duration: spec.durationS,
        timeout: 10,
        method: 'POST',
        headers: { ...mcpHeaders(spec.sessionId, spec.authorization), ...spec.headers },
        requests: [
          {
            setupRequest: (request) => {
              request.body = `${head}"id":${nextId++}${tail}`;
              return request;
            },
          },
        ],
        verifyBody: isEchoBody,
      },
      (err, result) => {
        if (err) {
          reject(err);
          return;
        }
        const sorted = times.subarray(0, count).sort();
        let sum = 0;
        for (const t of sorted) sum += t;
        const calls = result.requests.total;
        resolve({
          connections: spec.connections,
          durationS: result.duration,
          calls,
          callsPerSec: calls / result.duration,
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          p50ExactMs: percentile(sorted, 50),
          p99ExactMs: percentile(sorted, 99),
          meanMs: count ? sum / count : Number.NaN,
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          wrongBodies: result.mismatches,
          lastId: nextId - 1,
        });
      },
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
      if (count === times.length) {
        const grown = new Float64Array(times.length * 2);
        grown.set(times);
        times = grown;
      }
      times[count++] = ms;
    });
  });
}
