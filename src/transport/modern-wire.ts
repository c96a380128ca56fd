// The 2026-07-28 wire rules the stateless front door applies around routing: which requests it
// refuses before any work (and with which HTTP status), and how answers from session-era
// upstreams are reshaped into what a 2026-07-28 client expects.
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors.ts';
import type { Notification, Request, Response } from '../jsonrpc.ts';
import { META, MODERN_VERSION } from '../versions.ts';
import { decodeHeaderValue } from './param-headers.ts';

const SERVER_INFO = { name: 'gatehouse', version: '0.1.0' };

/** Every method a 2026-07-28 client may call here; anything else is 404 + -32601. */
export const MODERN_METHODS = new Set([
  'server/discover',
  'subscriptions/listen',
  'tools/list',
  'tools/call',
  'prompts/list',
  'prompts/get',
  'resources/list',
  'resources/read',
  'resources/templates/list',
  'completion/complete',
]);
/** The methods that name their target, mirrored in the Mcp-Name header. */
export const NAMED_METHODS: Record<string, 'name' | 'uri'> = {
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
const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

export interface Rejection {
  error: GatewayError;
  status: number;
}

/**
 * Checks `_meta` and the mirrored headers, in the order the spec's error codes imply: required
 * fields first (-32602), then header/body agreement (-32020), then the version itself (-32022).
 * All are HTTP 400: the request is malformed for this era whatever its method.
 */
export function validate(req: IncomingMessage, message: Request): Rejection | undefined {
  const bad = (error: GatewayError): Rejection => ({ error, status: 400 });
  const meta = message.params?._meta as Record<string, unknown> | undefined;
  const version = meta?.[`${META}protocolVersion`];
  if (typeof version !== 'string') {
    return bad(
      new GatewayError('invalid_params', `Invalid params: _meta["${META}protocolVersion"] is required`),
    );
  }
  const caps = meta?.[`${META}clientCapabilities`];
  if (typeof caps !== 'object' || caps === null || Array.isArray(caps)) {
    return bad(
      new GatewayError('invalid_params', `Invalid params: _meta["${META}clientCapabilities"] is required`),
    );
  }
  const mismatch = (what: string) => bad(headerMismatch(what));
  const versionHeader = headerValue(req, 'mcp-protocol-version');
  if (versionHeader !== undefined && versionHeader !== version) return mismatch('MCP-Protocol-Version');
  const methodHeader = headerValue(req, 'mcp-method');
  if (methodHeader === undefined)
    return bad(new GatewayError('header_mismatch', 'Mcp-Method header is required'));
  if (methodHeader !== message.method) return mismatch('Mcp-Method');
  const field = NAMED_METHODS[message.method];
  if (field) {
    const raw = headerValue(req, 'mcp-name');
    if (raw === undefined) return bad(new GatewayError('header_mismatch', 'Mcp-Name header is required'));
    if (decodeHeaderValue(raw) !== message.params?.[field]) return mismatch('Mcp-Name');
  }
  if (version !== MODERN_VERSION) {
    return bad(
      new GatewayError('unsupported_modern_version', `Unsupported protocol version ${version}`, {
        data: { supported: [MODERN_VERSION], requested: version },
      }),
    );
  }
  return undefined;
}

/** -32020: a mirrored header disagrees with the body (HTTP 400). */
export function headerMismatch(header: string): GatewayError {
  return new GatewayError('header_mismatch', `Header mismatch: ${header} does not match the body`, {
    data: { header },
  });
}

/** A header's value with the surrounding whitespace HTTP allows trimmed off. */
function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value.trim() : undefined;
}

/**
 * `inputResponses` must be an object of objects (each one a client result); anything else is
 * invalid params. Undefined when absent, null when malformed.
 */
export function inputResponsesOf(
  params: Record<string, unknown>,
): Record<string, Record<string, unknown>> | undefined | null {
  if (!('inputResponses' in params)) return undefined;
  const value = params.inputResponses;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  for (const answer of Object.values(value)) {
    if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return null;
  }
  return value as Record<string, Record<string, unknown>>;
}

/**
 * Log messages reach a 2026-07-28 client only when its request asked for them with
 * `_meta[".../logLevel"]`, and only at that level or above (there is no logging/setLevel).
 */
export function logFilter(meta: Record<string, unknown>): (n: Notification) => boolean {
  const wanted = LOG_LEVELS.indexOf(String(meta[`${META}logLevel`]));
  return (n) => {
    if (n.method !== 'notifications/message') return true;
    return wanted >= 0 && LOG_LEVELS.indexOf(String(n.params?.level)) >= wanted;
  };
}

/** A successful result as this era shapes it: typed complete, with server identity and caching hints. */
export function completeResult(method: string, result: Record<string, unknown>): Record<string, unknown> {
  const meta = {
    ...(result._meta as Record<string, unknown> | undefined),
    [`${META}serverInfo`]: SERVER_INFO,
  };
  const shaped: Record<string, unknown> = { ...result, resultType: 'complete', _meta: meta };
  if (CACHEABLE.has(method) || method === 'server/discover') {
    shaped.ttlMs = 0;
    shaped.cacheScope = 'private';
  }
  return shaped;
}

/**
 * Errors from session-era upstreams in this era's terms: -32002 (resource not found) is not
 * emitted under 2026-07-28, it is -32602 with the URI in `data.uri`. Invalid params on
 * resources/read are about its one parameter, the URI, so they name it too.
 */
export function modernError(request: Request, error: NonNullable<Response['error']>): Response['error'] {
  if (request.method !== 'resources/read' || (error.code !== -32002 && error.code !== -32602)) return error;
  const data = typeof error.data === 'object' && error.data !== null ? error.data : {};
  return { ...error, code: -32602, data: { uri: request.params?.uri, ...data } };
}
