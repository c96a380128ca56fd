// Just enough of an MCP client (Streamable HTTP, session era) to set a target up for load:
// initialize, notifications/initialized, tools/list, one tools/call. Answers may come as JSON
// or as an SSE stream; both are read.

export const PROTOCOL_VERSION = '2025-11-25';
const TIMEOUT_MS = 10_000;

export interface Session {
  endpoint: string;
  sessionId: string;
  protocolVersion: string;
  /** `Bearer …` for targets that authenticate callers. */
  authorization?: string;
}

export interface RpcReply {
  status: number;
  headers: Headers;
  /** The JSON-RPC response with the request's id, if one came back. */
  message: Record<string, unknown> | undefined;
  body: string;
}

export function mcpHeaders(sessionId?: string, authorization?: string): Record<string, string> {
  const headers: Record<string, string> = {
    accept: 'application/json, text/event-stream',
    'content-type': 'application/json',
    'mcp-protocol-version': PROTOCOL_VERSION,
  };
  if (sessionId) headers['mcp-session-id'] = sessionId;
  if (authorization) headers.authorization = authorization;
  return headers;
}

function parseMessages(contentType: string, body: string): unknown[] {
  if (contentType.includes('text/event-stream')) {
    const out: unknown[] = [];
    for (const event of body.split(/\r?\n\r?\n/)) {
      const data = event
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      if (data) out.push(JSON.parse(data));
    }
    return out;
  }
  if (!body) return [];
  const parsed: unknown = JSON.parse(body);
  return Array.isArray(parsed) ? parsed : [parsed];
}

export async function post(
  endpoint: string,
  sessionId: string | undefined,
  message: object,
  authorization?: string,
): Promise<RpcReply> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: mcpHeaders(sessionId, authorization),
    body: JSON.stringify(message),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const body = await res.text();
  const id = (message as { id?: unknown }).id;
  let found: Record<string, unknown> | undefined;
  if (id !== undefined && res.ok) {
    for (const m of parseMessages(res.headers.get('content-type') ?? '', body)) {
      if (typeof m === 'object' && m !== null && (m as { id?: unknown }).id === id) {
        found = m as Record<string, unknown>;
      }
    }
  }
  return { status: res.status, headers: res.headers, message: found, body };
}

function describe(step: string, reply: RpcReply): string {
  return `${step}: HTTP ${reply.status} ${reply.body.slice(0, 300)}`;
}

/** initialize + notifications/initialized; throws with the answer it got when that fails. */
export async function openSession(endpoint: string, id = 1, authorization?: string): Promise<Session> {
  const init = await post(
    endpoint,
    undefined,
    {
      jsonrpc: '2.0',
      id,
      method: 'initialize',
      params: {
        protocolVersion: PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: 'gatehouse-bench', version: '1.0.0' },
      },
    },
    authorization,
  );
  const sessionId = init.headers.get('mcp-session-id');
  const result = init.message?.result as { protocolVersion?: unknown } | undefined;
  if (!sessionId || !result) throw new Error(describe('initialize', init));
  const done = await post(
    endpoint,
    sessionId,
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    authorization,
  );
  if (done.status !== 202 && done.status !== 200)
    throw new Error(describe('notifications/initialized', done));
  return { endpoint, sessionId, protocolVersion: String(result.protocolVersion), authorization };
}

/** The exposed name of the upstream's echo tool (`echo` direct, `bench__echo` via the gateway). */
export async function findEchoTool(session: Session): Promise<string> {
  const reply = await post(
    session.endpoint,
    session.sessionId,
    { jsonrpc: '2.0', id: 2, method: 'tools/list' },
    session.authorization,
  );
  const tools = (reply.message?.result as { tools?: { name?: unknown }[] } | undefined)?.tools ?? [];
  const names = tools.map((t) => String(t.name));
  const echo = names.find((n) => n === 'echo') ?? names.find((n) => n.endsWith('echo'));
  if (!echo) throw new Error(`${describe('tools/list', reply)} (no echo tool among: ${names.join(', ')})`);
  return echo;
}

export function callBody(id: number, tool: string): string {
  return `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":${JSON.stringify(tool)},"arguments":{"text":"hello"}}}`;
}

/** A correct answer is a 2xx whose body carries the echoed text and no error. */
export function isEchoBody(body: string): boolean {
  return /"text"\s*:\s*"hello"/.test(body) && !body.includes('"error"') && !/"isError"\s*:\s*true/.test(body);
}

/** One tools/call; throws unless the echo comes back. */
export async function checkCall(session: Session, tool: string, id: number): Promise<void> {
  const reply = await post(
    session.endpoint,
    session.sessionId,
    JSON.parse(callBody(id, tool)) as object,
    session.authorization,
  );
  const content = (reply.message?.result as { content?: { text?: unknown }[] } | undefined)?.content;
  if (reply.status !== 200 || content?.[0]?.text !== 'hello' || !isEchoBody(reply.body)) {
    throw new Error(describe('tools/call', reply));
  }
}
