// What of a call's arguments goes into its audit record: values under sensitive keys (at any
// depth, matched case-insensitively by glob) and matches of configured patterns are replaced,
// and the result is cut to a size cap. Built once per config; applied off nothing but the
// arguments, which are never modified.
import { globToRegExp } from '../route/names.ts';

export const REDACTED = '[REDACTED]';
const MAX_DEPTH = 32;

export interface RedactOptions {
  keys: readonly string[];
  patterns: readonly string[];
  maxArgumentBytes: number;
}

export type Redactor = (args: unknown) => unknown;

export function createRedactor(options: RedactOptions): Redactor {
  const keys = options.keys.map((k) => new RegExp(globToRegExp(k).source, 'is'));
  // Validated here, at config load, so a bad pattern is a config error and never a request error.
  const patterns = options.patterns.map((p) => new RegExp(p, 'g'));
  const sensitive = (key: string) => keys.some((k) => k.test(key));
  const clean = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') {
      let out = value;
      for (const p of patterns) out = out.replace(p, REDACTED);
      return out;
    }
    if (value === null || typeof value !== 'object') return value;
    if (depth >= MAX_DEPTH) return '[TOO DEEP]';
    if (Array.isArray(value)) return value.map((v) => clean(v, depth + 1));
    // Keys in sorted order, as the record's canonical JSON has them (audit/prepared.ts).
    const out: Record<string, unknown> = {};
    const entries = Object.entries(value);
    if (!sortedEntries(entries)) entries.sort(([a], [b]) => (a < b ? -1 : 1));
    for (const [k, v] of entries) {
      const kept = sensitive(k) ? REDACTED : clean(v, depth + 1);
      // A `__proto__` key (JSON.parse makes it an own property) stays a key, not the prototype.
      if (k === '__proto__')
        Object.defineProperty(out, k, { value: kept, enumerable: true, writable: true, configurable: true });
      else out[k] = kept;
    }
    return out;
  };
  return (args) => {
    if (args === undefined) return undefined;
    const cleaned = clean(args, 0);
    const text = JSON.stringify(cleaned) ?? '';
    // A UTF-16 code unit is at most 3 bytes of UTF-8: most arguments fit without counting.
    if (text.length * 3 <= options.maxArgumentBytes || Buffer.byteLength(text) <= options.maxArgumentBytes)
      return cleaned;
    // Cut as text, so the record stays small and still shows how the arguments began.
    return { truncated: true, bytes: Buffer.byteLength(text), head: cutUtf8(text, options.maxArgumentBytes) };
  };
}

function sortedEntries(entries: readonly [string, unknown][]): boolean {
  for (let i = 1; i < entries.length; i++) if (!(entries[i - 1]![0] < entries[i]![0])) return false;
  return true;
}

/** The longest prefix of `text` that fits in `bytes` bytes of UTF-8, never splitting a character. */
function cutUtf8(text: string, bytes: number): string {
  const buffer = Buffer.from(text);
  let end = Math.min(bytes, buffer.length);
  while (end > 0 && (buffer[end]! & 0xc0) === 0x80) end--;
  return buffer.subarray(0, end).toString();
}
