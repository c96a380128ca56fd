// The legacy HTTP+SSE transport (2024-11-05) for old clients: GET /sse opens the stream and
// names a POST endpoint in an `endpoint` event; every answer travels on that one stream.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError } from '../errors.ts';
import { isNotification, isRequest, isResponse, parseBody } from '../jsonrpc.ts';
import { viewFor } from '../route/catalog.ts';
import { SessionRegistry } from '../session/registry.ts';
import { ok } from '../session/router.ts';
import { clientOf } from '../session/session.ts';
import { SESSION_VERSIONS } from '../versions.ts';
import { Channel, SSE_HEADERS } from './channel.ts';
import type { GatewayContext } from './context.ts';
import { principalKey, principalOf } from './edge-auth.ts';
import { requestFacts } from './facts.ts';
import { isJson, readBody } from './guard.ts';
import { openSession } from './open-session.ts';
import { keepAlive, sseEvent } from './sse.ts';

/** Streams opened but not yet initialized, by session id. */
const opened = new Map<string, { channel: Channel; virtualServer?: string; owner: string }>();

export function handleLegacySse(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  virtualServer?: string,
) {
  if (virtualServer !== undefined && !viewFor(ctx.config, virtualServer)) {
    throw new GatewayError('not_found', `No virtual server named ${JSON.stringify(virtualServer)}`);
  }
  if (ctx.registry.full) throw new GatewayError('too_many_sessions', 'Too many sessions; try again later');
  const id = SessionRegistry.newId();
  const channel = new Channel(true);
  opened.set(id, { channel, virtualServer, owner: principalKey(principalOf(req)) });
  res.writeHead(200, SSE_HEADERS);
  res.write(sseEvent(`/message?sessionId=${id}`, { event: 'endpoint' }));
  channel.attachStandalone(res);
  keepAlive(res);
  res.once('close', () => {
    opened.delete(id);
    void ctx.registry.delete(id);
  });
}

export async function handleLegacyMessage(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
) {
  const id = url.searchParams.get('sessionId') ?? '';
  const caller = principalKey(principalOf(req));
  const pending = opened.get(id)?.owner === caller ? opened.get(id) : undefined;
  const found = ctx.registry.get(id);
  const entry = found?.session.owner === caller ? found : undefined;
  if (!pending && !entry) throw new GatewayError('session_not_found', 'Session not found');
  if (!isJson(req))
    throw new GatewayError('unsupported_media_type', 'Unsupported Media Type: use application/json');
  const parsed = parseBody(await readBody(req, ctx.config.listen.maxBodyBytes), false);
  const message = Array.isArray(parsed) ? parsed[0]! : parsed.message;
  res.writeHead(202).end('Accepted');

  if (!entry) {
    if (!isRequest(message) || message.method !== 'initialize' || !pending) return;
    const timing = { started: performance.now(), startedAt: Date.now() };
    opened.delete(id);
    const view = viewFor(ctx.config, pending.virtualServer)!;
    const params = message.params ?? {};
    const requested = String(params.protocolVersion ?? '2024-11-05');
    const session = openSession(ctx, {
      id,
      view,
      protocolVersion: SESSION_VERSIONS.includes(requested) ? requested : '2024-11-05',
      params,
      principal: principalOf(req),
      channel: pending.channel,
    });
    await session.connectAll();
    const response = ok(message.id, {
      protocolVersion: session.protocolVersion,
      capabilities: session.serverCapabilities(),
      serverInfo: { name: 'gatehouse', version: '0.1.0' },
    });
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
    pending.channel.broadcast(response);
    return;
  }
  const { session, channel } = entry;
  if (isRequest(message)) {
    const response = await session.handle(
      message,
      channel.sinkFor(message.id),
      principalOf(req),
      requestFacts(req, message.params),
    );
    channel.finishRequest(message.id, response);
  } else if (isNotification(message)) session.notify(message);
  else if (isResponse(message)) channel.receive(message);
}
