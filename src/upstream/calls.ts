// What a caller hands the upstream client with each call, and hears back while it runs.
import type { Notification, Request, Response } from '../jsonrpc.ts';

/** `auto` tries the session handshake and falls back to the stateless era if the server asks. */
export type Era = 'auto' | 'session' | 'stateless';

/** What a request's caller wants to hear about while the request runs. */
export interface CallHooks {
  /** Progress and log messages that belong to this request; progress tokens are restored. */
  onNotification?(n: Notification): void;
  /** A server→client request (sampling, elicitation, roots) made while serving this request. */
  onServerRequest?(r: Request): Promise<ServerRequestAnswer>;
}

export type ServerRequestAnswer = { result: Record<string, unknown> } | { error: Response['error'] & {} };

export interface SessionHooks extends Required<CallHooks> {
  onClose(reason: string): void;
}

/**
 * A cancellation handle. Plainer than an AbortSignal on purpose: one is made per forwarded call,
 * and an AbortController with its listener costs more than routing the call.
 */
export interface CancelToken {
  cancelled: boolean;
  onCancel?: () => void;
}

export function cancelToken(): CancelToken {
  return { cancelled: false };
}

/** Cancels a token: marks it and runs whatever its holder hooked. */
export function cancel(token: CancelToken): void {
  if (token.cancelled) return;
  token.cancelled = true;
  token.onCancel?.();
}

export interface CallOptions {
  timeoutMs: number;
  /** Progress restarts the timeout, up to this total; without it progress changes nothing. */
  maxMs?: number;
  /** Set by the caller to cancel the call; the client hooks `onCancel`. */
  cancel?: CancelToken;
  hooks?: CallHooks;
  /**
   * The W3C traceparent the request carries (in `_meta.traceparent`, and as the `traceparent`
   * header over HTTP), so the upstream's spans join the caller's trace. Absent: none is added.
   */
  traceparent?: string;
}

export interface InitializeResult {
  protocolVersion: string;
  capabilities: Record<string, unknown>;
  serverInfo?: Record<string, unknown>;
  instructions?: string;
}

/** Who the gateway says it is, and what it says the client can do, when it connects upstream. */
export interface ClientInit {
  capabilities: Record<string, unknown>;
  clientInfo: Record<string, unknown>;
}

/**
 * How a server message that arrives outside any request's stream (stdio, legacy SSE) is tied to
 * a call: `newest` — the newest call in flight (one client's own session: a wrong guess stays
 * within that client); `sole` — only when exactly one call is in flight (upstreams serving many
 * stateless clients: never another client's call); `exact` — never (shared upstreams).
 */
export type Attribution = 'newest' | 'sole' | 'exact';
