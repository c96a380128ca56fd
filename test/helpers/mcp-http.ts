// A raw session-era MCP client over fetch, for tests that must control every byte and header
// (the SDK clients hide them). Every request has a timeout, so a hung gateway fails the test.
import { createSseParser } from '../../src/transport/sse.ts';

export const PROTOCOL_VERSION = '2025-11-25';
const TIMEOUT_MS = 10_000;

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** POSTs `body` (a string is sent as is) with the headers a correct client sends, plus `headers`. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  timeoutMs = TIMEOUT_MS,
): Promise<RawResponse> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The JSON-RPC messages in a response body: plain JSON, or the data of each SSE event. */
export function messages(res: RawResponse): Record<string, unknown>[] {
  if ((res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    const out: Record<string, unknown>[] = [];
    createSseParser((e) => out.push(JSON.parse(e.data)))(res.text);
    return out;
  }
  const value: unknown = JSON.parse(res.text);
  return (Array.isArray(value) ? value : [value]) as Record<string, unknown>[];
}

/** Opens a session (initialize + notifications/initialized) and returns its id. */
export async function openSession(url: string, extra: Record<string, string> = {}): Promise<string> {
  const init = {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'raw-test', version: '0' },
    },
  };
  const res = await post(url, init, extra);
  const sessionId = res.headers.get('mcp-session-id');
  if (res.status !== 200 || !sessionId) throw new Error(`initialize failed: ${res.status} ${res.text}`);
  const ack = await post(
    url,
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { ...extra, 'mcp-session-id': sessionId, 'mcp-protocol-version': PROTOCOL_VERSION },
  );
  if (ack.status !== 202) throw new Error(`notifications/initialized: ${ack.status} ${ack.text}`);
  return sessionId;
}

let nextId = 1;

/** Sends one request in a session and returns its response (the last message with its id). */
export async function request(
  url: string,
  sessionId: string,
  method: string,
  params?: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const id = nextId++;
  const res = await post(
    url,
    { jsonrpc: '2.0', id, method, ...(params ? { params } : {}) },
    { 'mcp-session-id': sessionId, 'mcp-protocol-version': PROTOCOL_VERSION },
  );
  const response = messages(res).find((m) => m.id === id && !('method' in m));
  if (!response) throw new Error(`no response to ${method}: ${res.status} ${res.text}`);
  return response;
}

/** The exposed tool names a new session sees. */
export async function toolNames(url: string): Promise<string[]> {
  const sessionId = await openSession(url);
  const response = await request(url, sessionId, 'tools/list');
  await fetch(url, { method: 'DELETE', headers: { 'mcp-session-id': sessionId } });
  const tools = (response.result as { tools: { name: string }[] }).tools;
  return tools.map((t) => t.name);
}
