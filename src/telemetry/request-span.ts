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

import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_RPC_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from '@opentelemetry/semantic-conventions';
import type { Outcome } from '../audit/record.ts';
import type { UpstreamConfig } from '../config/schema.ts';
import type { Request, Response } from '../jsonrpc.ts';
import type { Interaction, RequestFacts } from './observation.ts';

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
  readonly #tracer: Tracer;
  readonly #span: Span;
  readonly #method: string;
  #parent?: Context;

  /** Starts the SERVER span; `facts.traceId` and `facts.spanId` become its ids. */
  constructor(tracer: Tracer, request: Request, facts: RequestFacts, about: SpanAbout) {
    this.#tracer = tracer;
    this.#method = request.method;
    const parent = facts.parent;
    const context = parent
      ? trace.setSpanContext(ROOT_CONTEXT, {
          traceId: parent.traceId,
          spanId: parent.parentId,
          traceFlags: Number.parseInt(parent.flags, 16) & 0xff,
          isRemote: true,
        })
      : ROOT_CONTEXT;
    const span = tracer.startSpan(`mcp ${request.method}`, { kind: SpanKind.SERVER }, context);
    this.#span = span;
    // Attributes only for spans that are recorded: an unsampled span costs no more than its ids.
    if (span.isRecording()) {
      span.setAttribute(MCP_METHOD, request.method);
      span.setAttribute(MCP_VERSION, about.protocolVersion);
      span.setAttribute(JSONRPC_ID, String(request.id));
      if (about.session) span.setAttribute(MCP_SESSION, about.session);
      if (about.virtualServer) span.setAttribute(VIRTUAL_SERVER, about.virtualServer);
      if (request.method === 'tools/call') span.setAttribute(OPERATION, 'execute_tool');
    }
    const ids = span.spanContext();
    facts.traceId = ids.traceId;
    facts.spanId = ids.spanId;
  }

  /** A child span around one policy decision; end it with `endPolicy`. */
  policy(): Span {
    return this.#tracer.startSpan('policy.decide', { kind: SpanKind.INTERNAL }, this.#context());
  }

  /** Ends a `policy.decide` span with the verdict. */
  endPolicy(span: Span, verdict: { decision: string; ruleId?: string }, enforced: boolean): void {
    if (span.isRecording()) {
      span.setAttribute(POLICY_DECISION, verdict.decision);
      span.setAttribute(POLICY_ENFORCED, enforced);
      if (verdict.ruleId) span.setAttribute(POLICY_RULE, verdict.ruleId);
    }
    span.end();
  }

  /** A child span around filtering a list by the policy; end it with `endFilter`. */
  filter(): Span {
    return this.#tracer.startSpan('policy.filter', { kind: SpanKind.INTERNAL }, this.#context());
  }

  /** Ends a `policy.filter` span with how many items were listed and how many the caller may see. */
  endFilter(span: Span, listed: number, visible: number): void {
    if (span.isRecording()) span.setAttributes({ [LISTED]: listed, [VISIBLE]: visible });
    span.end();
  }

  /** The CLIENT span of the call forwarded to `upstream`; `traceparent` names it for the call. */
  upstream(method: string, upstream: string, target: string, config: UpstreamConfig): Span {
    const span = this.#tracer.startSpan(
      `mcp ${method} ${upstream}`,
      { kind: SpanKind.CLIENT },
      this.#context(),
    );
    if (span.isRecording()) {
      span.setAttributes(upstreamAttributes(upstream, config));
      span.setAttribute(MCP_METHOD, method);
      span.setAttribute(targetAttribute(method), target);
    }
    return span;
  }

  /** Ends an upstream span with the upstream's answer, or the gateway's error when there was none. */
  endUpstream(span: Span, response?: Response, failure?: { code: string; message: string }): void {
    if (span.isRecording()) {
      if (failure) {
        span.setAttributes({ [OUTCOME]: 'error', [ATTR_ERROR_TYPE]: failure.code });
        span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
      } else {
        settle(span, response, undefined);
      }
    }
    span.end();
  }

  /** The W3C traceparent naming `span`: what the call it covers carries upstream. */
  traceparent(span: Span): string {
    const { traceId, spanId, traceFlags } = span.spanContext();
    return `00-${traceId}-${spanId}-${traceFlags & 1 ? '01' : '00'}`;
  }

  /** Ends the SERVER span with what the request came to. */
  end(response: Response | undefined, seen: Interaction): void {
    const span = this.#span;
    if (span.isRecording()) {
      if (seen.target) span.setAttribute(targetAttribute(this.#method), seen.target);
      if (seen.upstream) span.setAttribute(UPSTREAM, seen.upstream);
      settle(span, response, seen.outcome);
    }
    span.end();
  }

  #context(): Context {
    this.#parent ??= trace.setSpan(ROOT_CONTEXT, this.#span);
    return this.#parent;
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
    span.setAttribute(ATTR_RPC_STATUS_CODE, errorType);
  } else if (response?.result?.isError === true) {
    errorType = 'tool_error';
  }
  const result = outcome ?? (errorType ? 'error' : 'ok');
  if (result !== 'ok') span.setAttribute(OUTCOME, result);
  if (errorType) {
    span.setAttribute(ATTR_ERROR_TYPE, errorType);
    span.setStatus({ code: SpanStatusCode.ERROR, message: response?.error?.message });
  }
}

function targetAttribute(method: string): string {
  if (method === 'tools/call') return TOOL_NAME;
  if (method === 'prompts/get') return PROMPT_NAME;
  if (method.startsWith('resources/')) return MCP_RESOURCE;
  return 'gatehouse.target';
}

/** What names an upstream in a span; worked out once per upstream config. */
const upstreamCache = new WeakMap<UpstreamConfig, Attributes>();

function upstreamAttributes(name: string, config: UpstreamConfig): Attributes {
  let attributes = upstreamCache.get(config);
  if (attributes) return attributes;
  attributes = { [UPSTREAM]: name, [UPSTREAM_TRANSPORT]: config.transport };
  if (config.transport !== 'stdio') {
    // Host and port only: a URL's path or query may hold a credential.
    const url = new URL(config.url);
    attributes[ATTR_SERVER_ADDRESS] = url.hostname;
    attributes[ATTR_SERVER_PORT] = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  }
  upstreamCache.set(config, attributes);
  return attributes;
}
