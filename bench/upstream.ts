// A minimal Streamable HTTP MCP server (session era) for the benchmark: node:http, no SDK, so
// that the upstream's own cost stays small and known. It answers `initialize`, notifications,
// `ping`, `tools/list` (one tool, `echo`) and `tools/call` echo, always as application/json.
//
// Run: node bench/upstream.ts [port]   (prints "upstream listening on http://127.0.0.1:PORT/mcp")
// GET /_stats answers {"sessions":N,"calls":N} so the bench can see what a gateway opened.
import { randomUUID } from 'node:crypto';
import http from 'node:http';

const SUPPORTED_VERSIONS = new Set(['2025-03-26', '2025-06-18', '2025-11-25']);
const LATEST_VERSION = '2025-11-25';

const ECHO_TOOL = {
  name: 'echo',
  description: 'Echo the text back',
  inputSchema: {
    type: 'object',
    properties: { text: { type: 'string', description: 'Text to echo' } },
    required: ['text'],
  },
};

interface JsonRpcMessage {
  jsonrpc?: unknown;
  id?: unknown;
  method?: unknown;
  params?: unknown;
}

type Answer = { result: unknown } | { error: { code: number; message: string } };

/** Session ids handed out by `initialize` and not yet deleted; unknown ids get 404 (spec). */
const sessions = new Set<string>();
let calls = 0;

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function answer(method: string, params: Record<string, unknown>): Answer {
  switch (method) {
    case 'tools/call': {
      const args = record(params.arguments);
      if (params.name !== 'echo') return { error: { code: -32602, message: `Unknown tool: ${params.name}` } };
      if (typeof args.text !== 'string') return { error: { code: -32602, message: 'text must be a string' } };
      calls++;
      return { result: { content: [{ type: 'text', text: args.text }] } };
    }
    case 'tools/list':
      return { result: { tools: [ECHO_TOOL] } };
    case 'ping':
      return { result: {} };
    default:
      return { error: { code: -32601, message: `Method not found: ${method}` } };
  }
}

function initializeResult(params: Record<string, unknown>): unknown {
  const asked = params.protocolVersion;
  const protocolVersion = typeof asked === 'string' && SUPPORTED_VERSIONS.has(asked) ? asked : LATEST_VERSION;
  return {
    protocolVersion,
    capabilities: { tools: {} },
    serverInfo: { name: 'bench-upstream', version: '1.0.0' },
  };
}

function send(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function sendError(res: http.ServerResponse, status: number, code: number, message: string) {
  send(res, status, { jsonrpc: '2.0', id: null, error: { code, message } });
}

/** Handles one POSTed message or batch (batches exist in 2025-03-26). */
function handlePost(req: http.IncomingMessage, res: http.ServerResponse, raw: string) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    sendError(res, 400, -32700, 'Parse error');
    return;
  }
  const messages = (Array.isArray(parsed) ? parsed : [parsed]).map(record) as JsonRpcMessage[];
  const isInit = messages.some((m) => m.method === 'initialize');
  const sid = req.headers['mcp-session-id'];
  if (isInit) {
    if (messages.length !== 1) {
      sendError(res, 400, -32600, 'initialize must be sent alone');
      return;
    }
    const id = randomUUID();
    sessions.add(id);
    const result = initializeResult(record(messages[0]?.params));
    send(res, 200, { jsonrpc: '2.0', id: messages[0]?.id ?? null, result }, { 'mcp-session-id': id });
    return;
  }
  if (typeof sid !== 'string') {
    sendError(res, 400, -32600, 'Mcp-Session-Id header is required');
    return;
  }
  if (!sessions.has(sid)) {
    sendError(res, 404, -32001, 'Session not found');
    return;
  }
  const version = req.headers['mcp-protocol-version'];
  if (typeof version === 'string' && !SUPPORTED_VERSIONS.has(version)) {
    sendError(res, 400, -32600, `Unsupported protocol version: ${version}`);
    return;
  }
  const replies: unknown[] = [];
  for (const m of messages) {
    // Notifications and client responses carry no request id to answer.
    if (typeof m.method !== 'string' || m.id === undefined || m.id === null) continue;
    replies.push({ jsonrpc: '2.0', id: m.id, ...answer(m.method, record(m.params)) });
  }
  if (replies.length === 0) {
    res.writeHead(202, { 'content-length': 0 });
    res.end();
    return;
  }
  send(res, 200, Array.isArray(parsed) ? replies : replies[0]);
}

function handle(req: http.IncomingMessage, res: http.ServerResponse) {
  const path = (req.url ?? '/').split('?', 1)[0];
  if (path === '/_stats' && req.method === 'GET') {
    send(res, 200, { sessions: sessions.size, calls });
    return;
  }
  if (path !== '/mcp') {
    res.writeHead(404, { 'content-length': 0 });
    res.end();
    return;
  }
  if (req.method === 'POST') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handlePost(req, res, Buffer.concat(chunks).toString('utf8')));
    return;
  }
  if (req.method === 'DELETE') {
    const sid = req.headers['mcp-session-id'];
    const known = typeof sid === 'string' && sessions.delete(sid);
    res.writeHead(known ? 200 : 404, { 'content-length': 0 });
    res.end();
    return;
  }
  // No server-initiated stream: the spec allows 405 for GET.
  res.writeHead(405, { allow: 'POST, DELETE', 'content-length': 0 });
  res.end();
}

export function startUpstream(port = 0): Promise<http.Server> {
  const server = http.createServer(handle);
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

if (import.meta.main) {
  const server = await startUpstream(Number(process.argv[2] ?? 0));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(`upstream listening on http://127.0.0.1:${port}/mcp`);
  process.on('SIGTERM', () => process.exit(0));
}
