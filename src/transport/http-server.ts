// The downstream edge's HTTP front door: one node:http server, a tiny router, and the checks
// every request passes first. Errors become answers here; nothing thrown reaches node:http.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { ADMIN_PREFIX, serveAdmin } from '../admin/api.ts';
import { asGatewayError, GatewayError } from '../errors.ts';
import type { GatewayContext } from './context.ts';
import { admit, admitted, serveResourceMetadata } from './edge-auth.ts';
import { requestFacts } from './facts.ts';
import { checkOrigin } from './guard.ts';
import { handleLegacyMessage, handleLegacySse } from './legacy-sse.ts';
import { serveMetrics } from './metrics-endpoint.ts';
import { handleModernPost, isModernRequest } from './modern.ts';
import { serveOAuthPages } from './oauth-pages.ts';
import { sendError } from './reply.ts';
import { handleSessionDelete, handleSessionGet, handleSessionPost, readPost } from './streamable.ts';

const MCP_PATH = /^\/mcp(?:\/([A-Za-z0-9_-]{1,32}))?\/?$/;
const SSE_PATH = /^\/sse(?:\/([A-Za-z0-9_-]{1,32}))?\/?$/;

export function createHttpServer(ctx: GatewayContext): http.Server {
  const server = http.createServer((req, res) => {
    const timing = { started: performance.now(), startedAt: Date.now() };
    route(ctx, req, res).catch((err: unknown) => {
      const error = asGatewayError(err);
      if (error.code === 'internal') {
        ctx.log(`internal error: ${String((err as Error)?.stack ?? err)}`, { level: 'error' });
      }
      // Refused before any session could answer (bad body, unknown session, foreign Origin, ...).
      ctx.observer.record({
        ...timing,
        method: 'http',
        principal: admitted(req),
        facts: requestFacts(req),
        seen: { target: `${req.method} ${(req.url ?? '/').split('?')[0]}` },
        refusal: {
          code: error.code,
          reason: error.message.slice(0, 200),
          outcome: error.code === 'forbidden_origin' ? 'denied' : 'error',
        },
      });
      sendError(res, error);
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0; // Streams are long-lived; idle sessions are bounded by the registry.
  return server;
}

async function route(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // Plain string work: a URL object per request is measurable on the hot path.
  const raw = req.url ?? '/';
  const query = raw.indexOf('?');
  const pathname = query < 0 ? raw : raw.slice(0, query);
  if (pathname === '/healthz') {
    res.writeHead(ctx.draining ? 503 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: ctx.draining ? 'draining' : 'ok', sessions: ctx.registry.size }));
    return;
  }
  if (ctx.metrics && pathname === ctx.config.metrics.path) {
    return serveMetrics(ctx.metrics, ctx.config.metrics, req, res);
  }
  // Pages a browser opens (no MCP client, no Origin check: they check their own requests).
  if (pathname.startsWith('/oauth/') && (await serveOAuthPages(ctx, req, res, pathname))) return;
  const forbidden = checkOrigin(req, ctx.config.listen);
  if (forbidden) throw forbidden; // Answered (and recorded) by the catch in createHttpServer.
  if (pathname.startsWith(ADMIN_PREFIX)) return serveAdmin(ctx, req, res, pathname);
  if (req.method === 'GET' && serveResourceMetadata(ctx, req, res, pathname)) return;
  const mcp = MCP_PATH.exec(pathname);
  if (mcp) {
    const virtualServer = mcp[1];
    if (virtualServer !== undefined && !(virtualServer in ctx.config.virtualServers)) {
      throw new GatewayError('not_found', `No virtual server named ${JSON.stringify(virtualServer)}`);
    }
    if (ctx.draining) throw new GatewayError('shutting_down', 'The gateway is shutting down');
    const endpoint = virtualServer === undefined ? '/mcp' : `/mcp/${virtualServer}`;
    const admission = admit(ctx, req, res, endpoint, virtualServer);
    // Awaited only when pending: most requests are admitted at once, and a needless await is a
    // measurable share of a call's cost.
    if (!(admission instanceof Promise ? await admission : admission)) return;
    switch (req.method) {
      case 'POST': {
        const body = await readPost(ctx, req);
        // Tracked until the answer is written, so a drain never cuts a response short.
        if (isModernRequest(req, body))
          return ctx.track(handleModernPost(ctx, req, res, virtualServer, body));
        return ctx.track(handleSessionPost(ctx, req, res, virtualServer, body));
      }
      case 'GET':
        return handleSessionGet(ctx, req, res, virtualServer);
      case 'DELETE':
        return handleSessionDelete(ctx, req, res, virtualServer);
      default:
        throw new GatewayError('method_not_allowed', 'Method Not Allowed');
    }
  }
  const sse = SSE_PATH.exec(pathname);
  if ((sse && req.method === 'GET') || (pathname === '/message' && req.method === 'POST')) {
    if (ctx.draining) throw new GatewayError('shutting_down', 'The gateway is shutting down');
    if (!(await admit(ctx, req, res, sse ? pathname : '/message', sse?.[1]))) return;
  }
  if (sse && req.method === 'GET') return handleLegacySse(ctx, req, res, sse[1]);
  if (pathname === '/message' && req.method === 'POST') {
    return ctx.track(handleLegacyMessage(ctx, req, res, new URL(raw, 'http://gateway')));
  }
  throw new GatewayError('not_found', 'Not Found');
}
