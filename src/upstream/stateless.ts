// Speaking the stateless era (2026-07-28) to an upstream: the `_meta` every request carries,
// `server/discover` in place of initialize, the `subscriptions/listen` stream for list changes,
// and `input_required` rounds answered through the caller's hooks — so a session-era client
// behind the gateway sees ordinary server→client requests.
import { GatewayError } from '../errors.ts';
import type { Params, Request, Response, RpcError } from '../jsonrpc.ts';
import { META, MODERN_VERSION } from '../versions.ts';
import type { CallHooks, ClientInit, InitializeResult } from './calls.ts';

/** An upstream that keeps asking for input is stopped after this many rounds. */
const MAX_INPUT_ROUNDS = 10;

export function clientMeta(init: ClientInit): Record<string, unknown> {
  return {
    [`${META}protocolVersion`]: MODERN_VERSION,
    [`${META}clientCapabilities`]: init.capabilities,
    [`${META}clientInfo`]: init.clientInfo,
  };
}

/** What a `server/discover` answer says the server offers; throws if it speaks no version we know. */
export function discovered(response: Response, name: string): InitializeResult {
  const result = response.result as {
    supportedVersions?: unknown;
    capabilities?: unknown;
    instructions?: unknown;
  };
  if (
    !result ||
    !Array.isArray(result.supportedVersions) ||
    !result.supportedVersions.includes(MODERN_VERSION)
  ) {
    throw new GatewayError('upstream_protocol', `upstream "${name}" speaks no protocol version we know`, {
      cause: response.error,
    });
  }
  const found: InitializeResult = {
    protocolVersion: MODERN_VERSION,
    capabilities: (result.capabilities ?? {}) as Record<string, unknown>,
  };
  if (typeof result.instructions === 'string') found.instructions = result.instructions;
  return found;
}

/** Stateless servers announce list changes on a `subscriptions/listen` stream; none if nothing changes. */
export function listenRequest(
  capabilities: Record<string, unknown>,
  meta: Record<string, unknown>,
): Request | undefined {
  const notifications: Record<string, boolean> = {};
  for (const kind of ['tools', 'prompts', 'resources']) {
    if ((capabilities[kind] as { listChanged?: boolean } | undefined)?.listChanged) {
      notifications[`${kind}ListChanged`] = true;
    }
  }
  if (Object.keys(notifications).length === 0) return undefined;
  return {
    jsonrpc: '2.0',
    id: 'gatehouse-listen',
    method: 'subscriptions/listen',
    params: { _meta: meta, notifications },
  };
}

/**
 * Sends a request and, while the answer is `input_required`, asks the caller's client each
 * question (as a session-era server→client request) and retries with the answers.
 */
export async function withInputRounds(
  name: string,
  params: Params,
  hooks: CallHooks | undefined,
  send: (params: Params) => Promise<Response>,
): Promise<Response> {
  let current = params;
  for (let round = 0; round < MAX_INPUT_ROUNDS; round++) {
    const response = await send(current);
    const result = response.result as {
      resultType?: string;
      inputRequests?: unknown;
      requestState?: unknown;
    };
    if (result?.resultType !== 'input_required') return response;
    const ask = hooks?.onServerRequest;
    if (!ask) {
      return {
        jsonrpc: '2.0',
        id: response.id,
        error: { code: -32603, message: 'the upstream needs input no client can give here' },
      };
    }
    const questions = Object.entries((result.inputRequests ?? {}) as Record<string, Request>);
    const answers = await Promise.all(
      questions.map(
        async ([key, q]) =>
          [key, await ask({ jsonrpc: '2.0', id: key, method: q.method, params: q.params })] as const,
      ),
    );
    const failed = answers.find(([, a]) => 'error' in a);
    if (failed) return { jsonrpc: '2.0', id: response.id, error: (failed[1] as { error: RpcError }).error };
    const inputResponses = Object.fromEntries(
      answers.map(([key, a]) => [key, (a as { result: unknown }).result]),
    );
    current = { ...current, inputResponses, requestState: result.requestState };
  }
  return {
    jsonrpc: '2.0',
    id: null,
    error: { code: -32603, message: `upstream "${name}" asked for input too many times` },
  };
}

/** Whether an error to `initialize` says the server only speaks the stateless era. */
export function speaksModern(error: RpcError): boolean {
  const data = error.data as { supported?: unknown; supportedVersions?: unknown } | undefined;
  const listed = [data?.supported, data?.supportedVersions].some(
    (v) => Array.isArray(v) && v.includes(MODERN_VERSION),
  );
  return error.code === -32022 || listed;
}

/** Header values must be visible ASCII; anything else goes base64-encoded, as the spec says. */
export function headerSafe(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : `=?base64?${Buffer.from(value).toString('base64')}?=`;
}

/** For each tool, the arguments its inputSchema asks to be mirrored in `Mcp-Param-*` headers. */
export type ParamHeaderIndex = Map<string, [argument: string, header: string][]>;

export function indexParamHeaders(index: ParamHeaderIndex, tools: unknown): void {
  if (!Array.isArray(tools)) return;
  for (const tool of tools as { name?: unknown; inputSchema?: { properties?: Record<string, unknown> } }[]) {
    const pairs: [string, string][] = [];
    for (const [arg, property] of Object.entries(tool.inputSchema?.properties ?? {})) {
      const header = (property as Record<string, unknown> | null)?.['x-mcp-header'];
      if (typeof header === 'string' && /^[A-Za-z0-9-]{1,64}$/.test(header))
        pairs.push([arg, `mcp-param-${header}`]);
    }
    if (typeof tool.name !== 'string') continue;
    if (pairs.length > 0) index.set(tool.name, pairs);
    else index.delete(tool.name);
  }
}

/** The `Mcp-Param-*` headers a `tools/call` must carry, or undefined when its tool asks for none. */
export function paramHeaders(
  index: ParamHeaderIndex,
  params: Params | undefined,
): Record<string, string> | undefined {
  const pairs = index.get(String(params?.name));
  if (!pairs) return undefined;
  const args = (params?.arguments ?? {}) as Record<string, unknown>;
  const headers: Record<string, string> = {};
  for (const [arg, header] of pairs) {
    const value = args[arg];
    if (value !== undefined && value !== null) headers[header] = headerSafe(String(value));
  }
  return headers;
}
