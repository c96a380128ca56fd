// Turns what the request path saw into audit records and hands them to the writer: one record
// per client request (refusals included), per session opened, and per request refused before
// it reached a session. Building a record is the only work done on the request path; storing
// and sending it happen off it (writer.ts).
import { hostname } from 'node:os';
import type { GatewayError } from '../errors.ts';
import type { Principal } from '../identity/principal.ts';
import { responseText } from '../jsonrpc.ts';
import type { Observation, Observer } from '../telemetry/observation.ts';
import { type AuditPrincipal, type AuditRecord, newRecordId } from './record.ts';
import type { Redactor } from './redact.ts';

/** What the auditor needs from the writer. */
export interface RecordWriter {
  write(record: AuditRecord): boolean;
  readonly blocked: boolean;
}

/** The audit observer: `blocked` when records cannot be kept and the config says to refuse calls. */
export function createAuditor(writer: RecordWriter, redact: Redactor, instance?: string): Observer {
  const name = instance ?? `${hostname()}-${process.pid}`;
  return {
    get blocked() {
      return writer.blocked;
    },
    record(entry) {
      writer.write(toRecord(entry, name, redact));
    },
  };
}

function toRecord(e: Observation, instance: string, redact: Redactor): AuditRecord {
  const seen = e.seen;
  const record: AuditRecord = {
    id: newRecordId(e.startedAt),
    time: isoTime(e.startedAt),
    instance,
    principal: auditPrincipal(e.principal),
    method: e.method,
    outcome: 'ok',
    latencyMs: round(performance.now() - e.started),
  };
  const facts = e.facts;
  if (facts?.traceId) record.traceId = facts.traceId;
  if (facts?.spanId) record.spanId = facts.spanId;
  if (facts?.source) record.source = facts.source;
  const client = facts?.client ?? e.client;
  if (client) record.client = client;
  if (e.session) record.session = e.session;
  if (e.virtualServer) record.virtualServer = e.virtualServer;
  if (seen?.upstream) record.upstream = seen.upstream;
  if (seen?.target) record.target = seen.target;
  if (seen?.arguments !== undefined) record.arguments = redact(seen.arguments);
  if (seen?.policy) record.policy = seen.policy;
  if (seen?.upstreamMs !== undefined) record.upstreamMs = round(seen.upstreamMs);
  if (e.refusal) {
    record.outcome = e.refusal.outcome;
    record.errorCode = e.refusal.code;
    record.reason = e.refusal.reason;
  } else if (e.response) {
    const { error, result } = e.response;
    record.responseBytes = Buffer.byteLength(responseText(e.response));
    if (error) {
      record.outcome = 'error';
      record.errorCode = error.code;
      record.reason = error.message.slice(0, 200);
    } else if (result?.isError === true) {
      record.outcome = 'error';
      record.errorCode = 'tool_error';
    }
  }
  // The router knows better when the answer hides why (a target hidden by policy is "unknown").
  if (seen?.outcome) record.outcome = seen.outcome;
  if (seen?.reason) record.reason = seen.reason;
  return record;
}

function auditPrincipal(p: Principal | undefined): AuditPrincipal {
  if (!p) return { kind: 'none' };
  const out: AuditPrincipal = { kind: p.kind };
  if (p.agent) out.agent = p.agent;
  if (p.user) out.user = p.user;
  if (p.teams.length > 0) out.teams = p.teams;
  if (p.roles.length > 0) out.roles = p.roles;
  if (p.keyId) out.keyId = p.keyId;
  return out;
}

// Many requests start within the same millisecond: its ISO form is made once (0.5 µs).
let lastMs = Number.NaN;
let lastIso = '';

function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** The refusal an error thrown before any session stands for. */
export function refusalOf(err: GatewayError): NonNullable<Observation['refusal']> {
  return {
    code: err.code,
    reason: err.message.slice(0, 200),
    outcome: err.fault === 'client' ? 'error' : 'error',
  };
}
