// What a session answers when an upstream acting for the user (`onBehalfOf: oauth`) needs the
// user to authorize it first, and how it tells the client the user has done so.
import { GatewayError } from '../errors.ts';
import type { Notification, Request, Response } from '../jsonrpc.ts';
import { fail } from './router.ts';

/** Whether the client opens links itself (URL-mode elicitation, 2025-11-25 sessions only). */
export function opensLinks(
  protocolVersion: string,
  capabilities: Record<string, unknown>,
  pooled: boolean,
): boolean {
  const elicitation = capabilities.elicitation as { url?: unknown } | undefined;
  return !pooled && protocolVersion === '2025-11-25' && elicitation?.url !== undefined;
}

/**
 * The answer to a request that needs the user to authorize an upstream first: for a client
 * that opens links, the URL-mode elicitation error; for a tool call, a tool error the model can
 * read the link from; otherwise a plain error with the link in its message.
 */
export function authorizationReply(request: Request, err: GatewayError, linksOpened: boolean): Response {
  const link = err.data as { url: string; elicitationId: string } | undefined;
  if (link && linksOpened) {
    const elicitation = {
      mode: 'url',
      elicitationId: link.elicitationId,
      url: link.url,
      message: err.message,
    };
    return fail(
      request.id,
      new GatewayError('url_elicitation_required', err.message, { data: { elicitations: [elicitation] } }),
    );
  }
  if (request.method === 'tools/call') {
    return {
      jsonrpc: '2.0',
      id: request.id,
      result: { content: [{ type: 'text', text: err.message }], isError: true },
    };
  }
  return fail(request.id, new GatewayError('authorization_required', err.message));
}

/** Tells a client that opens links that the authorization it was sent to is done. */
export function elicitationComplete(elicitationId: string): Notification {
  return { jsonrpc: '2.0', method: 'notifications/elicitation/complete', params: { elicitationId } };
}
