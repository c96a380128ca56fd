// Personal data in text: email addresses, phone numbers, US SSNs, payment cards, IBANs and IP
// addresses. Each kind has a hand-written scanner that reads every character a bounded number of
// times; shapes are confirmed by checksums (Luhn, mod-97) or ranges, not by length alone.
import { isAlnum, isDigit, isHex, isUpper, isWordLike } from './chars.ts';
import { scanNumbers } from './pii-numbers.ts';
import { dropOverlaps, kindLabel, maskSpans, maxScore } from './spans.ts';
import type { Finding, Scan } from './types.ts';

export const PII_KINDS = ['email', 'phone', 'ssn', 'card', 'iban', 'ipv4', 'ipv6'] as const;
export type PiiKind = (typeof PII_KINDS)[number];

/** Findings at or above this score are personal data; every finding scanPii returns is. */
export const PII_THRESHOLD = 0.5;

export function scanPii(text: string): Scan {
  const found: Finding[] = [];
  scanEmails(text, found);
  scanNumbers(text, found);
  scanIbans(text, found);
  scanIpv4(text, found);
  scanIpv6(text, found);
  const findings = dropOverlaps(found);
  return { findings, score: maxScore(findings) };
}

/**
 * The text with each finding (of `kinds`, default all) replaced by `[EMAIL]`, `[PHONE]`, `[SSN]`,
 * `[CARD]`, `[IBAN]`, `[IPV4]` or `[IPV6]`.
 */
export function maskPii(text: string, kinds?: readonly string[]): string {
  const { findings } = scanPii(text);
  const chosen = kinds ? findings.filter((f) => kinds.includes(f.kind)) : findings;
  return maskSpans(text, chosen, kindLabel);
}

// ---- email ----------------------------------------------------------------------------------

function isLocalChar(c: number): boolean {
  return isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
}

function isLabelChar(c: number): boolean {
  return isAlnum(c) || c === 45;
}

/** Endings that are file types rather than top-level domains: `icon@2x.png`, `lib@beta.js`. */
const NOT_TLD = new Set(
  'png jpg jpeg gif svg webp ico bmp tif tiff js mjs cjs ts tsx jsx json yaml yml toml lock txt css scss html htm xml wasm map md py rs sh'.split(
    ' ',
  ),
);

function scanEmails(text: string, out: Finding[]): void {
  let at = text.indexOf('@');
  while (at !== -1) {
    const next = text.indexOf('@', at + 1);
    // Left: the local part, at most 64 characters, never past the previous '@'.
    let s = at;
    while (s > 0 && at - s < 65 && isLocalChar(text.charCodeAt(s - 1))) s--;
    while (s < at && (text.charCodeAt(s) === 46 || text.charCodeAt(s) === 43 || text.charCodeAt(s) === 45))
      s++;
    const local = text.slice(s, at);
    const localOk =
      local.length > 0 &&
      local.length <= 64 &&
      !(s > 0 && isLocalChar(text.charCodeAt(s - 1))) &&
      !local.endsWith('.') &&
      !local.includes('..') &&
      // userinfo in a URL (ssh://git@host) is not an address
      !(s >= 3 && text.slice(s - 3, s) === '://');
    if (localOk) {
      // Right: labels separated by dots, at most 253 characters, never past the next '@'.
      const limit = Math.min(next === -1 ? text.length : next, at + 254);
      let p = at + 1;
      let labels = 0;
      let lastLabel = '';
      let end = -1;
      for (;;) {
        const ls = p;
        while (p < limit && p - ls < 64 && isLabelChar(text.charCodeAt(p))) p++;
        const label = text.slice(ls, p);
        if (label.length === 0 || label.startsWith('-') || label.endsWith('-')) break;
        labels++;
        lastLabel = label;
        end = p;
        if (p < limit && text.charCodeAt(p) === 46 && isLabelChar(text.charCodeAt(p + 1))) p++;
        else break;
      }
      const tld = lastLabel.toLowerCase();
      const tldOk = (/^[a-z]{2,24}$/.test(tld) || /^xn--[a-z0-9-]{2,59}$/.test(tld)) && !NOT_TLD.has(tld);
      const after = text.charCodeAt(end);
      // user@host:path is scp syntax, not an address
      const scp = after === 58 && end + 1 < text.length && !/\s/.test(text[end + 1]!);
      if (labels >= 2 && tldOk && !scp && !isWordLike(after) && !(after === 45 || after === 95)) {
        out.push({ detector: 'pii', kind: 'email', start: s, end, score: 0.95 });
      }
    }
    at = next;
  }
}

// ---- IBAN -----------------------------------------------------------------------------------

/** Length of the IBAN in each country that issues them (ISO 13616 registry). */
// biome-ignore format: a table reads better packed
const IBAN_LENGTH: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28,
  CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18,
  FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22,
  IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20,
  LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18,
  NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31,
  SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29,
  VA: 22, VG: 24, XK: 20, YE: 30,
};

/** Where an IBAN can start: two capitals and two digits (a fixed-length pattern, found by the engine). */
const IBAN_START = /[A-Z]{2}[0-9]{2}/g;

function scanIbans(text: string, out: Finding[]): void {
  const len = text.length;
  IBAN_START.lastIndex = 0;
  for (let m = IBAN_START.exec(text); m !== null; m = IBAN_START.exec(text)) {
    const i = m.index;
    IBAN_START.lastIndex = i + 1;
    if (i > 0 && isWordLike(text.charCodeAt(i - 1))) continue;
    const want = IBAN_LENGTH[text.slice(i, i + 2)];
    if (!want) continue;
    // Read `want` alphanumerics, allowing one space between groups (printed form DE89 3704 …).
    let p = i;
    let got = '';
    while (p < len && got.length < want) {
      const ch = text.charCodeAt(p);
      if (isDigit(ch) || isUpper(ch)) {
        got += text[p];
        p++;
      } else if (ch === 32 && got.length % 4 === 0 && got.length > 0 && isAlnum(text.charCodeAt(p + 1))) p++;
      else break;
    }
    if (got.length !== want || isAlnum(text.charCodeAt(p))) continue;
    if (mod97(got.slice(4) + got.slice(0, 4)) !== 1) continue;
    out.push({ detector: 'pii', kind: 'iban', start: i, end: p, score: 0.95 });
    IBAN_START.lastIndex = p;
  }
}

function mod97(s: string): number {
  let r = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = isDigit(c) ? c - 48 : c - 55;
    r = v >= 10 ? (r * 100 + v) % 97 : (r * 10 + v) % 97;
  }
  return r;
}

// ---- IPv4 -----------------------------------------------------------------------------------

/** A dotted quad right after a word about versions is a version: "appVersion to 1.2.3.4", "v 1.2.3.4". */
const VERSION_WORD =
  /(?:version|release|build|firmware|\bv|\bver|\brev|\br|\bnode|\bpython|\bchrome)\w{0,12}[\s:=]{0,3}(?:(?:to|from|is|was|of|at|=)\s{1,3})?$/i;
/\b(?:version|ver|release|build|rev|revision|firmware|fw|v|r|node|python|ruby|java|go|chrome|os)[\s:=]*$/i;

/** Where a dotted quad can start: a digit, 1–3 digits and a dot (fixed bound, found by the engine). */
const IPV4_START = /[0-9]{1,3}\./g;

function scanIpv4(text: string, out: Finding[]): void {
  const len = text.length;
  IPV4_START.lastIndex = 0;
  for (let m = IPV4_START.exec(text); m !== null; m = IPV4_START.exec(text)) {
    let i = m.index;
    const prev = text.charCodeAt(i - 1);
    if (i > 0 && (isWordLike(prev) || prev === 46 || prev === 45 || prev === 95)) continue;
    const octets: number[] = [];
    let p = i;
    for (let k = 0; k < 4; k++) {
      const s = p;
      while (p < len && p - s < 4 && isDigit(text.charCodeAt(p))) p++;
      const n = p - s;
      if (n === 0 || n > 3 || (n > 1 && text.charCodeAt(s) === 48)) break;
      const v = Number(text.slice(s, p));
      if (v > 255) break;
      octets.push(v);
      if (k < 3) {
        if (text.charCodeAt(p) !== 46) break;
        p++;
      }
    }
    if (octets.length !== 4) {
      // Jump past this run of digits and dots; nothing inside it starts an address.
      while (i + 1 < len && (isDigit(text.charCodeAt(i + 1)) || text.charCodeAt(i + 1) === 46)) i++;
      IPV4_START.lastIndex = i + 1;
      continue;
    }
    const after = text.charCodeAt(p);
    const continues =
      isWordLike(after) ||
      after === 95 ||
      ((after === 46 || after === 45) && isDigit(text.charCodeAt(p + 1)));
    if (!continues && !VERSION_WORD.test(text.slice(Math.max(0, i - 32), i))) {
      const score = ipv4Score(octets);
      if (score > 0) out.push({ detector: 'pii', kind: 'ipv4', start: i, end: p, score });
    }
    IPV4_START.lastIndex = p;
  }
}

/** 0 for addresses that identify nobody (loopback, unspecified, broadcast, multicast, masks). */
function ipv4Score(o: number[]): number {
  const [a, b] = [o[0]!, o[1]!];
  if (a === 0 || a === 127 || a >= 224) return 0;
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 0.6;
  if ((a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254)) return 0.6;
  return 0.9;
}

// ---- IPv6 -----------------------------------------------------------------------------------

function scanIpv6(text: string, out: Finding[]): void {
  const len = text.length;
  let from = 0;
  for (;;) {
    const colon = text.indexOf(':', from);
    if (colon === -1) return;
    // Back up over the hex digits before the first colon (at most 4), then read the run forward.
    let s = colon;
    while (s > 0 && colon - s < 5 && isHex(text.charCodeAt(s - 1))) s--;
    const prev = text.charCodeAt(s - 1);
    if (s > 0 && (isWordLike(prev) || prev === 58 || prev === 46)) {
      from = colon + 1;
      continue;
    }
    let p = s;
    while (
      p < len &&
      p - s <= 45 &&
      (isHex(text.charCodeAt(p)) || text.charCodeAt(p) === 58 || text.charCodeAt(p) === 46)
    )
      p++;
    // Trailing dots and single colons belong to the sentence, not the address.
    let e = p;
    while (
      e > s &&
      (text.charCodeAt(e - 1) === 46 || (text.charCodeAt(e - 1) === 58 && text.charCodeAt(e - 2) !== 58))
    )
      e--;
    const candidate = text.slice(s, e);
    const after = text.charCodeAt(e);
    const score = p - s <= 45 && !isWordLike(after) ? ipv6Score(candidate) : 0;
    if (score > 0) out.push({ detector: 'pii', kind: 'ipv6', start: s, end: e, score });
    from = Math.max(colon + 1, p);
  }
}

function ipv6Score(s: string): number {
  const halves = s.split('::');
  if (halves.length > 2) return 0;
  const parts = (h: string) => (h === '' ? [] : h.split(':'));
  const head = parts(halves[0]!);
  const tail = halves.length === 2 ? parts(halves[1]!) : [];
  let groups = head.length + tail.length;
  const last = (tail.length ? tail : head).at(-1);
  if (last?.includes('.')) {
    if (!/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(last)) return 0;
    groups += 1; // an embedded IPv4 address fills two groups
  }
  for (const g of [...head, ...tail]) {
    if (g.includes('.')) continue;
    if (g.length < 1 || g.length > 4 || !/^[0-9a-fA-F]+$/.test(g)) return 0;
  }
  if (halves.length === 1 ? groups !== 8 : groups > 7 || groups < 2) return 0;
  // Code (A::B, dead::beef) and clock times have no digits or too few groups; addresses do.
  if (!/\d/.test(s)) return 0;
  if (!/[a-fA-F]/.test(s) && halves.length === 2 && groups < 3) return 0;
  const first = Number.parseInt(head[0] ?? '0', 16);
  if (head.length === 0 && tail.length <= 1) return 0; // ::, ::1
  if ((first & 0xffc0) === 0xfe80 || (first & 0xfe00) === 0xfc00) return 0.6;
  if ((first & 0xff00) === 0xff00) return 0; // multicast
  return 0.85;
}
