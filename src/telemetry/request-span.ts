// The spans of one client request, when tracing is on: the SERVER span `mcp <method>` (parented
// to the client's traceparent, else the root of a new trace) and its children, `policy.decide`
// / `policy.filter` for the policy's verdicts and the CLIENT span `mcp <method> <upstream>` for
// the call forwarded upstream. The request path hands this object along explicitly
// (`Interaction.span`); no context manager (AsyncLocalStorage) is involved.
//
// Spans carry what locates a request — method, target, upstream, outcome, error codes — and
// never arguments, results, who called or from which address: those are in the audit record,
// which names this SERVER span (`facts.spanId`), so the two link without copying personal data
// to a collector.

import type { Outcome } from '../audit/record.ts';
import type { UpstreamConfig } from '../config/schema.ts';
import type { Request, Response } from '../jsonrpc.ts';
import type { Interaction, RequestFacts } from './observation.ts';
import { encodeAttributes } from './otlp-json.ts';
import { CLIENT, INTERNAL, SERVER, Span, type SpanRecorder, STATUS_ERROR } from './span.ts';
import { newSpanId, newTraceId } from './trace-context.ts';

// MCP and GenAI attribute names from the OpenTelemetry semantic conventions (1.45.0, where they
// are experimental and so, as OpenTelemetry advises, copied rather than imported).
const MCP_METHOD = 'mcp.method.name';
const MCP_SESSION = 'mcp.session.id';
const MCP_VERSION = 'mcp.protocol.version';
const MCP_RESOURCE = 'mcp.resource.uri';
const JSONRPC_ID = 'jsonrpc.request.id';
const TOOL_NAME = 'gen_ai.tool.name';
const PROMPT_NAME = 'gen_ai.prompt.name';
const OPERATION = 'gen_ai.operation.name';
// OpenTelemetry's stable ones.
const ERROR_TYPE = 'error.type';
const RPC_STATUS_CODE = 'rpc.status_code';
const SERVER_ADDRESS = 'server.address';
const SERVER_PORT = 'server.port';
// The gateway's own.
const OUTCOME = 'gatehouse.outcome';
const VIRTUAL_SERVER = 'gatehouse.virtual_server';
const UPSTREAM = 'gatehouse.upstream';
const UPSTREAM_TRANSPORT = 'gatehouse.upstream.transport';
const POLICY_DECISION = 'gatehouse.policy.decision';
const POLICY_RULE = 'gatehouse.policy.rule_id';
const POLICY_ENFORCED = 'gatehouse.policy.enforced';
const LISTED = 'gatehouse.policy.listed';
const VISIBLE = 'gatehouse.policy.visible';

/** What the session knows about a request that its span records. */
export interface SpanAbout {
  session?: string;
  protocolVersion: string;
  virtualServer?: string;
}

export class RequestSpan {
  readonly #recorder: SpanRecorder;
  readonly #span: Span;
  readonly #method: string;

  /** Starts the SERVER span; `facts.traceId` and `facts.spanId` become its ids. */
  constructor(recorder: SpanRecorder, request: Request, facts: RequestFacts, about: SpanAbout) {
    this.#recorder = recorder;
    this.#method = request.method;
    const parent = facts.parent;
    // A caller's sampled flag decides for its trace (so a trace is kept or dropped whole); the
    // ratio decides for traces the gateway starts.
    let span: Span;
    if (parent) {
      const sampled = (Number.parseInt(parent.flags, 16) & 1) === 1;
      span = new Span(
        parent.traceId,
        newSpanId(),
        parent.parentId,
        true,
        `mcp ${request.method}`,
        SERVER,
        sampled,
      );
    } else {
      const traceId = newTraceId();
      const sampled = recorder.sample(traceId);
      span = new Span(traceId, newSpanId(), undefined, false, `mcp ${request.method}`, SERVER, sampled);
    }
    this.#span = span;
    // Attributes only for spans that are recorded: an unsampled span costs no more than its ids.
    if (span.recorded) {
      span.set(MCP_METHOD, request.method);
      span.set(MCP_VERSION, about.protocolVersion);
      span.set(JSONRPC_ID, String(request.id));
      if (about.session) span.set(MCP_SESSION, about.session);
      if (about.virtualServer) span.set(VIRTUAL_SERVER, about.virtualServer);
      if (request.method === 'tools/call') span.set(OPERATION, 'execute_tool');
    }
    facts.traceId = span.traceId;
    facts.spanId = span.spanId;
  }

  /** A child span around one policy decision; end it with `endPolicy`. */
  policy(): Span {
    return this.#child('policy.decide', INTERNAL);
  }

  /** Ends a `policy.decide` span with the verdict. */
  endPolicy(span: Span, verdict: { decision: string; ruleId?: string }, enforced: boolean): void {
    if (span.recorded) {
      span.set(POLICY_DECISION, verdict.decision);
      span.set(POLICY_ENFORCED, enforced);
      if (verdict.ruleId) span.set(POLICY_RULE, verdict.ruleId);
    }
    this.#end(span);
  }

  /** A child span around filtering a list by the policy; end it with `endFilter`. */
  filter(): Span {
    return this.#child('policy.filter', INTERNAL);
  }

  /** Ends a `policy.filter` span with how many items were listed and how many the caller may see. */
  endFilter(span: Span, listed: number, visible: number): void {
    if (span.recorded) {
      span.set(LISTED, listed);
      span.set(VISIBLE, visible);
    }
    this.#end(span);
  }

  /** The CLIENT span of the call forwarded to `upstream`; `traceparent` names it for the call. */
  upstream(method: string, upstream: string, target: string, config: UpstreamConfig): Span {
    const span = this.#child(`mcp ${method} ${upstream}`, CLIENT);
    if (span.recorded) {
      span.encoded = upstreamAttributes(upstream, config);
      span.set(MCP_METHOD, method);
      span.set(targetAttribute(method), target);
    }
    return span;
  }

  /** Ends an upstream span with the upstream's answer, or the gateway's error when there was none. */
  endUpstream(span: Span, response?: Response, failure?: { code: string; message: string }): void {
    if (span.recorded) {
      if (failure) {
        span.set(OUTCOME, 'error');
        span.set(ERROR_TYPE, failure.code);
        span.status = STATUS_ERROR;
        span.statusMessage = failure.message;
      } else {
        settle(span, response, undefined);
      }
    }
    this.#end(span);
  }

  /** The W3C traceparent naming `span`: what the call it covers carries upstream. */
  traceparent(span: Span): string {
    return `00-${span.traceId}-${span.spanId}-${span.recorded ? '01' : '00'}`;
  }

  /** Ends the SERVER span with what the request came to. */
  end(response: Response | undefined, seen: Interaction): void {
    const span = this.#span;
    if (span.recorded) {
      if (seen.target) span.set(targetAttribute(this.#method), seen.target);
      if (seen.upstream) span.set(UPSTREAM, seen.upstream);
      settle(span, response, seen.outcome);
    }
    this.#end(span);
  }

  #child(name: string, kind: number): Span {
    const parent = this.#span;
    return new Span(parent.traceId, newSpanId(), parent.spanId, false, name, kind, parent.recorded);
  }

  #end(span: Span): void {
    if (span.end !== 0) return; // Ended once; a second end changes nothing, as in OpenTelemetry.
    span.end = performance.now();
    if (span.recorded) this.#recorder.record(span);
  }
}

/**
 * Outcome, error type and status from a JSON-RPC answer, as the audit record reads them. A
 * request that succeeded gets neither an outcome nor a status (unset status means ok): every
 * attribute costs on each span, and most spans are of calls that succeeded.
 */
function settle(span: Span, response: Response | undefined, outcome: Outcome | undefined): void {
  let errorType: string | undefined;
  if (response?.error) {
    errorType = String(response.error.code);
    span.set(RPC_STATUS_CODE, errorType);
  } else if (response?.result?.isError === true) {
    errorType = 'tool_error';
  }
  const result = outcome ?? (errorType ? 'error' : 'ok');
  if (result !== 'ok') span.set(OUTCOME, result);
  if (errorType) {
    span.set(ERROR_TYPE, errorType);
    span.status = STATUS_ERROR;
    span.statusMessage = response?.error?.message;
  }
}

function targetAttribute(method: string): string {
  if (method === 'tools/call') return TOOL_NAME;
  if (method === 'prompts/get') return PROMPT_NAME;
  if (method.startsWith('resources/')) return MCP_RESOURCE;
  return 'gatehouse.target';
}

/** What names an upstream in a span, as OTLP JSON: worked out once per upstream config. */
const upstreamCache = new WeakMap<UpstreamConfig, string>();

function upstreamAttributes(name: string, config: UpstreamConfig): string {
  let encoded = upstreamCache.get(config);
  if (encoded !== undefined) return encoded;
  const attributes: Record<string, string | number> = {
    [UPSTREAM]: name,
    [UPSTREAM_TRANSPORT]: config.transport,
  };
  if (config.transport !== 'stdio') {
    // Host and port only: a URL's path or query may hold a credential.
    const url = new URL(config.url);
    attributes[SERVER_ADDRESS] = url.hostname;
    attributes[SERVER_PORT] = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  }
  encoded = encodeAttributes(Object.entries(attributes).flat());
  upstreamCache.set(config, encoded);
  return encoded;
}
