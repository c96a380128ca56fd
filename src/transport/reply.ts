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
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (status === 503) headers['retry-after'] = '5';
  if (status === 405) headers.allow = 'GET, POST, DELETE';
  res.writeHead(status, headers);
  res.end(JSON.stringify({ jsonrpc: '2.0', id, error: toRpcError(err) }));
}
