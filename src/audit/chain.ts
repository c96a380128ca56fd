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
import { hash as oneShotHash } from 'node:crypto';
import type { AuditRecord, StoredRecord } from './record.ts';

export const GENESIS = '0'.repeat(64);

/** Where a chain ends: the next record gets `seq + 1` and `prevHash = hash`. */
export interface ChainHead {
  seq: number;
  hash: string;
}

export const EMPTY_HEAD: ChainHead = { seq: 0, hash: GENESIS };

export function canonicalJson(value: unknown): string {
  // Fast path: a plain JSON value whose keys are already in order at every depth serializes the
  // same through the native JSON.stringify, several times faster. Normalized records
  // (normalizeRecord, chainRecords) and records read back from a store are built that way.
  return inCanonicalOrder(value, 0) ? JSON.stringify(value) : sortedJson(value);
}

function sortedJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => sortedJson(item ?? null)).join(',')}]`;
  const parts: string[] = [];
  const keys = Object.keys(value);
  if (!sorted(keys)) keys.sort();
  for (const key of keys) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) parts.push(`${JSON.stringify(key)}:${sortedJson(member)}`);
  }
  return `{${parts.join(',')}}`;
}

/** Deeper than this is left to sortedJson, which needs no second walk. */
const FAST_DEPTH = 64;

/**
 * Whether JSON.stringify(value) is its canonical JSON: only strings, numbers, booleans, null,
 * dense arrays and plain objects (no toJSON to call, nothing JSON.stringify would drop or turn
 * into null where sortedJson does otherwise), each object's keys strictly increasing in UTF-16
 * order as JSON.stringify enumerates them (integer-like keys, which objects list first, fail this
 * unless they happen to be in order).
 */
export function inCanonicalOrder(value: unknown, depth = 0): boolean {
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return true;
    case 'object':
      break;
    default:
      return false;
  }
  if (depth > FAST_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      // A hole or undefined: sortedJson and JSON.stringify both write null, but a hole not.
      if (item === undefined || !inCanonicalOrder(item, depth + 1)) return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const keys = Object.keys(value);
  if (!sorted(keys)) return false;
  for (const key of keys) {
    const member = (value as Record<string, unknown>)[key];
    if (member === undefined || !inCanonicalOrder(member, depth + 1)) return false;
  }
  return true;
}

/** The hash a record must carry: covers everything in it but `hash`. */
export function recordHash(record: Omit<StoredRecord, 'hash'> & { hash?: string }): string {
  const { hash: _, ...rest } = record;
  return sha256(record.prevHash, canonicalJson(rest));
}

// The one-shot hash of the joined text: the same bytes (UTF-8), so the same digest as two
// updates of a Hash object, in about half the time at a record's size.
export const sha256 = (prevHash: string, canonical: string) =>
  oneShotHash('sha256', prevHash + canonical, 'hex');

/**
 * The record as every store keeps it, so a hash computed here is the hash read back from any of
 * them: plain JSON (no `undefined`, no class instances), `time` in `toISOString` form, and
 * strings PostgreSQL's jsonb accepts (U+0000 and unpaired surrogates become U+FFFD). Keys are
 * inserted in sorted order, so the canonical JSON is usually JSON.stringify's (fast path above).
 * Throws for a record that is not one (a bug in its producer): an unparsable time.
 */
export function normalizeRecord(record: AuditRecord): AuditRecord {
  const plain = toPlain(record) as AuditRecord;
  const time = isoTime(plain.time);
  if (time === undefined) throw new TypeError(`audit record ${plain.id}: time ${plain.time} is not a date`);
  plain.time = time;
  return plain;
}

// Records come in time order, many within one millisecond: the last conversion is often the next.
let lastTime = { text: '', iso: '' };

export function isoTime(text: string): string | undefined {
  if (text === lastTime.text) return lastTime.iso;
  const time = new Date(text);
  if (Number.isNaN(time.getTime())) return undefined;
  lastTime = { text, iso: time.toISOString() };
  return lastTime.iso;
}

/** What JSON.parse(JSON.stringify(value)) gives, with strings cleaned, in one walk. */
export function toPlain(value: unknown): unknown {
  if (typeof value === 'string') return cleanString(value);
  // JSON has no -0, NaN or Infinity.
  if (typeof value === 'number') return Number.isFinite(value) ? value || 0 : null;
  if (typeof value !== 'object' || value === null)
    return typeof value === 'boolean' || value === null ? value : undefined;
  const json = (value as { toJSON?: unknown }).toJSON;
  if (typeof json === 'function') return toPlain(json.call(value));
  if (Array.isArray(value)) return value.map((item) => toPlain(item) ?? null);
  const out: Record<string, unknown> = {};
  const keys = Object.keys(value);
  if (!sorted(keys)) keys.sort();
  for (const key of keys) {
    const member = toPlain((value as Record<string, unknown>)[key]);
    if (member !== undefined) setMember(out, cleanString(key), member);
  }
  return out;
}

function sorted(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (!(keys[i - 1]! < keys[i]!)) return false;
  return true;
}

function setMember(out: Record<string, unknown>, key: string, member: unknown): void {
  // A `__proto__` key (JSON.parse makes it an own property) must stay one, not become the prototype.
  if (key === '__proto__')
    Object.defineProperty(out, key, { value: member, enumerable: true, writable: true, configurable: true });
  else out[key] = member;
}

export function cleanString(text: string): string {
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
    const linked = linkedRecord(record, head);
    const text = canonicalJson(linked);
    const stored: StoredRecord = { ...linked, hash: sha256(linked.prevHash, text) };
    heads.set(record.instance, { seq: stored.seq, hash: stored.hash });
    canonical?.push(text);
    out.push(stored);
  }
  return out;
}

/**
 * The record with the chain fields after `head`: `{ ...record, seq, prevHash }` with `prevHash`
 * and `seq` inserted where they sort, so a record whose keys are in order (normalizeRecord's)
 * stays in order, for the fast path.
 */
function linkedRecord(record: AuditRecord, head: ChainHead): Omit<StoredRecord, 'hash'> {
  const out: Record<string, unknown> = {};
  let next = 0; // 0: prevHash not yet placed, 1: seq not yet placed, 2: both placed
  for (const key of Object.keys(record)) {
    if (next === 0 && key >= 'prevHash') {
      out['prevHash'] = head.hash;
      next = 1;
    }
    if (next === 1 && key >= 'seq') {
      out['seq'] = head.seq + 1;
      next = 2;
    }
    if (key !== 'prevHash' && key !== 'seq')
      setMember(out, key, (record as unknown as Record<string, unknown>)[key]);
  }
  if (next === 0) out['prevHash'] = head.hash;
  if (next <= 1) out['seq'] = head.seq + 1;
  return out as unknown as Omit<StoredRecord, 'hash'>;
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
