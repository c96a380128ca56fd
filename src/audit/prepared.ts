// A record made ready to chain, once, where it is written: its canonical JSON (chain.ts) cut
// where the chain fields go, and the values of its columns (row.ts). Linking it to its chain is
// then two string joins and one hash, so the store's thread neither parses nor re-serializes.
//
// The canonical JSON of a linked record has `prevHash` and `seq` among its keys in sorted order:
//
//   {  <keys before "prevHash">  "prevHash":"…",  <keys between>  "seq":N  <keys after>  }
//       `before`                                  `middle`                 `after`
//
// `before` ends with a comma when it holds a key, `middle` with one, `after` starts with one.
// The text is the same as `canonicalJson(linked normalizeRecord(record))`, which a test checks
// over many records: verification recomputes hashes that way from what any store read back.
import {
  type ChainHead,
  canonicalJson,
  cleanString,
  inCanonicalOrder,
  normalizeRecord,
  sha256,
  toPlain,
} from './chain.ts';
import type { AuditRecord } from './record.ts';

/** The columns a store keeps beside the JSON (row.ts), the chain's excepted, then the three parts. */
export type PreparedRecord = [
  id: string,
  time: string,
  instance: string,
  agent: string | null,
  user: string | null,
  target: string | null,
  method: string,
  outcome: string,
  traceId: string | null,
  before: string,
  middle: string,
  after: string,
];

/** Strings per record in a flattened batch. */
export const PREPARED = 12;

/** Records prepared for chaining, one flat array for a batch: cheap to send to a worker. */
export function flatten(records: readonly AuditRecord[]): (string | null)[] {
  const flat: (string | null)[] = [];
  for (const record of records) flat.push(...prepareRecord(record));
  return flat;
}

/** What JSON.stringify writes for U+0000 and for a lone surrogate: such text needs cleaning. */
const UNCLEAN = /\\u(?:0000|d[89a-f])/i;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

export function prepareRecord(record: AuditRecord): PreparedRecord {
  return prepareWhole(record) ?? prepareFields(normalizeRecord(record));
}

/**
 * The usual case, a record as the auditor builds it (keys in order at every depth, plain
 * values, clean text): three JSON.stringify calls, one per part, and checks that the result is
 * canonical. Undefined for any other record.
 */
function prepareWhole(record: AuditRecord): PreparedRecord | undefined {
  if (typeof record.time !== 'string' || !ISO.test(record.time)) return undefined;
  const keys = Object.keys(record);
  if (!sortedKeys(keys)) return undefined;
  const a: Record<string, unknown> = {};
  const b: Record<string, unknown> = {};
  const c: Record<string, unknown> = {};
  for (const key of keys) {
    if (key === 'prevHash' || key === 'seq') continue;
    if (key === '__proto__') return undefined;
    const value = (record as unknown as Record<string, unknown>)[key];
    if (key < 'prevHash') a[key] = value;
    else if (key < 'seq') b[key] = value;
    else c[key] = value;
  }
  if (!inCanonicalOrder(a) || !inCanonicalOrder(b) || !inCanonicalOrder(c)) return undefined;
  const ta = JSON.stringify(a);
  const tb = JSON.stringify(b);
  const tc = JSON.stringify(c);
  if (UNCLEAN.test(ta) || UNCLEAN.test(tb) || UNCLEAN.test(tc)) return undefined;
  // Every string of the record is in the text checked above: the columns need no cleaning.
  return [
    ...columns(record, same),
    ta === '{}' ? '{' : `${ta.slice(0, -1)},`,
    tb === '{}' ? '' : `${tb.slice(1, -1)},`,
    tc === '{}' ? '}' : `,${tc.slice(1)}`,
  ];
}

/** Any record, normalized first: its members one at a time. */
function prepareFields(record: AuditRecord): PreparedRecord {
  let keys = Object.keys(record);
  if (!sortedKeys(keys)) keys = keys.sort();
  let before = '{';
  let middle = '';
  let after = '';
  for (const key of keys) {
    if (key === 'prevHash' || key === 'seq') continue;
    const json = valueJson((record as unknown as Record<string, unknown>)[key]);
    if (json === undefined) continue;
    const name = JSON.stringify(key);
    if (key < 'prevHash') before += `${name}:${json},`;
    else if (key < 'seq') middle += `${name}:${json},`;
    else after += `,${name}:${json}`;
  }
  return [...columns(record, cleanString), before, middle, `${after}}`];
}

/** The chained record's canonical JSON and hash. */
export function linkPrepared(p: PreparedRecord, head: ChainHead): { text: string; hash: string } {
  return linkParts(p[9], p[10], p[11], head);
}

/** `linkPrepared` for the three parts as they come in a flattened batch. */
export function linkParts(
  before: string,
  middle: string,
  after: string,
  head: ChainHead,
): { text: string; hash: string } {
  const text = `${before}"prevHash":"${head.hash}",${middle}"seq":${head.seq + 1}${after}`;
  return { text, hash: sha256(head.hash, text) };
}

/**
 * A record's column values as kept: its strings, through `clean` (the identity when the record
 * is known to be clean text), and absent or non-string optional values as null.
 */
function columns(record: AuditRecord, clean: (text: string) => string) {
  const principal = record.principal as { agent?: unknown; user?: unknown } | undefined;
  const optional = (value: unknown) => (typeof value === 'string' ? clean(value) : null);
  return [
    clean(String(record.id)),
    record.time,
    clean(String(record.instance)),
    optional(principal?.agent),
    optional(principal?.user),
    optional(record.target),
    clean(String(record.method)),
    clean(String(record.outcome)),
    optional(record.traceId),
  ] as const;
}

const same = (text: string) => text;

/** Canonical JSON of a member value as normalizeRecord would keep it; undefined when it is dropped. */
function valueJson(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(cleanString(value));
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (inCanonicalOrder(value)) {
        const text = JSON.stringify(value);
        if (!UNCLEAN.test(text)) return text;
      }
      const plain = toPlain(value);
      return plain === undefined ? undefined : canonicalJson(plain);
    }
    default:
      return undefined;
  }
}

function sortedKeys(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (!(keys[i - 1]! < keys[i]!)) return false;
  return true;
}
