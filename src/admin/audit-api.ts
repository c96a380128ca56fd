// The audit part of the admin HTTP API: search (JSON pages), export (JSONL or CSV, streamed with
// backpressure, so memory stays flat however many records match) and chain verification.
// Authentication and the admin role are checked by the caller (admin/api.ts).
import type { ServerResponse } from 'node:http';
import { type ExportFormat, exportRecords } from '../audit/export.ts';
import type { Outcome } from '../audit/record.ts';
import type { AuditQuery, AuditStore } from '../audit/store.ts';
import { verifyChain } from '../audit/verify.ts';
import { GatewayError } from '../errors.ts';
import { sendJson } from '../transport/reply.ts';

const PAGE_MAX = 1000;
const OUTCOMES: readonly Outcome[] = ['ok', 'error', 'denied', 'blocked'];
const FILTERS = [
  'from',
  'to',
  'agent',
  'user',
  'team',
  'target',
  'method',
  'traceId',
  'instance',
  'after',
] as const;

/** A search from query parameters (`tool` is accepted for `target`); bad values are a client error. */
export function queryOf(params: URLSearchParams): AuditQuery {
  const q: AuditQuery = {};
  for (const key of FILTERS) {
    const value = params.get(key) ?? (key === 'target' ? params.get('tool') : null);
    if (value !== null && value !== '') q[key] = value;
  }
  for (const key of ['from', 'to'] as const) {
    if (q[key] !== undefined && Number.isNaN(Date.parse(q[key]))) {
      throw new GatewayError('invalid_params', `${key}: not an ISO 8601 time`);
    }
  }
  const outcome = params.get('outcome');
  if (outcome !== null) {
    if (!OUTCOMES.includes(outcome as Outcome)) {
      throw new GatewayError('invalid_params', `outcome: one of ${OUTCOMES.join(', ')}`);
    }
    q.outcome = outcome as Outcome;
  }
  const limit = params.get('limit');
  if (limit !== null) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1) throw new GatewayError('invalid_params', 'limit: a positive integer');
    q.limit = n;
  }
  return q;
}

/** GET /admin/api/audit/records: `format=json` (default, one page) or `jsonl` / `csv` (everything). */
export async function serveRecords(
  store: AuditStore,
  params: URLSearchParams,
  res: ServerResponse,
): Promise<void> {
  const q = queryOf(params);
  const format = params.get('format') ?? 'json';
  if (format === 'jsonl' || format === 'csv') {
    res.writeHead(200, {
      'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
      'content-disposition': `attachment; filename="gatehouse-audit.${format}"`,
      'cache-control': 'no-store',
    });
    await exportRecords(store.query(q), res, format as ExportFormat);
    res.end();
    return;
  }
  if (format !== 'json') throw new GatewayError('invalid_params', 'format: json, jsonl or csv');
  const limit = Math.min(q.limit ?? 100, PAGE_MAX);
  const records = [];
  // One more than asked tells whether there is a next page.
  for await (const r of store.query({ ...q, limit: limit + 1 })) records.push(r);
  const more = records.length > limit;
  if (more) records.pop();
  const body = { records, ...(more ? { next: records.at(-1)!.id } : {}) };
  sendJson(res, 200, JSON.stringify(body), { 'cache-control': 'no-store' });
}

/** GET /admin/api/audit/verify: the chain of every instance (or `instance=`), checked. */
export async function serveVerify(
  store: AuditStore,
  params: URLSearchParams,
  res: ServerResponse,
): Promise<void> {
  const only = params.get('instance');
  const instances = only ? [only] : await store.instances();
  const results = [];
  for (const instance of instances) results.push({ instance, ...(await verifyChain(store.chain(instance))) });
  const ok = results.every((r) => r.ok);
  sendJson(res, 200, JSON.stringify({ ok, instances: results }), { 'cache-control': 'no-store' });
}
