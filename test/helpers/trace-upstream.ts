// The trace-noting upstream (test/fixtures/trace-server.ts) as a child process over HTTP or
// SSE, and a raw session-era client that can put a traceparent in a header or in `_meta`.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { messages, openSession, PROTOCOL_VERSION, post } from './mcp-http.ts';

export const traceFixture = fileURLToPath(new URL('../fixtures/trace-server.ts', import.meta.url));

export interface TraceUpstream {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** What the fixture noted of one request it received. */
export interface Noted {
  method: string;
  header?: string;
  meta?: string;
  metaKeys?: string[];
}

export async function startTraceUpstream(mode: 'http' | 'sse'): Promise<TraceUpstream> {
  const child = spawn(process.execPath, [traceFixture, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const url = /http:\/\/\S+/.exec(line.toString())?.[0];
  if (!url) throw new Error(`trace fixture (${mode}) did not say where it listens: ${line}`);
  return {
    url,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

let nextId = 1;

/** A session-era client session on `endpoint` whose calls may carry a trace. */
export async function tracingClient(endpoint: string) {
  const sessionId = await openSession(endpoint);
  const send = async (
    method: string,
    params: Record<string, unknown>,
    trace: { header?: string; meta?: string } = {},
  ): Promise<Record<string, unknown>> => {
    const id = nextId++;
    const withMeta = trace.meta ? { ...params, _meta: { traceparent: trace.meta, other: 'kept' } } : params;
    const res = await post(
      endpoint,
      { jsonrpc: '2.0', id, method, params: withMeta },
      {
        'mcp-session-id': sessionId,
        'mcp-protocol-version': PROTOCOL_VERSION,
        ...(trace.header ? { traceparent: trace.header } : {}),
      },
    );
    const response = messages(res).find((m) => m.id === id && !('method' in m));
    if (!response) throw new Error(`no response to ${method}: ${res.status} ${res.text}`);
    return response;
  };
  return {
    call: (name: string, args: Record<string, unknown>, trace?: { header?: string; meta?: string }) =>
      send('tools/call', { name, arguments: args }, trace),
    list: (trace?: { header?: string }) => send('tools/list', {}, trace),
    /** The tools/call requests upstream `prefix` has received, in order (the `seen` call last). */
    async seen(prefix: string): Promise<Noted[]> {
      const response = await send('tools/call', { name: `${prefix}__seen`, arguments: {} });
      const result = response.result as { content: { text: string }[] };
      return (JSON.parse(result.content[0]!.text) as Noted[]).filter((n) => n.method === 'tools/call');
    },
    close: () => fetch(endpoint, { method: 'DELETE', headers: { 'mcp-session-id': sessionId } }),
  };
}

/** A fresh W3C trace: the client's trace id and span, and its traceparent. */
export function clientTrace(sampled = true) {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-${sampled ? '01' : '00'}` };
}
