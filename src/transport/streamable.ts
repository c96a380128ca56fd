// Streamable HTTP, session era (2025-03-26, 2025-06-18, 2025-11-25): initialize creates a
// session (Mcp-Session-Id), later requests must carry it (400 without, 404 once it is gone),
// GET opens the standalone stream, DELETE ends the session.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError } from '../errors.ts';
import type { Message, Request } from '../jsonrpc.ts';
import { isNotification, isRequest, isResponse, parseBody, responseText } from '../jsonrpc.ts';
import { viewFor } from '../route/catalog.ts';
import { SessionRegistry } from '../session/registry.ts';
import { ok } from '../session/router.ts';
import { clientOf, type Session } from '../session/session.ts';
import { SESSION_VERSIONS } from '../versions.ts';
import { Channel, SSE_HEADERS } from './channel.ts';
import type { GatewayContext } from './context.ts';
import { principalKey, principalOf } from './edge-auth.ts';
import { requestFacts } from './facts.ts';
import { accepts, isJson, readBody } from './guard.ts';
import { openSession } from './open-session.ts';
import { sendError, sendJson } from './reply.ts';
import { keepAlive } from './sse.ts';

/** Without a header and no other way to know, the spec says assume 2025-03-26. */
const DEFAULT_VERSION = '2025-03-26';

export async function handleSessionPost(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  virtualServer: string | undefined,
  body: string,
): Promise<void> {
  const sessionId = header(req, 'mcp-session-id');
  const entry = sessionId === undefined ? undefined : ctx.registry.get(sessionId);
  const allowBatch = entry?.session.protocolVersion === '2025-03-26';
  const parsed = parseBody(body, allowBatch);
  const messages: Message[] = Array.isArray(parsed) ? parsed : [parsed.message];
  const first = messages[0]!;

  if (isRequest(first) && first.method === 'initialize') {
    if (messages.length > 1) throw new GatewayError('invalid_request', 'initialize must be sent alone');
    if (sessionId !== undefined && entry) {
      throw new GatewayError('invalid_request', 'Invalid Request: this session is already initialized');
    }
    return initialize(ctx, req, res, first, virtualServer);
  }
  if (sessionId === undefined)
    throw new GatewayError('session_required', 'Bad Request: Mcp-Session-Id header is required');
  if (!entry || !belongs(entry.session, req, virtualServer)) {
    throw new GatewayError('session_not_found', 'Session not found: initialize a new session');
  }
  const version = header(req, 'mcp-protocol-version');
  if (version !== undefined && !SESSION_VERSIONS.includes(version)) {
    throw new GatewayError(
      'unsupported_protocol_version',
      `Bad Request: unsupported protocol version ${version}`,
      {
        data: { supported: SESSION_VERSIONS },
      },
    );
  }
  const { session, channel } = entry;
  const requests = messages.filter(isRequest);
  for (const m of messages) {
    if (isNotification(m)) session.notify(m);
    else if (isResponse(m)) channel.receive(m);
  }
  if (requests.length === 0) {
    res.writeHead(202).end();
    return;
  }
  if (!Array.isArray(parsed)) {
    const request = requests[0]!;
    if (channel.inFlight(request.id)) {
      throw new GatewayError(
        'invalid_request',
        'Invalid Request: this id is already in use by a request in flight',
      );
    }
    channel.openRequest(request.id, res, { 'mcp-session-id': session.id });
    const response = await session.handle(
      request,
      channel.sinkFor(request.id),
      principalOf(req),
      requestFacts(req, request.params),
    );
    channel.finishRequest(request.id, response);
    return;
  }
  // A 2025-03-26 batch: answer every request in one JSON array.
  const principal = principalOf(req);
  const responses = await Promise.all(
    requests.map((r) =>
      session.handle(r, channel.sinkFor(undefined), principal, requestFacts(req, r.params)),
    ),
  );
  sendJson(res, 200, JSON.stringify(responses), { 'mcp-session-id': session.id });
}

async function initialize(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  request: Request,
  virtualServer?: string,
) {
  const timing = { started: performance.now(), startedAt: Date.now() };
  const view = viewFor(ctx.config, virtualServer);
  if (!view) throw new GatewayError('not_found', `No virtual server named ${JSON.stringify(virtualServer)}`);
  if (ctx.registry.full) throw new GatewayError('too_many_sessions', 'Too many sessions; try again later');
  const params = request.params ?? {};
  const requested = typeof params.protocolVersion === 'string' ? params.protocolVersion : DEFAULT_VERSION;
  const protocolVersion = SESSION_VERSIONS.includes(requested) ? requested : SESSION_VERSIONS[0]!;
  const channel = new Channel();
  channel.prime = protocolVersion >= '2025-11-25'; // ISO dates compare as strings.
  const session = openSession(ctx, {
    id: SessionRegistry.newId(),
    view,
    protocolVersion,
    params,
    principal: principalOf(req),
    channel,
  });
  await session.connectAll();
  const result: Record<string, unknown> = {
    protocolVersion,
    capabilities: session.serverCapabilities(),
    serverInfo: { name: 'gatehouse', version: '0.1.0', title: 'Gatehouse MCP gateway' },
  };
  const instructions = session.instructions();
  if (instructions) result.instructions = instructions;
  const response = ok(request.id, result);
  ctx.observer.record({
    ...timing,
    method: 'initialize',
    principal: principalOf(req),
    facts: requestFacts(req, params),
    client: clientOf(params.clientInfo as Record<string, unknown> | undefined),
    session: session.id,
    virtualServer: view.name,
    response,
  });
  sendJson(res, 200, responseText(response), { 'mcp-session-id': session.id });
}

export function handleSessionGet(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  virtualServer: string | undefined,
): void {
  if (!accepts(req, 'text/event-stream')) {
    throw new GatewayError('not_acceptable', 'Not Acceptable: the client must accept text/event-stream');
  }
  const entry = lookup(ctx, req, virtualServer);
  const lastEventId = header(req, 'last-event-id');
  // A reconnect that resumes may replace a connection the client already gave up on.
  const resuming = lastEventId !== undefined && entry.channel.canResume(lastEventId);
  if (entry.channel.hasStandalone && !resuming) {
    sendError(
      res,
      new GatewayError('invalid_request', 'Conflict: this session already has a GET stream'),
      409,
    );
    return;
  }
  res.writeHead(200, { ...SSE_HEADERS, 'mcp-session-id': entry.session.id });
  res.flushHeaders();
  keepAlive(res);
  if (resuming && entry.channel.resume(res, lastEventId)) return;
  entry.channel.attachStandalone(res);
}

export async function handleSessionDelete(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  virtualServer: string | undefined,
) {
  const entry = lookup(ctx, req, virtualServer);
  await ctx.registry.delete(entry.session.id);
  res.writeHead(200).end();
}

/** The session a GET or DELETE names, on the endpoint (virtual server) it was opened on. */
function lookup(ctx: GatewayContext, req: IncomingMessage, virtualServer: string | undefined) {
  const id = header(req, 'mcp-session-id');
  if (id === undefined)
    throw new GatewayError('session_required', 'Bad Request: Mcp-Session-Id header is required');
  const entry = ctx.registry.get(id);
  if (!entry || !belongs(entry.session, req, virtualServer)) {
    throw new GatewayError('session_not_found', 'Session not found: initialize a new session');
  }
  return entry;
}

/**
 * A session is used on the endpoint it was opened on, by whoever opened it: a session id is not
 * a credential, and someone else's id looks exactly like an unknown one.
 */
function belongs(session: Session, req: IncomingMessage, virtualServer: string | undefined): boolean {
  return session.view.name === virtualServer && session.owner === principalKey(principalOf(req));
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The POST preconditions every Streamable HTTP request shares. */
export async function readPost(ctx: GatewayContext, req: IncomingMessage): Promise<string> {
  if (!isJson(req))
    throw new GatewayError('unsupported_media_type', 'Unsupported Media Type: use application/json');
  if (!accepts(req, 'application/json') || !accepts(req, 'text/event-stream')) {
    throw new GatewayError(
      'not_acceptable',
      'Not Acceptable: the client must accept both application/json and text/event-stream',
    );
  }
  return readBody(req, ctx.config.listen.maxBodyBytes);
}
