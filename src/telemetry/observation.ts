// What the gateway observes of each interaction, and who observes it (audit, metrics): one
// `Observation` per client request, session opened or request refused, handed to the observer
// once, when the answer is known. The request path only fills in fields; the observers do the
// rest, off the request path where they can.
import type { AuditRecord, Outcome } from '../audit/record.ts';
import type { Principal } from '../identity/principal.ts';
import type { Response } from '../jsonrpc.ts';
import type { RequestSpan } from './request-span.ts';
import type { TraceParent } from './trace-context.ts';

/** What the router learns while serving a request: filled in as it goes. */
export interface Interaction {
  /** The upstream the request went to (or would have). */
  upstream?: string;
  /** The exposed tool or prompt name, or resource URI. */
  target?: string;
  /** The arguments as the client sent them (redacted when the record is made). */
  arguments?: unknown;
  policy?: AuditRecord['policy'];
  /** Time spent waiting for the upstream, in ms. */
  upstreamMs?: number;
  /** Set when the outcome is not plain from the answer (a hidden target refused by policy). */
  outcome?: Outcome;
  reason?: string;
  /** Tracing on: the request's SERVER span, parent of the policy and upstream spans. */
  span?: RequestSpan;
  /**
   * Tracing off, the client sent a trace: the `traceparent` upstream requests carry, naming the
   * gateway's span of the audit record (`facts.spanId`) within the client's trace.
   */
  traceparent?: string;
}

/** Facts about the request known at the transport: where it came from and its trace. */
export interface RequestFacts {
  source?: string;
  /** The trace the request belongs to, and the gateway's span in it (audit records carry both). */
  traceId?: string;
  spanId?: string;
  /** The caller's `traceparent` as received: its span is the parent of ours. */
  parent?: TraceParent;
  client?: { name?: string; version?: string };
}

export interface Observation {
  /** `performance.now()` and `Date.now()` when the request arrived. */
  started: number;
  startedAt: number;
  method: string;
  principal?: Principal;
  facts?: RequestFacts;
  /** The client as it introduced itself to the session (`facts.client`, per request, wins). */
  client?: { name?: string; version?: string };
  session?: string;
  virtualServer?: string;
  seen?: Interaction;
  /** The answer sent, for the outcome, error code and size. */
  response?: Response;
  /** A refusal answered without a JSON-RPC response of ours (edge, HTTP level). */
  refusal?: { code: string; reason: string; outcome: Outcome };
}

export interface Observer {
  record(observation: Observation): void;
  /** Something that must see every interaction cannot now: new calls are refused meanwhile. */
  readonly blocked: boolean;
}

export const NO_OBSERVER: Observer = { record: () => {}, blocked: false };

/** One observer that hands each observation to all of `list`, in order. */
export function observeAll(list: readonly Observer[]): Observer {
  if (list.length === 0) return NO_OBSERVER;
  if (list.length === 1) return list[0]!;
  return {
    record(observation) {
      for (const o of list) o.record(observation);
    },
    get blocked() {
      return list.some((o) => o.blocked);
    },
  };
}
