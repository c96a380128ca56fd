// Streamable HTTP, stateless era (2026-07-28): no initialize and no session; every request
// carries its version and client capabilities in `_meta`, mirrored in Mcp-Method / Mcp-Name
// headers. Requests are served by a pooled context per (virtual server, client capabilities).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError } from '../errors.ts';
import type { Request } from '../jsonrpc.ts';
import { isRequest, parseBody } from '../jsonrpc.ts';
import { viewFor } from '../route/catalog.ts';
import { fail, ok } from '../session/router.ts';
import { Session } from '../session/session.ts';
import { META, MODERN_VERSION, SESSION_VERSIONS } from '../versions.ts';
import { Channel, RequestStream } from './channel.ts';
import type { GatewayContext } from './context.ts';
import { type HeldCall, heldCalls } from './mrtr.ts';
import { handleListen } from './subscriptions.ts';

const NAMED_METHODS: Record<string, 'name' | 'uri'> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};
/** Results a client may cache: scoped private, since what a caller sees will depend on who it is. */
const CACHEABLE = new Set([
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
]);

/** Modern when the client says so in the header, or (no session) in the body's `_meta`. */
export function isModernRequest(req: IncomingMessage, body: string): boolean {
  const version = req.headers['mcp-protocol-version'];
  if (version === MODERN_VERSION) return true;
  return (
    req.headers['mcp-session-id'] === undefined &&
    version === undefined &&
    body.includes(`"${META}protocolVersion"`)
  );
}

export async function handleModernPost(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  virtualServer: string | undefined,
  body: string,
): Promise<void> {
  const parsed = parseBody(body, false);
  if (Array.isArray(parsed)) throw new GatewayError('batch_not_supported', 'batches are not supported');
  const message = parsed.message;
  if (!isRequest(message)) {
    res.writeHead(202).end(); // Notifications carry nothing a stateless server must act on.
    return;
  }
  const rejection = validate(req, message);
  if (rejection) return reply(res, fail(message.id, rejection), rejection.http);

  const meta = message.params!._meta as Record<string, unknown>;
  const capabilities = meta[`${META}clientCapabilities`] as Record<string, unknown>;
  const session = await pooled(ctx, virtualServer, capabilities);
  const { id, method } = message;

  if (method === 'server/discover') {
    return reply(
      res,
      ok(id, {
        supportedVersions: [MODERN_VERSION, ...SESSION_VERSIONS],
        capabilities: session.serverCapabilities(),
        ...(session.instructions() ? { instructions: session.instructions() } : {}),
        ttlMs: 0,
        cacheScope: 'private',
        _meta: { [`${META}serverInfo`]: { name: 'gatehouse', version: '0.1.0' } },
      }),
    );
  }
  if (method === 'subscriptions/listen') return handleListen(session, message, res);
  if (
    method === 'ping' ||
    method === 'logging/setLevel' ||
    method === 'initialize' ||
    method.startsWith('tasks/')
  ) {
    return reply(res, fail(id, new GatewayError('method_not_found', `Method not found: ${method}`)), 404);
  }

  const stream = new RequestStream(res, {});
  const requestState = message.params?.requestState;
  let held: HeldCall | undefined;
  if (typeof requestState === 'string' && heldCalls.has(requestState)) {
    held = heldCalls.resume(
      requestState,
      message.params?.inputResponses as Record<string, unknown> | undefined,
    );
    if (!held)
      return reply(res, fail(id, new GatewayError('invalid_params', 'requestState does not match')), 400);
  } else {
    // A fresh id per call: stateless clients' ids need not be unique across requests.
    const call: Request = { ...message, id: `m${++callIds}`, params: stripMeta(message.params!) };
    held = heldCalls.start(
      (sink) => session.handle(call, sink),
      () => session.cancel(call.id),
    );
  }
  // Closing the response stream cancels the request in this era.
  res.once('close', () => {
    if (!res.writableFinished) held.cancel();
  });
  held.onNotification = (n) => stream.send(n);
  const outcome = await ctx.track(held.next());
  if (outcome.kind === 'input') {
    return stream.finish(
      ok(id, {
        resultType: 'input_required',
        inputRequests: outcome.inputRequests,
        requestState: outcome.requestState,
      }),
    );
  }
  const response = { ...outcome.response, id };
  if (response.result && CACHEABLE.has(method))
    response.result = { ...response.result, ttlMs: 0, cacheScope: 'private' };
  if (response.error?.code === -32002) response.error = { ...response.error, code: -32602 };
  stream.finish(response);
}

function validate(req: IncomingMessage, message: Request): GatewayError | undefined {
  const meta = message.params?._meta as Record<string, unknown> | undefined;
  const version = meta?.[`${META}protocolVersion`];
  if (typeof version !== 'string') {
    return new GatewayError('invalid_params', `Invalid params: _meta["${META}protocolVersion"] is required`);
  }
  if (version !== MODERN_VERSION) {
    return new GatewayError('unsupported_modern_version', `Unsupported protocol version ${version}`, {
      data: { supported: [MODERN_VERSION], requested: version },
    });
  }
  const caps = meta?.[`${META}clientCapabilities`];
  if (typeof caps !== 'object' || caps === null || Array.isArray(caps)) {
    return new GatewayError(
      'invalid_params',
      `Invalid params: _meta["${META}clientCapabilities"] is required`,
    );
  }
  const mismatch = (what: string) =>
    new GatewayError('header_mismatch', `Header mismatch: ${what} does not match the body`, {
      data: { header: what },
    });
  if (req.headers['mcp-protocol-version'] !== undefined && req.headers['mcp-protocol-version'] !== version) {
    return mismatch('MCP-Protocol-Version');
  }
  const methodHeader = req.headers['mcp-method'];
  if (methodHeader === undefined) return new GatewayError('header_mismatch', 'Mcp-Method header is required');
  if (methodHeader !== message.method) return mismatch('Mcp-Method');
  const field = NAMED_METHODS[message.method];
  if (field) {
    const raw = req.headers['mcp-name'];
    if (typeof raw !== 'string') return new GatewayError('header_mismatch', 'Mcp-Name header is required');
    if (decodeHeader(raw) !== message.params?.[field]) return mismatch('Mcp-Name');
  }
  return undefined;
}

/** Header values that are not plain ASCII arrive as `=?base64?...?=`. */
function decodeHeader(value: string): string {
  const match = /^=\?base64\?(.*)\?=$/.exec(value);
  return match ? Buffer.from(match[1]!, 'base64').toString('utf8') : value;
}

function stripMeta(params: Record<string, unknown>): Record<string, unknown> {
  const meta = { ...(params._meta as Record<string, unknown>) };
  for (const key of Object.keys(meta)) if (key.startsWith(META)) delete meta[key];
  const { requestState: _s, inputResponses: _i, ...rest } = params;
  return Object.keys(meta).length > 0 ? { ...rest, _meta: meta } : rest;
}

/** One shared upstream context per (virtual server, client capabilities): stateless clients reuse it. */
async function pooled(ctx: GatewayContext, virtualServer: string | undefined, caps: Record<string, unknown>) {
  const view = viewFor(ctx.config, virtualServer);
  if (!view) throw new GatewayError('not_found', `No virtual server named ${JSON.stringify(virtualServer)}`);
  const routable = { roots: caps.roots, sampling: caps.sampling, elicitation: caps.elicitation };
  const key = `modern:${virtualServer ?? ''}:${JSON.stringify(routable)}`;
  const existing = ctx.pool.get(key);
  if (existing) return existing.session;
  let starting = startingByPool.get(ctx.pool);
  if (!starting) {
    starting = new Map();
    startingByPool.set(ctx.pool, starting);
  }
  const connecting = starting.get(key);
  if (connecting) return connecting;
  const session = new Session({
    id: key,
    config: ctx.config,
    view,
    protocolVersion: MODERN_VERSION,
    clientCapabilities: routable as Record<string, unknown>,
    clientInfo: { name: 'stateless clients' },
    shared: ctx.shared,
    log: ctx.log,
  });
  const ready = session.connectAll().then(() => {
    ctx.pool.add({ session, channel: new Channel() });
    starting.delete(key);
    return session;
  });
  starting.set(key, ready);
  return ready;
}

/** Contexts being connected, so concurrent first requests share one. */
const startingByPool = new WeakMap<object, Map<string, Promise<Session>>>();

let callIds = 0;

function reply(res: ServerResponse, response: unknown, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(response));
}
