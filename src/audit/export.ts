// Exports records as JSONL or CSV to a writable stream, streamed: records are read page by page
// (the store's query), written in chunks of about CHUNK bytes, and reading waits whenever the
// stream says it is full ('drain'). Memory stays flat for any number of records.
//
// JSONL: one StoredRecord per line, exactly as kept (with seq, prevHash and hash, so a copy can
// be checked against the store). CSV (RFC 4180): a header row, then one row per record with the
// columns below; nested values (teams, roles, arguments) are JSON in their cell, fields needing
// it are quoted with "" for a quote, lines end in CRLF. A text cell starting with = + - @ or a
// tab/CR gets a leading ' so a spreadsheet shows it as text instead of running it as a formula
// (the record's fields come from clients and upstreams); JSONL is the exact form.
import type { Writable } from 'node:stream';
import type { StoredRecord } from './record.ts';

export type ExportFormat = 'jsonl' | 'csv';

const CHUNK = 64 * 1024;

export const CSV_COLUMNS: readonly (readonly [string, (r: StoredRecord) => unknown])[] = [
  ['time', (r) => r.time],
  ['id', (r) => r.id],
  ['instance', (r) => r.instance],
  ['seq', (r) => r.seq],
  ['method', (r) => r.method],
  ['target', (r) => r.target],
  ['outcome', (r) => r.outcome],
  ['errorCode', (r) => r.errorCode],
  ['reason', (r) => r.reason],
  ['authKind', (r) => r.principal.kind],
  ['agent', (r) => r.principal.agent],
  ['user', (r) => r.principal.user],
  ['teams', (r) => r.principal.teams],
  ['roles', (r) => r.principal.roles],
  ['keyId', (r) => r.principal.keyId],
  ['virtualServer', (r) => r.virtualServer],
  ['upstream', (r) => r.upstream],
  ['session', (r) => r.session],
  ['clientName', (r) => r.client?.name],
  ['clientVersion', (r) => r.client?.version],
  ['source', (r) => r.source],
  ['traceId', (r) => r.traceId],
  ['spanId', (r) => r.spanId],
  ['policyDecision', (r) => r.policy?.decision],
  ['policyRule', (r) => r.policy?.ruleId],
  ['latencyMs', (r) => r.latencyMs],
  ['upstreamMs', (r) => r.upstreamMs],
  ['responseBytes', (r) => r.responseBytes],
  ['arguments', (r) => r.arguments],
  ['prevHash', (r) => r.prevHash],
  ['hash', (r) => r.hash],
];

export function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  let text = typeof value === 'string' ? value : JSON.stringify(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const csvHeader = () => `${CSV_COLUMNS.map(([name]) => name).join(',')}\r\n`;
export const csvRow = (r: StoredRecord) => `${CSV_COLUMNS.map(([, get]) => csvCell(get(r))).join(',')}\r\n`;
export const jsonLine = (r: StoredRecord) => `${JSON.stringify(r)}\n`;

/**
 * Writes every record to `out` (which it does not end) and resolves with how many; rejects if
 * reading fails or `out` errors or closes first.
 */
export async function exportRecords(
  records: AsyncIterable<StoredRecord>,
  out: Writable,
  format: ExportFormat,
): Promise<number> {
  const line = format === 'csv' ? csvRow : jsonLine;
  let failed: Error | undefined;
  const onError = (err: Error) => {
    failed ??= err;
  };
  out.on('error', onError);
  let count = 0;
  let chunk = format === 'csv' ? csvHeader() : '';
  const flush = async () => {
    if (failed) throw failed;
    const full = !out.write(chunk);
    chunk = '';
    if (full) await drained(out);
  };
  try {
    for await (const record of records) {
      chunk += line(record);
      count++;
      if (chunk.length >= CHUNK) await flush();
    }
    if (chunk) await flush();
    if (failed) throw failed;
    return count;
  } finally {
    out.off('error', onError);
  }
}

function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    if (out.destroyed)
      return reject(out.errored ?? new Error('the output closed before the export finished'));
    const settle = (err?: Error) => {
      out.off('drain', onDrain).off('error', settle).off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => settle();
    const onClose = () => settle(new Error('the output closed before the export finished'));
    out.once('drain', onDrain).once('error', settle).once('close', onClose);
  });
}
