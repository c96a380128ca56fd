// Phone numbers, US SSNs and payment cards: all are runs of digit groups, so one scanner reads each
// run once (digits and short separators, at most MAX_GROUPS groups) and then tries the known shapes
// on sub-runs of it. Everything that decides is a shape and a checksum, never a bare digit count,
// which is what keeps dates, versions, ids and hashes out.
import { isDigit, isWordLike } from './chars.ts';
import type { Finding } from './types.ts';

const MAX_GROUPS = 8;
const MAX_GROUP_DIGITS = 19;

interface Run {
  plus: boolean;
  /** [start, end) of each digit group. */
  groups: Array<[number, number]>;
  /** Separator text after each group but the last. */
  seps: string[];
  start: number;
}

function isSepChar(c: number): boolean {
  return c === 32 || c === 45 || c === 46 || c === 40 || c === 41 || c === 0xa0;
}

/** Characters that, right before a run, mean it is part of something else (a path, an id, a sum). */
function blocksLeft(c: number): boolean {
  return isWordLike(c) || '.-/\\@#$€£%&+_'.includes(String.fromCharCode(c));
}

function readRun(text: string, i: number): Run | undefined {
  let p = i;
  let plus = false;
  if (text.charCodeAt(p) === 43) {
    plus = true;
    p++;
  }
  const groups: Array<[number, number]> = [];
  const seps: string[] = [];
  let lead = '';
  if (text.charCodeAt(p) === 40) {
    lead = '(';
    p++;
  }
  for (;;) {
    const g = p;
    while (p < text.length && isDigit(text.charCodeAt(p)) && p - g <= MAX_GROUP_DIGITS) p++;
    if (p === g) break;
    if (p - g > MAX_GROUP_DIGITS) return undefined;
    groups.push([g, p]);
    if (groups.length >= MAX_GROUPS) break;
    let q = p;
    while (q < text.length && q - p < 3 && isSepChar(text.charCodeAt(q))) q++;
    if (q === p || !isDigit(text.charCodeAt(q))) break;
    seps.push(text.slice(p, q));
    p = q;
  }
  if (groups.length === 0) return undefined;
  if (lead) seps.unshift(lead);
  else seps.unshift('');
  return { plus, groups, seps, start: i };
}

function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Issuer prefixes and the lengths each brand issues (IIN ranges as published by the schemes). */
function cardBrandFits(d: string): boolean {
  const n = d.length;
  const p2 = Number(d.slice(0, 2));
  const p3 = Number(d.slice(0, 3));
  const p4 = Number(d.slice(0, 4));
  const p6 = Number(d.slice(0, 6));
  if (d[0] === '4') return n === 13 || n === 16 || n === 19; // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16; // Mastercard
  if (p2 === 34 || p2 === 37) return n === 15; // American Express
  if (p4 === 6011 || (p3 >= 644 && p3 <= 649) || p2 === 65 || (p6 >= 622126 && p6 <= 622925)) {
    return n >= 16 && n <= 19; // Discover
  }
  if (p2 === 62) return n >= 16 && n <= 19; // UnionPay
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19; // JCB
  if ((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) return n >= 14 && n <= 19; // Diners
  if (p2 === 50 || (p2 >= 56 && p2 <= 69)) return n >= 12 && n <= 19; // Maestro
  if (p4 === 2200 || p4 === 2201 || p4 === 2202 || p4 === 2203 || p4 === 2204) return n === 16; // Mir
  return false;
}

function cardGroupingFits(lens: number[]): boolean {
  if (lens.length === 1) return true;
  const key = lens.join(',');
  if (key === '4,6,5' || key === '4,6,4') return true;
  for (let i = 0; i < lens.length - 1; i++) if (lens[i] !== 4) return false;
  const last = lens[lens.length - 1]!;
  return last >= 1 && last <= 4;
}

function validSsn(area: number, group: number, serial: number): boolean {
  if (area === 0 || area === 666 || area >= 900) return false;
  if (group === 0 || serial === 0) return false;
  // Numbers published in advertising and never valid.
  if (area === 78 && group === 5 && serial === 1120) return false;
  if (area === 219 && group === 9 && serial === 9999) return false;
  return true;
}

function nanpArea(d: string, at: number): boolean {
  const a = d.charCodeAt(at) - 48;
  // N11 codes (211, 911, …) are service codes, never area codes or exchanges.
  return a >= 2 && !(d[at + 1] === '1' && d[at + 2] === '1');
}

const CONTEXT_PHONE =
  /(?:phone|tel|telephone|call|mobile|cell|fax|sms|whatsapp|contact|ph|mob)\b[^\n]{0,12}$/i;
const CONTEXT_SSN = /(?:ssn|social security(?: number| no\.?)?|ss#|ss no\.?)\b[^\n]{0,12}$/i;
const CONTEXT_CARD = /(?:card|visa|mastercard|amex|credit|debit|cc|pan)\b[^\n]{0,16}$/i;

function before(text: string, at: number): string {
  return text.slice(Math.max(0, at - 40), at);
}

type Shape = { kind: 'phone' | 'ssn' | 'card'; score: number } | undefined;

/** Tries the shapes on groups [s, e) of a run. */
function classify(text: string, run: Run, s: number, e: number): Shape {
  const groups = run.groups.slice(s, e);
  const lens = groups.map(([a, b]) => b - a);
  const digits = groups.map(([a, b]) => text.slice(a, b)).join('');
  const inner = run.seps.slice(s + 1, e);
  const lead = s === 0 ? run.seps[0]! : run.seps[s]!.endsWith('(') ? '(' : '';
  const plus = s === 0 && run.plus;
  const n = digits.length;
  const hasParen = lead.includes('(') || inner.some((x) => x.includes('(') || x.includes(')'));
  const uniform = inner.every((x) => x === inner[0]);
  const startAt = groups[0]![0] - (plus ? 1 : 0) - lead.length;

  if (!plus && !hasParen) {
    // Payment card: 13–19 digits, card-like grouping, one kind of separator, issuer and Luhn.
    if (n >= 13 && n <= 19 && uniform && (inner.length === 0 || inner[0] === ' ' || inner[0] === '-')) {
      if (cardGroupingFits(lens) && cardBrandFits(digits) && luhn(digits)) {
        const grouped = lens.length > 1;
        return { kind: 'card', score: grouped || CONTEXT_CARD.test(before(text, startAt)) ? 0.95 : 0.85 };
      }
    }
    // SSN: AAA-GG-SSSS (dash or space), or nine digits after a word that names it.
    if (lens.join(',') === '3,2,4' && uniform && (inner[0] === '-' || inner[0] === ' ')) {
      if (validSsn(Number(digits.slice(0, 3)), Number(digits.slice(3, 5)), Number(digits.slice(5)))) {
        return { kind: 'ssn', score: inner[0] === '-' ? 0.9 : 0.75 };
      }
    }
    if (n === 9 && lens.length === 1 && CONTEXT_SSN.test(before(text, startAt))) {
      if (validSsn(Number(digits.slice(0, 3)), Number(digits.slice(3, 5)), Number(digits.slice(5)))) {
        return { kind: 'ssn', score: 0.8 };
      }
    }
  }

  // International: "+" and a country code, 8–15 digits in all (E.164).
  if (plus) {
    if (n >= 8 && n <= 15 && digits[0] !== '0' && (lens.length === 1 || lens[0]! <= 4)) {
      return { kind: 'phone', score: 0.9 };
    }
    return undefined;
  }
  // International with the 00 exit code: 00 44 20 7946 0958. Weak shapes like this and the national
  // ones below count only as a whole run: inside a longer run of groups they are part of something
  // else (an account number, an IBAN printed in groups).
  const wholeRun = s === 0 && e === run.groups.length;
  if (
    wholeRun &&
    digits.startsWith('00') &&
    digits[2] !== '0' &&
    n >= 10 &&
    n <= 17 &&
    lens.length >= 3 &&
    lens[0]! <= 4
  ) {
    return { kind: 'phone', score: 0.75 };
  }
  // North American: (NXX) NXX-XXXX, NXX-NXX-XXXX, NXX.NXX.XXXX, 1-NXX-NXX-XXXX.
  const nanp = digits.length === 11 && digits[0] === '1' ? digits.slice(1) : digits;
  const nanpLens = digits.length === 11 && lens[0] === 1 ? lens.slice(1) : lens;
  if (nanp.length === 10 && nanpArea(nanp, 0) && nanpArea(nanp, 3)) {
    if (nanpLens.join(',') === '3,3,4') {
      const seps = digits.length === 11 && lens[0] === 1 ? inner.slice(1) : inner;
      const areaLead = digits.length === 11 && lens[0] === 1 ? inner[0]! : lead;
      const parens = areaLead.includes('(') === seps[0]!.includes(')');
      const dotted = seps[0] === '.' && seps[1] === '.';
      const plain =
        !hasParen && seps[0] === seps[1] && (seps[0] === '-' || seps[0] === ' ' || seps[0] === '.');
      const paren = hasParen && parens && /^\) ?$/.test(seps[0]!) && (seps[1] === '-' || seps[1] === ' ');
      if (plain || paren) return { kind: 'phone', score: dotted ? 0.75 : 0.85 };
    }
    if (nanpLens.length === 1 && CONTEXT_PHONE.test(before(text, startAt)))
      return { kind: 'phone', score: 0.7 };
  }
  // National numbers with a trunk 0: 020 7946 0958, 01 23 45 67 89, 030 12345678, 0612-345678.
  if (wholeRun && digits[0] === '0' && digits[1] !== '0' && n >= 10 && n <= 11) {
    if (lens.length >= 2 && lens.every((l) => l >= 2 && l <= 8) && uniform && inner[0] !== '.') {
      return { kind: 'phone', score: 0.75 };
    }
    if (lens.length === 1 && CONTEXT_PHONE.test(before(text, startAt))) return { kind: 'phone', score: 0.65 };
  }
  return undefined;
}

/** What follows the digits must not continue them (a longer id, a decimal, a version, an IP). */
function rightFree(text: string, end: number): boolean {
  const c = text.charCodeAt(end);
  if (Number.isNaN(c)) return true;
  if (isWordLike(c) || c === 95 || c === 64) return false;
  if (c === 46 || c === 45 || c === 47 || c === 58 || c === 44) return !isDigit(text.charCodeAt(end + 1));
  return true;
}

export function scanNumbers(text: string, out: Finding[]): void {
  const len = text.length;
  let i = 0;
  while (i < len) {
    const c = text.charCodeAt(i);
    const starts = isDigit(c) || ((c === 43 || c === 40) && isDigit(text.charCodeAt(i + 1)));
    const plusParen = c === 43 && text.charCodeAt(i + 1) === 40 && isDigit(text.charCodeAt(i + 2));
    if (!(starts || plusParen) || (i > 0 && blocksLeft(text.charCodeAt(i - 1)))) {
      i++;
      continue;
    }
    const run = readRun(text, i);
    if (!run) {
      i++;
      continue;
    }
    const k = run.groups.length;
    // Digits before each group, so sub-runs too short or too long for any shape are skipped
    // without building them (every shape has 7 to 19 digits).
    const before: number[] = [0];
    for (const [a, b] of run.groups) before.push(before[before.length - 1]! + b - a);
    let s = 0;
    let matchedEnd = -1;
    while (s < k) {
      let found = false;
      for (let e = k; e > s; e--) {
        const digits = before[e]! - before[s]!;
        if (digits < 7 || digits > 19) continue;
        const end = run.groups[e - 1]![1];
        // A sub-run must end where the text or a spaced separator ends it.
        const nextSep = e < k ? run.seps[e]! : undefined;
        if (nextSep !== undefined ? !nextSep.includes(' ') : !rightFree(text, end)) continue;
        if (s > 0 && !run.seps[s]!.includes(' ')) continue;
        const shape = classify(text, run, s, e);
        if (!shape) continue;
        const lead = s === 0 ? run.seps[0]!.length + (run.plus ? 1 : 0) : run.seps[s]!.endsWith('(') ? 1 : 0;
        const start = run.groups[s]![0] - lead;
        out.push({ detector: 'pii', kind: shape.kind, start, end, score: shape.score });
        matchedEnd = end;
        s = e;
        found = true;
        break;
      }
      if (!found) s++;
    }
    const runEnd = run.groups[k - 1]![1];
    i = Math.max(i + 1, matchedEnd, runEnd);
    // Skip the rest of a digit run cut off by MAX_GROUPS so it is not read again from its middle.
    while (i < len && isDigit(text.charCodeAt(i))) i++;
  }
}
