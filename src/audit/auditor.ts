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

/**
 * The record, its members set in sorted key order (and so its nested objects): its canonical
 * JSON is then what JSON.stringify writes, the store's fast path (prepared.ts).
 */
function toRecord(e: Observation, instance: string, redact: Redactor): AuditRecord {
  const seen = e.seen;
  const facts = e.facts;
  let outcome: AuditRecord['outcome'] = 'ok';
  let errorCode: AuditRecord['errorCode'];
  let reason: string | undefined;
  let responseBytes: number | undefined;
  if (e.refusal) {
    outcome = e.refusal.outcome;
    errorCode = e.refusal.code;
    reason = e.refusal.reason;
  } else if (e.response) {
    const { error, result } = e.response;
    responseBytes = Buffer.byteLength(responseText(e.response));
    if (error) {
      outcome = 'error';
      errorCode = error.code;
      reason = error.message.slice(0, 200);
    } else if (result?.isError === true) {
      outcome = 'error';
      errorCode = 'tool_error';
    }
  }
  // The router knows better when the answer hides why (a target hidden by policy is "unknown").
  if (seen?.outcome) outcome = seen.outcome;
  if (seen?.reason) reason = seen.reason;

  const record = {} as AuditRecord;
  if (seen?.arguments !== undefined) record.arguments = redact(seen.arguments);
  const client = facts?.client ?? e.client;
  if (client) record.client = client;
  if (errorCode !== undefined) record.errorCode = errorCode;
  record.id = newRecordId(e.startedAt);
  record.instance = instance;
  record.latencyMs = round(performance.now() - e.started);
  record.method = e.method;
  record.outcome = outcome;
  if (seen?.policy) record.policy = seen.policy;
  record.principal = auditPrincipal(e.principal);
  if (reason !== undefined) record.reason = reason;
  if (responseBytes !== undefined) record.responseBytes = responseBytes;
  if (e.session) record.session = e.session;
  if (facts?.source) record.source = facts.source;
  if (facts?.spanId) record.spanId = facts.spanId;
  if (seen?.target) record.target = seen.target;
  record.time = isoTime(e.startedAt);
  if (facts?.traceId) record.traceId = facts.traceId;
  if (seen?.upstream) record.upstream = seen.upstream;
  if (seen?.upstreamMs !== undefined) record.upstreamMs = round(seen.upstreamMs);
  if (e.virtualServer) record.virtualServer = e.virtualServer;
  return record;
}

function auditPrincipal(p: Principal | undefined): AuditPrincipal {
  if (!p) return { kind: 'none' };
  const out = {} as AuditPrincipal;
  if (p.agent) out.agent = p.agent;
  if (p.keyId) out.keyId = p.keyId;
  out.kind = p.kind;
  if (p.roles.length > 0) out.roles = p.roles;
  if (p.teams.length > 0) out.teams = p.teams;
  if (p.user) out.user = p.user;
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
