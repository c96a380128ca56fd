// One JSON POST for the HTTP sinks (webhook, OTLP): a timeout, no redirects, Retry-After read
// and capped, and errors described without the headers (they may carry an Authorization) or
// the URL (its query may carry a token).
import { ConfigError } from '../../errors.ts';

/** A Retry-After longer than this is cut to it: a receiver cannot park the queue for an hour. */
export const RETRY_AFTER_CAP_MS = 60_000;
/** Enough of a response body to read an OTLP partial-success answer; the rest is not read. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface HttpTarget {
  url: string;
  headers: Readonly<Record<string, string>>;
  timeoutMs: number;
}

/** An answer with its status, or no answer at all (network error, timeout, closing). */
export type HttpOutcome =
  | { answered: true; status: number; retryAfterMs?: number; body: string }
  | { answered: false; error: string };

/**
 * Checks a target once, at creation: fetch refuses URLs with credentials, and an invalid header
 * value would otherwise surface in an error message that quotes it. Returns the destination
 * (`host:port`) to name in logs.
 */
export function checkTarget(sink: string, target: HttpTarget): string {
  const url = new URL(target.url);
  if (url.username || url.password) {
    throw new ConfigError(`audit sink ${sink}: put credentials in headers (Authorization), not in the URL`);
  }
  for (const [name, value] of Object.entries(target.headers)) {
    try {
      new Headers([[name, value]]);
    } catch {
      throw new ConfigError(
        `audit sink ${sink}: header "${name}" is not a valid HTTP header (value not shown)`,
      );
    }
  }
  return url.host;
}

export async function postJson(target: HttpTarget, body: string, signal: AbortSignal): Promise<HttpOutcome> {
  const headers = new Headers(target.headers);
  if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  if (!headers.has('user-agent')) headers.set('user-agent', 'gatehouse');
  const timeout = AbortSignal.timeout(target.timeoutMs);
  let response: Response;
  try {
    response = await fetch(target.url, {
      method: 'POST',
      headers,
      body,
      // Audit records go where they were configured to go, nowhere else.
      redirect: 'manual',
      signal: AbortSignal.any([signal, timeout]),
    });
  } catch (error) {
    if (timeout.aborted) return { answered: false, error: `no answer within ${target.timeoutMs} ms` };
    if (signal.aborted) return { answered: false, error: 'the sink is closing' };
    return { answered: false, error: describeNetworkError(error) };
  }
  let text = '';
  try {
    text = await readCapped(response);
  } catch {
    // The status is the answer; a body cut short changes nothing about it.
  }
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  return {
    answered: true,
    status: response.status,
    body: text,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

/** Retry-After as delay-seconds or an HTTP date, in ms, capped at RETRY_AFTER_CAP_MS. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return undefined;
    ms = Math.max(0, at - now);
  }
  return Math.min(ms, RETRY_AFTER_CAP_MS);
}

/** fetch says only "fetch failed"; the cause has the code (ECONNRESET, ECONNREFUSED, ...). */
function describeNetworkError(error: unknown): string {
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return `network error ${cause.code}`;
  if (cause && typeof cause.message === 'string') return `network error: ${cause.message}`;
  return error instanceof Error ? `network error: ${error.name}` : 'network error';
}

async function readCapped(response: Response): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    chunks.push(chunk);
    size += chunk.byteLength;
    if (size >= MAX_RESPONSE_BYTES) break;
  }
  return Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8');
}
