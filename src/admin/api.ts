// The admin HTTP API under /admin/api/: for operators and their tools, never for agents. Every
// request must authenticate (API key or token; anonymous access never applies here) as a
// principal holding one of `admin.roles`, and leaves an audit record like any other action.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditStore } from '../audit/store.ts';
import { asGatewayError, GatewayError } from '../errors.ts';
import type { Principal } from '../identity/principal.ts';
import type { GatewayContext } from '../transport/context.ts';
import { requestFacts } from '../transport/facts.ts';
import { sendError, sendJson } from '../transport/reply.ts';
import { serveRecords, serveVerify } from './audit-api.ts';

export const ADMIN_PREFIX = '/admin/api/';

type Handler = (store: AuditStore, params: URLSearchParams, res: ServerResponse) => Promise<void>;
const ROUTES: Record<string, Handler> = {
  'audit/records': serveRecords,
  'audit/verify': serveVerify,
};

export async function serveAdmin(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
): Promise<void> {
  const timing = { started: performance.now(), startedAt: Date.now() };
  const action = pathname.slice(ADMIN_PREFIX.length);
  let principal: Principal | undefined;
  let refusal: { code: string; reason: string } | undefined;
  try {
    const outcome = req.headers.authorization === undefined ? undefined : await ctx.authenticate(req);
    if (!outcome?.ok) {
      refusal = { code: 'unauthorized', reason: outcome?.description ?? 'no credentials' };
      sendJson(res, outcome?.status ?? 401, JSON.stringify({ error: 'unauthorized' }), {
        'www-authenticate': 'Bearer realm="gatehouse-admin"',
      });
      return;
    }
    principal = outcome.principal;
    if (!principal.roles.some((r) => ctx.config.admin.roles.includes(r))) {
      refusal = { code: 'forbidden', reason: 'not an admin role' };
      sendJson(res, 403, JSON.stringify({ error: 'forbidden' }));
      return;
    }
    const handler = ROUTES[action];
    if (!handler || req.method !== 'GET') throw new GatewayError('not_found', `No admin API at ${pathname}`);
    const store = ctx.auditStore;
    if (!store) throw new GatewayError('not_found', 'Audit is off in this gateway');
    await handler(store, new URL(req.url ?? '/', 'http://admin').searchParams, res);
  } catch (err) {
    const error = asGatewayError(err);
    refusal = { code: error.code, reason: error.message.slice(0, 200) };
    if (res.headersSent)
      res.destroy(); // A stream broke midway: the client must see it did not end.
    // Plain HTTP here, not JSON-RPC: a bad parameter is a 400, not a 200 carrying an error.
    else sendError(res, error, error.code === 'invalid_params' ? 400 : error.http);
  } finally {
    ctx.observer.record({
      ...timing,
      method: `admin/${action}`,
      principal,
      facts: requestFacts(req),
      seen: { target: (req.url ?? '').slice(0, 500) },
      refusal: refusal && {
        ...refusal,
        outcome: refusal.code === 'forbidden' || refusal.code === 'unauthorized' ? 'denied' : 'error',
      },
    });
  }
}
