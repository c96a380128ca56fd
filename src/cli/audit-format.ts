// What `gatehouse audit` prints: a verification result per instance, and records as a table.
import type { StoredRecord } from '../audit/record.ts';
import type { VerifyResult } from '../audit/verify.ts';

/** Text from the store, made safe for a terminal: control characters (escapes included) become spaces. */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}

export function verifyLine(instance: string, result: VerifyResult): string {
  return printable(describe(instance, result));
}

function describe(instance: string, result: VerifyResult): string {
  if (!result.ok && result.problem) {
    const { kind, message } = result.problem;
    return `${instance}: ${kind.toUpperCase()}: ${message} (stopped after reading ${result.checked} record(s))`;
  }
  const { first, last, checked } = result;
  if (!first || !last) return `${instance}: no records`;
  const range = `seq ${first.seq}-${last.seq}, ${first.time} to ${last.time}`;
  const start = first.fromGenesis
    ? 'from the first record'
    : `from seq ${first.seq}: older records were pruned, so its prevHash ${first.prevHash} is trusted as the anchor`;
  return `${instance}: intact, ${checked} record(s), ${range}, checked ${start}; head hash ${last.hash}`;
}

const COLUMNS: readonly (readonly [string, (r: StoredRecord) => string])[] = [
  ['TIME', (r) => r.time],
  ['OUTCOME', (r) => r.outcome],
  ['METHOD', (r) => r.method],
  ['TARGET', (r) => r.target ?? ''],
  ['AGENT', (r) => r.principal.agent ?? ''],
  ['USER', (r) => r.principal.user ?? ''],
  ['MS', (r) => String(r.latencyMs)],
  ['REASON', (r) => r.reason ?? (r.errorCode === undefined ? '' : String(r.errorCode))],
  ['ID', (r) => r.id],
];

const WIDEST = 40;

/** Fixed-width columns; a cell wider than 40 characters is cut with '…'; control characters shown as spaces. */
export function recordTable(records: readonly StoredRecord[]): string {
  if (records.length === 0) return 'No matching records.\n';
  const cells = records.map((r) =>
    COLUMNS.map(([, get]) => {
      const text = printable(get(r));
      return text.length > WIDEST ? `${text.slice(0, WIDEST - 1)}…` : text;
    }),
  );
  const widths = COLUMNS.map(([name], i) => Math.max(name.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return `${[line(COLUMNS.map(([name]) => name)), ...cells.map(line)].join('\n')}\n`;
}
