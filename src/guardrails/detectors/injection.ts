// Prompt injection in text a tool returns (results, resource contents): instruction overrides,
// role and delimiter spoofing, coercion to call tools or run commands, exfiltration through links
// and images, secrecy from the user. The text is normalized first (normalize.ts) so hidden
// characters, homoglyphs, leetspeak, accents and odd spacing do not change what the rules see;
// letter-only, reversed and ROT13 forms catch split and scrambled phrases; base64 and hex blobs and
// Unicode-tag text are decoded and scanned once more.
//
// Score: noisy-OR over kinds of the best (discounted) match of each kind. A match is discounted
// when it is quoted in a text that talks about attacks (an article, a test), or negated ("never
// ignore the system prompt"). INJECTION_THRESHOLD decides.

import { linkSignals } from './injection-links.ts';
import {
  COMPACT_RULES,
  DISCUSSION,
  DISCUSSION_STRONG,
  INJECTION_RULES,
  type InjectionRule,
} from './injection-rules.ts';
import { mayMatch, type Survey, survey } from './injection-survey.ts';
import { type Normalized, normalize, originalSpan } from './normalize.ts';
import { byPosition, combineByKind, dropOverlaps, eachMatch } from './spans.ts';
import type { Finding, Scan } from './types.ts';

export const INJECTION_THRESHOLD = 0.5;

export function scanInjection(text: string): Scan {
  const n = normalize(text);
  const s = survey(n, INJECTION_RULES);
  const findings: Finding[] = [];
  ruleFindings(n, s, findings);
  compactFindings(n, s, findings);
  linkFindings(n, findings);
  encodedFindings(text, n, s, findings);
  hiddenTextFindings(n, findings);
  const kept = bestPerKind(findings);
  return { findings: kept, score: combineByKind(kept) };
}

/** Within each kind, overlapping matches (several rules on one phrase) become the best one. */
function bestPerKind(findings: Finding[]): Finding[] {
  const kinds = new Map<string, Finding[]>();
  for (const f of findings) {
    const list = kinds.get(f.kind);
    if (list) list.push(f);
    else kinds.set(f.kind, [f]);
  }
  const out: Finding[] = [];
  for (const list of kinds.values()) out.push(...dropOverlaps(list));
  return out.sort(byPosition);
}

/** Score of text decoded from somewhere else (base64, tags): the plain rules only, no decoding. */
function plainScore(text: string): number {
  const n = normalize(text);
  const s = survey(n, INJECTION_RULES);
  const findings: Finding[] = [];
  ruleFindings(n, s, findings);
  compactFindings(n, s, findings);
  linkFindings(n, findings);
  return combineByKind(findings);
}

const QUOTES = '"\'`“”‘’«»„‹›「」『』';
const PAIRS: Array<[string, string]> = [
  ['“', '”'],
  ['„', '“'],
  ['«', '»'],
  ['‹', '›'],
  ['「', '」'],
  ['『', '』'],
];
const NEGATION =
  /(?:\bdo not|\bdon't|\bnever|\bmust not|\bshould not|\bcannot|\bcan't|\bwon't|\brefuse to|\bnot to|\bnot)\s{0,2}$/;

/** Whether [s, …) of t sits inside quotation marks or backticks on its line. */
function isQuoted(t: string, s: number): boolean {
  let q = s - 1;
  while (q >= 0 && q > s - 4 && (t[q] === ' ' || t[q] === '(' || t[q] === ':')) q--;
  if (q >= 0 && QUOTES.includes(t[q]!)) return true;
  // The line up to the match, at most 300 characters back (bounded, so many matches stay linear).
  const back = t.slice(Math.max(0, s - 300), s);
  const before = back.slice(back.lastIndexOf('\n') + 1);
  let dq = 0;
  let bt = 0;
  for (let i = 0; i < before.length; i++) {
    if (before[i] === '"') dq++;
    else if (before[i] === '`') bt++;
  }
  if (dq % 2 === 1 || bt % 2 === 1) return true;
  for (const [open, close] of PAIRS) {
    const o = before.lastIndexOf(open);
    if (o !== -1 && before.indexOf(close, o + 1) === -1) return true;
  }
  return false;
}

/** Distinct strong discussion words in the window. */
function discussionStrength(window: string): number {
  const seen = new Set<string>();
  for (const m of window.matchAll(DISCUSSION_STRONG)) seen.add(m[0]);
  return seen.size;
}

/**
 * How much a match at [s, e) of the normalized text is worth relative to its rule's weight:
 * less when negated ("never ignore …"), when quoted in a text that talks about attacks or is
 * code, and when not quoted but in a text that plainly writes about attacks.
 */
function discount(n: Normalized, s: number, e: number, negatable: boolean): number {
  let factor = 1;
  const t = n.text;
  if (negatable && NEGATION.test(t.slice(Math.max(0, s - 16), s))) factor *= 0.2;
  const window = t.slice(Math.max(0, s - 300), Math.min(t.length, e + 300));
  if (isQuoted(t, s)) {
    if (DISCUSSION.test(window)) factor *= 0.3;
  } else if (discussionStrength(window) >= 2) factor *= 0.5;
  return factor;
}

function push(out: Finding[], n: Normalized, kind: string, s: number, e: number, score: number): void {
  const [start, end] = originalSpan(n, s, e);
  if (end > start) out.push({ detector: 'injection', kind, start, end, score });
}

function ruleFindings(n: Normalized, s: Survey, out: Finding[]): void {
  for (const rule of INJECTION_RULES) runRule(rule, n, out, s.heads);
}

function runRule(rule: InjectionRule, n: Normalized, out: Finding[], heads: Set<string>): void {
  if (!mayMatch(rule, n.text, heads)) return;
  eachMatch(rule.pattern, n.text, (m) => {
    const s = m.index;
    const e = s + m[0].length;
    const score = rule.weight * discount(n, s, e, rule.negatable === true);
    if (score > 0.05) push(out, n, rule.kind, s, e, score);
  });
}

function rot13(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += String.fromCharCode(((s.charCodeAt(i) - 97 + 13) % 26) + 97);
  return out;
}

/** Words of two or more letters separated by single spaces. */
function normallySpaced(span: string): boolean {
  return span.split(' ').every((w) => w.length >= 2 && /^[a-z']+$/.test(w));
}

/** Stems the compact rules need, as they read forward, reversed and in ROT13. */
const COMPACT_STEMS = [
  'ignore',
  'disregard',
  'forget',
  'bypass',
  'override',
  'donot',
  'dont',
  'never',
  'imstart',
  'endoftext',
];
const STEMS_REVERSED = COMPACT_STEMS.map((x) => [...x].reverse().join(''));
const STEMS_ROT13 = COMPACT_STEMS.map(rot13);
const ANY_STEM = new RegExp([...COMPACT_STEMS, ...STEMS_REVERSED, ...STEMS_ROT13].join('|'));

/** Whether any finding of `sorted` (by start, with running max of ends) overlaps [s, e). */
function overlapsAny(starts: number[], maxEnds: number[], s: number, e: number): boolean {
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid]! < e) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && maxEnds[lo - 1]! > s;
}

function compactFindings(n: Normalized, sv: Survey, out: Finding[]): void {
  const c = sv.compact;
  if (c.text.length < 12) return;
  if (!ANY_STEM.test(c.text)) return;
  const has = (stems: string[]) => stems.some((x) => c.text.includes(x));
  const forms: Array<[string, (i: number) => number, boolean]> = [];
  if (has(COMPACT_STEMS)) forms.push([c.text, (i) => i, true]);
  if (has(STEMS_REVERSED)) forms.push([[...c.text].reverse().join(''), (i) => c.text.length - 1 - i, false]);
  if (has(STEMS_ROT13)) forms.push([rot13(c.text), (i) => i, false]);
  if (forms.length === 0) return;
  for (const rule of COMPACT_RULES) {
    // Where a plain rule already matched, its verdict (negated, quoted) stands.
    const plain = out.filter((f) => f.kind === rule.kind).sort((a, b) => a.start - b.start);
    const starts = plain.map((f) => f.start);
    const maxEnds: number[] = [];
    for (const f of plain) maxEnds.push(Math.max(f.end, maxEnds[maxEnds.length - 1] ?? 0));
    for (const [form, index, forward] of forms) {
      eachMatch(rule.pattern, form, (m) => {
        const a = index(m.index);
        const b = index(m.index + m[0].length - 1);
        const s = c.at[Math.min(a, b)]!;
        const e = c.at[Math.max(a, b)]! + 1;
        // Forward text already in normally spaced words was the plain rules' to judge.
        if (forward && normallySpaced(n.text.slice(s, e))) return;
        const [os, oe] = originalSpan(n, s, e);
        if (overlapsAny(starts, maxEnds, os, oe)) return;
        push(out, n, rule.kind, s, e, rule.weight * discount(n, s, e, false));
      });
    }
  }
}

/** Links and images that carry data out (injection-links.ts), discounted like any match. */
function linkFindings(n: Normalized, out: Finding[]): void {
  for (const l of linkSignals(n.text)) {
    push(out, n, 'exfiltration', l.start, l.end, l.score * discount(n, l.start, l.urlAt, false));
  }
}

// ---- encoded payloads -----------------------------------------------------------------------

const DECODE_BUDGET = 1 << 20;

function printable(s: string): boolean {
  if (s.length < 12 || !s.includes(' ')) return false;
  let ok = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 32 && c < 127) || c === 10 || c === 13 || c === 9 || c >= 0xa0) ok++;
  }
  return ok / s.length >= 0.95 && !s.includes('\uFFFD');
}

function isBlobChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) ||
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    c === 43 ||
    c === 47 ||
    c === 95 ||
    c === 45
  );
}

/** Runs of 24+ base64 / base64url / hex characters, decoded once and scanned with the plain rules. */
function encodedFindings(text: string, n: Normalized, sv: Survey, out: Finding[]): void {
  let budget = DECODE_BUDGET;
  for (let k = 0; k < sv.blobs.length && budget > 0; k += 2) {
    // The original characters (case matters to base64), without any hidden ones normalize dropped.
    const [start, runEnd] = originalSpan(n, sv.blobs[k]!, sv.blobs[k + 1]!);
    let end = runEnd;
    while (end < text.length && end - runEnd < 2 && text.charCodeAt(end) === 61) end++;
    let blob = '';
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      if (isBlobChar(c) || c === 61) blob += text[i];
    }
    budget -= blob.length;
    let decoded: string;
    if (/^[0-9a-fA-F]+$/.test(blob) && blob.length % 2 === 0)
      decoded = Buffer.from(blob, 'hex').toString('utf8');
    else decoded = Buffer.from(blob.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    if (!printable(decoded)) continue;
    if (plainScore(decoded) >= INJECTION_THRESHOLD) {
      out.push({ detector: 'injection', kind: 'encoded-instruction', start, end, score: 0.85 });
    }
  }
}

/** Text spelled in Unicode tag characters is invisible to the person; an instruction in it is an attack. */
function hiddenTextFindings(n: Normalized, out: Finding[]): void {
  for (const h of n.hidden) {
    if (h.decoded === undefined || h.decoded.length < 8) continue;
    const score = plainScore(h.decoded);
    if (score >= 0.3)
      out.push({ detector: 'injection', kind: 'hidden-instruction', start: h.start, end: h.end, score: 0.9 });
  }
}
