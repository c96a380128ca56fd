import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { auditRecord } from '../../test/helpers/audit-store-contract.ts';
import { type ChainHead, chainRecords, normalizeRecord } from './chain.ts';
import { CSV_COLUMNS, exportRecords } from './export.ts';
import type { AuditRecord, StoredRecord } from './record.ts';

const stored = (list: AuditRecord[]) => chainRecords(list.map(normalizeRecord), new Map<string, ChainHead>());

async function* stream(records: Iterable<StoredRecord>, onPull?: () => void) {
  for (const r of records) {
    onPull?.();
    yield r;
  }
}

/** A writable that keeps everything, optionally slowly (each write finishes on a later turn). */
function sink(options: { highWaterMark?: number; slow?: boolean } = {}) {
  const chunks: string[] = [];
  let maxBuffered = 0;
  const out = new Writable({
    highWaterMark: options.highWaterMark ?? 16 * 1024,
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      maxBuffered = Math.max(maxBuffered, out.writableLength);
      if (options.slow) setImmediate(done);
      else done();
    },
  });
  return { out, text: () => chunks.join(''), maxBuffered: () => maxBuffered, writes: () => chunks.length };
}

/** RFC 4180, as a spreadsheet reads it (CRLF ends a row). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '"' && text[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (!quoted && c === ',') {
      row.push(cell);
      cell = '';
    } else if (!quoted && c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else {
      cell += c;
    }
  }
  return rows;
}

describe('export', () => {
  const tricky = stored([
    auditRecord(1, {
      reason: 'has, comma and "quotes"\r\nand a line break',
      client: { name: 'Claude Code' },
    }),
    auditRecord(2, {
      target: '=HYPERLINK("http://evil")',
      errorCode: -32602,
      policy: { decision: 'deny', ruleId: 'r1' },
    }),
    auditRecord(3, { principal: { kind: 'anonymous' }, arguments: undefined, target: undefined }),
  ]);

  test('JSONL: one record per line, exactly as kept', async () => {
    const { out, text } = sink();
    assert.equal(await exportRecords(stream(tricky), out, 'jsonl'), 3);
    const lines = text().split('\n');
    assert.equal(lines.pop(), '');
    assert.deepEqual(
      lines.map((l) => JSON.parse(l)),
      tricky,
    );
  });

  test('CSV: a header, RFC 4180 quoting, nested values as JSON, empty cells for absent fields', async () => {
    const { out, text } = sink();
    await exportRecords(stream(tricky), out, 'csv');
    const [header, ...rows] = parseCsv(text());
    assert.deepEqual(
      header,
      CSV_COLUMNS.map(([name]) => name),
    );
    assert.equal(rows.length, 3);
    const cell = (row: number, name: string) => rows[row]![header!.indexOf(name)];
    assert.equal(cell(0, 'reason'), 'has, comma and "quotes"\r\nand a line break');
    assert.equal(cell(0, 'clientName'), 'Claude Code');
    assert.deepEqual(JSON.parse(cell(0, 'arguments')!), tricky[0]!.arguments);
    assert.deepEqual(JSON.parse(cell(0, 'teams')!), ['team-1']);
    assert.equal(cell(0, 'hash'), tricky[0]!.hash);
    assert.equal(cell(1, 'errorCode'), '-32602', 'numbers are not guarded');
    assert.equal(cell(1, 'policyRule'), 'r1');
    assert.deepEqual([cell(2, 'agent'), cell(2, 'arguments'), cell(2, 'target')], ['', '', '']);
  });

  test('CSV: a text cell that a spreadsheet would run as a formula is written as text', async () => {
    const { out, text } = sink();
    await exportRecords(stream(tricky.slice(1, 2)), out, 'csv');
    const [header, row] = parseCsv(text());
    assert.equal(row![header!.indexOf('target')], `'=HYPERLINK("http://evil")`);
  });

  test('waits for a slow output: the buffer stays bounded and reading pauses', async () => {
    const many = stored(Array.from({ length: 5_000 }, (_, i) => auditRecord(i)));
    const { out, maxBuffered, writes } = sink({ highWaterMark: 16 * 1024, slow: true });
    let pulled = 0;
    let pulledAtFirstWrite = 0;
    out.once('drain', () => (pulledAtFirstWrite = pulled));
    assert.equal(
      await exportRecords(
        stream(many, () => pulled++),
        out,
        'jsonl',
      ),
      5_000,
    );
    assert.ok(writes() > 10);
    assert.ok(maxBuffered() <= 16 * 1024 + 64 * 1024 + 4 * 1024, `buffered ${maxBuffered()}`);
    assert.ok(pulledAtFirstWrite < 1_000, `pulled ${pulledAtFirstWrite} before the output caught up`);
  });

  test('rejects when the output fails, and when it closes early, instead of hanging', async () => {
    const many = stored(Array.from({ length: 2_000 }, (_, i) => auditRecord(i)));
    const failing = new Writable({
      highWaterMark: 1024,
      write: (_c, _e, done) => setImmediate(() => done(new Error('disk full'))),
    });
    await assert.rejects(exportRecords(stream(many), failing, 'csv'), /disk full/);
    const closing = new Writable({ highWaterMark: 1024, write: () => closing.destroy() });
    await assert.rejects(exportRecords(stream(many), closing, 'jsonl'), /closed/);
  });
});
