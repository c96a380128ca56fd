// The one error table: every error the gateway itself produces has a stable code here, with its
// HTTP status, its JSON-RPC code and who is at fault. Upstream JSON-RPC errors are not in this
// table: they pass through unchanged.

export type Fault = 'client' | 'upstream' | 'gateway';

interface ErrorSpec {
  readonly http: number;
  readonly rpc: number;
  readonly fault: Fault;
}

export const ERRORS = {
  parse_error: { http: 400, rpc: -32700, fault: 'client' },
  invalid_request: { http: 400, rpc: -32600, fault: 'client' },
  method_not_found: { http: 200, rpc: -32601, fault: 'client' },
  invalid_params: { http: 200, rpc: -32602, fault: 'client' },
  batch_not_supported: { http: 400, rpc: -32600, fault: 'client' },
  unsupported_media_type: { http: 415, rpc: -32600, fault: 'client' },
  not_acceptable: { http: 406, rpc: -32600, fault: 'client' },
  body_too_large: { http: 413, rpc: -32600, fault: 'client' },
  method_not_allowed: { http: 405, rpc: -32600, fault: 'client' },
  forbidden_origin: { http: 403, rpc: -32600, fault: 'client' },
  session_required: { http: 400, rpc: -32600, fault: 'client' },
  session_not_found: { http: 404, rpc: -32001, fault: 'client' },
  unsupported_protocol_version: { http: 400, rpc: -32600, fault: 'client' },
  not_found: { http: 404, rpc: -32601, fault: 'client' },
  header_mismatch: { http: 400, rpc: -32020, fault: 'client' },
  missing_client_capability: { http: 400, rpc: -32021, fault: 'client' },
  unsupported_modern_version: { http: 400, rpc: -32022, fault: 'client' },
  unknown_tool: { http: 200, rpc: -32602, fault: 'client' },
  unknown_resource: { http: 200, rpc: -32602, fault: 'client' },
  unknown_prompt: { http: 200, rpc: -32602, fault: 'client' },
  policy_denied: { http: 200, rpc: -32003, fault: 'client' },
  /** The upstream acts for the user, who has not authorized it yet (see url_elicitation_required). */
  authorization_required: { http: 200, rpc: -32004, fault: 'client' },
  /** 2025-11-25: the same, for a client that can open the link itself (URL-mode elicitation). */
  url_elicitation_required: { http: 200, rpc: -32042, fault: 'client' },
  too_many_sessions: { http: 503, rpc: -32000, fault: 'gateway' },
  /** `audit.onFailure: block` and records cannot be kept: calls wait for the store. */
  audit_unavailable: { http: 503, rpc: -32000, fault: 'gateway' },
  shutting_down: { http: 503, rpc: -32000, fault: 'gateway' },
  upstream_unavailable: { http: 200, rpc: -32603, fault: 'upstream' },
  upstream_timeout: { http: 200, rpc: -32603, fault: 'upstream' },
  upstream_protocol: { http: 200, rpc: -32603, fault: 'upstream' },
  request_cancelled: { http: 200, rpc: -32800, fault: 'client' },
  internal: { http: 500, rpc: -32603, fault: 'gateway' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** An expected failure, carried as a value (see pipeline verdicts) or thrown at an edge. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly data: unknown;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; data?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.data = options?.data;
  }
  get http(): number {
    return ERRORS[this.code].http;
  }
  get rpc(): number {
    return ERRORS[this.code].rpc;
  }
  get fault(): Fault {
    return ERRORS[this.code].fault;
  }
}

/** A configuration problem: reported to the operator, never sent to a client. */
export class ConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** The JSON-RPC error object for a client; messages never include stacks or causes. */
export function toRpcError(err: GatewayError): { code: number; message: string; data?: unknown } {
  return err.data === undefined
    ? { code: err.rpc, message: err.message }
    : { code: err.rpc, message: err.message, data: err.data };
}

/** Maps anything thrown to a client-safe GatewayError; unknown errors become `internal`. */
export function asGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError('internal', 'internal gateway error', { cause: err });
}
