// Writing error answers: the HTTP status and JSON-RPC code both come from the error table.
import type { ServerResponse } from 'node:http';
import { type GatewayError, toRpcError } from '../errors.ts';
import type { Id } from '../jsonrpc.ts';

export function sendError(
  res: ServerResponse,
  err: GatewayError,
  status = err.http,
  id: Id | null = null,
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const headers: Record<string, string> = {};
  if (status === 503) headers['retry-after'] = '5';
  if (status === 405) headers.allow = 'GET, POST, DELETE';
  sendJson(res, status, JSON.stringify({ jsonrpc: '2.0', id, error: toRpcError(err) }), headers);
}

/** A complete JSON answer with its length, so node:http sends it in one write, not chunked. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  headers['content-type'] = 'application/json';
  headers['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(status, headers);
  res.end(body);
}
