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
import { COMPACT_RULES, DISCUSSION, INJECTION_RULES, type InjectionRule } from './injection-rules.ts';
import { compact, type Normalized, normalize, originalSpan } from './normalize.ts';
import { byPosition, combineByKind, dropOverlaps } from './spans.ts';
import type { Finding, Scan } from './types.ts';

export const INJECTION_THRESHOLD = 0.5;

export function scanInjection(text: string): Scan {
  const n = normalize(text);
  const findings: Finding[] = [];
  ruleFindings(n, findings);
  compactFindings(n, findings);
  linkFindings(n, findings);
  encodedFindings(text, findings);
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
  const findings: Finding[] = [];
  ruleFindings(n, findings);
  compactFindings(n, findings);
  linkFindings(n, findings);
  return combineByKind(findings);
}

const QUOTES = '"\'`“”‘’«»„‹›「」『』';
const NEGATION =
  /(?:\bdo not|\bdon't|\bnever|\bmust not|\bshould not|\bcannot|\bcan't|\bwon't|\brefuse to|\bnot to|\bnot)\s{0,2}$/;

/** How much a match at [s, e) of the normalized text is worth relative to its rule's weight. */
function discount(n: Normalized, s: number, e: number, negatable: boolean): number {
  let factor = 1;
  const t = n.text;
  if (negatable && NEGATION.test(t.slice(Math.max(0, s - 16), s))) factor *= 0.2;
  let q = s - 1;
  while (q >= 0 && q > s - 4 && (t[q] === ' ' || t[q] === '(' || t[q] === ':')) q--;
  const quoted = q >= 0 && QUOTES.includes(t[q]!);
  if (quoted && DISCUSSION.test(t.slice(Math.max(0, s - 300), Math.min(t.length, e + 300)))) factor *= 0.3;
  return factor;
}

function push(out: Finding[], n: Normalized, kind: string, s: number, e: number, score: number): void {
  const [start, end] = originalSpan(n, s, e);
  if (end > start) out.push({ detector: 'injection', kind, start, end, score });
}

function ruleFindings(n: Normalized, out: Finding[]): void {
  for (const rule of INJECTION_RULES) runRule(rule, n, out);
}

function runRule(rule: InjectionRule, n: Normalized, out: Finding[]): void {
  rule.pattern.lastIndex = 0;
  for (const m of n.text.matchAll(rule.pattern)) {
    const s = m.index;
    const e = s + m[0].length;
    if (e === s) continue;
    const score = rule.weight * discount(n, s, e, rule.negatable === true);
    if (score > 0.05) push(out, n, rule.kind, s, e, score);
  }
}

function rot13(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += String.fromCharCode(((s.charCodeAt(i) - 97 + 13) % 26) + 97);
  return out;
}

function compactFindings(n: Normalized, out: Finding[]): void {
  const c = compact(n.text);
  if (c.text.length < 12) return;
  const reversed = [...c.text].reverse().join('');
  const forms: Array<[string, (i: number) => number]> = [
    [c.text, (i) => i],
    [reversed, (i) => c.text.length - 1 - i],
    [rot13(c.text), (i) => i],
  ];
  for (const rule of COMPACT_RULES) {
    for (const [form, index] of forms) {
      rule.pattern.lastIndex = 0;
      for (const m of form.matchAll(rule.pattern)) {
        const a = index(m.index);
        const b = index(m.index + m[0].length - 1);
        const s = c.at[Math.min(a, b)]!;
        const e = c.at[Math.max(a, b)]! + 1;
        // Only for phrases the plain rules missed (split ones); where a plain rule matched, its
        // verdict (negated, quoted) stands.
        const [os, oe] = originalSpan(n, s, e);
        if (out.some((f) => f.kind === rule.kind && f.start < oe && os < f.end)) continue;
        push(out, n, rule.kind, s, e, rule.weight * discount(n, s, e, false));
      }
    }
  }
}

// ---- links and images that carry data out ----------------------------------------------------

const MD_IMAGE = /!\[[^\]\n]{0,300}\]\(\s{0,2}(https?:\/\/[^)\s]{1,2000})/g;
const MD_LINK = /(?<!!)\[[^\]\n]{0,300}\]\(\s{0,2}(https?:\/\/[^)\s]{1,2000})/g;
const HTML_IMG = /<img\b[^>\n]{0,300}?\bsrc\s{0,2}=\s{0,2}["']?(https?:\/\/[^"'\s>]{1,2000})/g;
const BARE_URL = /https?:\/\/[^\s)"'<>\]]{1,2000}/g;
const PLACEHOLDER =
  /\{[^}\s]{1,60}\}|\[[a-z_ -]{2,40}\]|<[a-z_ -]{2,40}>|\$\{?[a-z_]{2,40}|%s\b|\binsert[_-]|_here\b|your[_-]|\{\{/;
const SENSITIVE_SLOT =
  /[{<[$](?:[a-z_ -]{0,30})(?:conversation|history|chat|secret|key|token|password|credential|summary|messages?|email|ssn|user_?info|context|memory|private|data|response|answer|prompt|file|contents?)/;
const DATA_PARAM =
  /[?&](?:data|d|q|secret|token|key|pw|pass|password|history|conversation|chat|msg|message|content|text|info|payload|exfil|leak|c|p|s|x|v)=([^&#]{24,})/;

function urlSignal(url: string, where: 'image' | 'link' | 'bare'): number {
  if (PLACEHOLDER.test(url)) {
    if (where === 'image') return 0.8;
    if (SENSITIVE_SLOT.test(url)) return where === 'link' ? 0.7 : 0.55;
    return 0;
  }
  const data = DATA_PARAM.exec(url);
  if (data && where !== 'bare') {
    const v = data[1]!;
    // An encoded payload, not a short search term: long, with few separators between words.
    const encoded = /%[0-9a-f]{2}/.test(v) || /^[a-z0-9+/=_-]{24,}$/.test(v);
    if (encoded) return where === 'image' ? 0.6 : 0.4;
  }
  return 0;
}

function linkFindings(n: Normalized, out: Finding[]): void {
  const t = n.text;
  if (!t.includes('http')) return;
  const seen = new Set<number>();
  const patterns: Array<[RegExp, 'image' | 'link']> = [
    [MD_IMAGE, 'image'],
    [HTML_IMG, 'image'],
    [MD_LINK, 'link'],
  ];
  for (const [re, where] of patterns) {
    re.lastIndex = 0;
    for (const m of t.matchAll(re)) {
      const url = m[1]!;
      const at = m.index + m[0].length - url.length;
      seen.add(at);
      const score = urlSignal(url, where);
      if (score > 0)
        push(out, n, 'exfiltration', m.index, m.index + m[0].length, score * discount(n, m.index, at, false));
    }
  }
  BARE_URL.lastIndex = 0;
  for (const m of t.matchAll(BARE_URL)) {
    if (seen.has(m.index)) continue;
    const score = urlSignal(m[0], 'bare');
    if (score > 0)
      push(
        out,
        n,
        'exfiltration',
        m.index,
        m.index + m[0].length,
        score * discount(n, m.index, m.index + m[0].length, false),
      );
  }
}

// ---- encoded payloads -----------------------------------------------------------------------

const BLOB = /[A-Za-z0-9+/_-]{24,}={0,2}/g;
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

function encodedFindings(text: string, out: Finding[]): void {
  let budget = DECODE_BUDGET;
  BLOB.lastIndex = 0;
  for (const m of text.matchAll(BLOB)) {
    const blob = m[0];
    if (budget <= 0) break;
    budget -= blob.length;
    let decoded = '';
    if (/^[0-9a-fA-F]+$/.test(blob) && blob.length % 2 === 0)
      decoded = Buffer.from(blob, 'hex').toString('utf8');
    else decoded = Buffer.from(blob.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    if (!printable(decoded)) continue;
    const score = plainScore(decoded);
    if (score >= INJECTION_THRESHOLD) {
      out.push({
        detector: 'injection',
        kind: 'encoded-instruction',
        start: m.index,
        end: m.index + blob.length,
        score: 0.85,
      });
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
