// The hash chain that makes the audit trail tamper-evident. Each instance (gateway process) has
// its own chain: records numbered `seq` = 1, 2, 3, ... and each one's `hash` covers its content
// and the hash of the record before it, so an edit, deletion, insertion or reordering breaks a
// link that `verifyChain` (verify.ts) finds and names.
//
//   hash = hex(SHA-256(prevHash + canonical(record)))
//
// `canonical` is the JSON of every StoredRecord field except `hash` itself (so `seq` and
// `prevHash` are covered too), with object keys sorted by UTF-16 code units at every depth,
// absent and `undefined` members left out, no whitespace, and strings and numbers written as
// `JSON.stringify` writes them. For the plain JSON values records hold this is RFC 8785 (JCS).
// The first record of a chain has `prevHash` = GENESIS.
import { createHash } from 'node:crypto';
import type { AuditRecord, StoredRecord } from './record.ts';

export const GENESIS = '0'.repeat(64);

/** Where a chain ends: the next record gets `seq + 1` and `prevHash = hash`. */
export interface ChainHead {
  seq: number;
  hash: string;
}

export const EMPTY_HEAD: ChainHead = { seq: 0, hash: GENESIS };

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  const parts: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) parts.push(`${JSON.stringify(key)}:${canonicalJson(member)}`);
  }
  return `{${parts.join(',')}}`;
}

/** The hash a record must carry: covers everything in it but `hash`. */
export function recordHash(record: Omit<StoredRecord, 'hash'> & { hash?: string }): string {
  const { hash: _, ...rest } = record;
  return sha256(record.prevHash, canonicalJson(rest));
}

const sha256 = (prevHash: string, canonical: string) =>
  createHash('sha256').update(prevHash).update(canonical).digest('hex');

/**
 * The record as every store keeps it, so a hash computed here is the hash read back from any of
 * them: plain JSON (no `undefined`, no class instances), `time` in `toISOString` form, and
 * strings PostgreSQL's jsonb accepts (U+0000 and unpaired surrogates become U+FFFD).
 * Throws for a record that is not one (a bug in its producer): an unparsable time.
 */
export function normalizeRecord(record: AuditRecord): AuditRecord {
  const plain = toPlain(record) as AuditRecord;
  const time = new Date(plain.time);
  if (Number.isNaN(time.getTime()))
    throw new TypeError(`audit record ${plain.id}: time ${plain.time} is not a date`);
  plain.time = time.toISOString();
  return plain;
}

/** What JSON.parse(JSON.stringify(value)) gives, with strings cleaned, in one walk. */
function toPlain(value: unknown): unknown {
  if (typeof value === 'string') return cleanString(value);
  // JSON has no -0, NaN or Infinity.
  if (typeof value === 'number') return Number.isFinite(value) ? value || 0 : null;
  if (typeof value !== 'object' || value === null)
    return typeof value === 'boolean' || value === null ? value : undefined;
  const json = (value as { toJSON?: unknown }).toJSON;
  if (typeof json === 'function') return toPlain(json.call(value));
  if (Array.isArray(value)) return value.map((item) => toPlain(item) ?? null);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const member = toPlain((value as Record<string, unknown>)[key]);
    if (member === undefined) continue;
    // A `__proto__` key (JSON.parse makes it an own property) must stay one, not become the prototype.
    if (key === '__proto__')
      Object.defineProperty(out, key, {
        value: member,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else out[cleanString(key)] = member;
  }
  return out;
}

function cleanString(text: string): string {
  // Fast path: almost every string is already clean.
  return text.isWellFormed() && !text.includes('\u0000')
    ? text
    : text.toWellFormed().replaceAll('\u0000', '\uFFFD');
}

/**
 * Chains `records` (already normalized, none kept yet) onto the heads of their instances, in
 * order. `heads` is updated to the new heads; instances it lacks start at EMPTY_HEAD. When
 * `canonical` is given, each record's canonical JSON (what was hashed) is pushed to it: a
 * store keeps that text as the record's JSON rather than serializing the record again.
 */
export function chainRecords(
  records: readonly AuditRecord[],
  heads: Map<string, ChainHead>,
  canonical?: string[],
): StoredRecord[] {
  const out: StoredRecord[] = [];
  for (const record of records) {
    const head = heads.get(record.instance) ?? EMPTY_HEAD;
    const linked = { ...record, seq: head.seq + 1, prevHash: head.hash };
    const text = canonicalJson(linked);
    const stored: StoredRecord = { ...linked, hash: sha256(linked.prevHash, text) };
    heads.set(record.instance, { seq: stored.seq, hash: stored.hash });
    canonical?.push(text);
    out.push(stored);
  }
  return out;
}

/** Normalizes a batch and drops records whose id is in `kept` or repeated within the batch. */
export function freshRecords(records: readonly AuditRecord[], kept: ReadonlySet<string>): AuditRecord[] {
  const seen = new Set<string>();
  const out: AuditRecord[] = [];
  for (const record of records) {
    if (kept.has(record.id) || seen.has(record.id)) continue;
    seen.add(record.id);
    out.push(normalizeRecord(record));
  }
  return out;
}
