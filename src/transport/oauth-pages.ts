// The browser side of per-user upstream OAuth: the consent page a user's link opens, and the
// callback the upstream's authorization server redirects back to. The consent step shows which
// gateway identity the upstream account will be tied to (so a link passed to someone else is
// recognisably not theirs), and a cookie set there must come back with the callback (so a
// callback URL passed to someone else does nothing).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UserAuthorizations } from '../credentials/user-oauth.ts';
import type { GatewayContext } from './context.ts';

const COOKIE = 'gatehouse_oauth';
const MAX_FORM_BYTES = 4096;

/** Serves `/oauth/authorize` and `/oauth/callback`; false for any other path. */
export async function serveOAuthPages(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
): Promise<boolean> {
  if (pathname !== '/oauth/authorize' && pathname !== '/oauth/callback') return false;
  const users = ctx.credentials.users;
  if (!users) return page(res, 404, 'Not found', 'No upstream here signs users in.');
  const query = new URL(req.url ?? '/', 'http://gateway').searchParams;
  if (pathname === '/oauth/callback' && req.method === 'GET') return callback(users, req, res, query);
  if (req.method === 'GET') return consent(users, res, query.get('state') ?? '');
  if (req.method === 'POST') return confirm(ctx, users, req, res);
  return page(res, 405, 'Method not allowed', 'Use the link your agent gave you.');
}

function consent(users: UserAuthorizations, res: ServerResponse, state: string): true {
  const flow = users.pending(state);
  if (!flow) return page(res, 400, 'Link expired', 'This link is unknown or expired. Ask your agent again.');
  return page(
    res,
    200,
    `Connect ${flow.upstream}`,
    `Gatehouse will use your ${flow.upstream} account for calls made as <b>${html(flow.subject)}</b>.
     If that is not you, close this page.
     <form method="post" action="/oauth/authorize"><input type="hidden" name="state" value="${html(state)}">
     <button type="submit">Continue to ${html(flow.upstream)}</button></form>`,
  );
}

async function confirm(
  ctx: GatewayContext,
  users: UserAuthorizations,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<true> {
  // Cross-site form posts are refused: only the consent page itself starts a flow.
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== new URL(users.callbackUrl).origin) {
    return page(res, 403, 'Forbidden', 'This form must be sent from the Gatehouse page.');
  }
  const body = await readForm(req);
  const state = body?.get('state') ?? '';
  const flow = users.pending(state);
  if (!flow) return page(res, 400, 'Link expired', 'This link is unknown or expired. Ask your agent again.');
  const target = await users.authorizationUrl(state, flow);
  if (!target) {
    ctx.log(`[${flow.upstream}] cannot start authorization: no authorization endpoint`);
    return page(
      res,
      502,
      'Unavailable',
      `The authorization server of ${html(flow.upstream)} cannot be reached.`,
    );
  }
  const secure = users.callbackUrl.startsWith('https:') ? '; Secure' : '';
  res.writeHead(303, {
    location: target,
    'set-cookie': `${COOKIE}=${flow.nonce}; HttpOnly; SameSite=Lax; Path=/oauth; Max-Age=600${secure}`,
    'cache-control': 'no-store',
  });
  res.end();
  return true;
}

async function callback(
  users: UserAuthorizations,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
): Promise<true> {
  const state = query.get('state') ?? '';
  const flow = users.pending(state);
  if (flow && cookie(req, COOKIE) !== flow.nonce) {
    return page(
      res,
      403,
      'Wrong browser',
      'Finish signing in in the browser that opened the Gatehouse link.',
    );
  }
  const result = await users.complete(state, query);
  if (!result.ok) return page(res, 400, 'Not connected', html(result.reason));
  return page(
    res,
    200,
    'Connected',
    `${html(result.upstream)} is connected. You can close this page and return to your agent.`,
  );
}

function page(res: ServerResponse, status: number, title: string, body: string): true {
  const text = `<!doctype html><meta charset="utf-8"><title>${html(title)}</title><h1>${html(title)}</h1><p>${body}</p>\n`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; form-action 'self' https: http:",
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  });
  res.end(text);
  return true;
}

function html(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
