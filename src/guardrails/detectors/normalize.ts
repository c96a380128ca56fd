// Puts text in the one form the injection and tool-definition rules are written against, so that
// obfuscation does not change what they see:
//   - hidden characters and ANSI sequences are dropped (hidden-text.ts decides what is hidden);
//   - NFKC per character (fullwidth, mathematical alphanumerics, ligatures → plain letters);
//   - accents on Latin letters and combining marks stacked on ASCII letters ("zalgo") dropped;
//   - lowercased; runs of whitespace become one space, or one newline if they held a newline;
//   - Cyrillic and Greek look-alikes folded to Latin, but only in words that are otherwise Latin
//     or made only of look-alikes, so Russian and Greek text stays itself;
//   - leetspeak digits folded in words that mix letters and digits (1gn0re → ignore).
// Every character of the result records which characters of the input it came from, so a match
// in the normal form maps back to a span of the original text.
import { type HiddenFinding, hiddenSpans } from './hidden-text.ts';

export interface Normalized {
  text: string;
  /** For each UTF-16 unit of `text`, the start and end in the original of what produced it. */
  from: Int32Array;
  to: Int32Array;
  /** Hidden spans that were dropped (tag characters carry `decoded` text worth scanning too). */
  hidden: HiddenFinding[];
}

/** Look-alikes from Cyrillic, Greek and a few other blocks, each to one lowercase ASCII letter. */
const HOMOGLYPHS: Record<string, string> = {
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  ѕ: 's', і: 'i', ї: 'i', ј: 'j', ԁ: 'd', һ: 'h', ԛ: 'q', ԝ: 'w', ѵ: 'v', ɡ: 'g', ʏ: 'y', ɪ: 'i', ı: 'i',
  α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'i', κ: 'k', μ: 'u', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x',
  γ: 'y', ω: 'w', ϲ: 'c', ϳ: 'j', ℓ: 'l', օ: 'o', ս: 'u', ո: 'n', ց: 'g', հ: 'h', ɑ: 'a', ɩ: 'i',
}; // biome-ignore format: a table

/** Letters NFKC and NFD leave alone but that read as ASCII. */
const SPECIAL: Record<string, string> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  đ: 'd',
  ł: 'l',
  þ: 'th',
  ð: 'd',
};

const LEET: Record<string, string> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
};

const cache = new Map<number, string>();

function foldChar(cp: number): string {
  const hit = cache.get(cp);
  if (hit !== undefined) return hit;
  let s = String.fromCodePoint(cp).normalize('NFKC');
  if (/^[\u00c0-\u024f\u1e00-\u1eff]/.test(s)) s = s.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
  s = s.toLowerCase();
  s = SPECIAL[s] ?? s;
  if (cache.size < 4096) cache.set(cp, s);
  return s;
}

function isCombining(cp: number): boolean {
  return (
    (cp >= 0x300 && cp <= 0x36f) ||
    (cp >= 0x1ab0 && cp <= 0x1aff) ||
    (cp >= 0x1dc0 && cp <= 0x1dff) ||
    (cp >= 0x20d0 && cp <= 0x20ff) ||
    (cp >= 0xfe20 && cp <= 0xfe2f)
  );
}

function isWhite(cp: number): boolean {
  return (
    cp === 32 ||
    (cp >= 9 && cp <= 13) ||
    cp === 0xa0 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000 ||
    cp === 0x1680
  );
}

const UTF16 = new TextDecoder('utf-16le');
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The string of the first `len` code units of `buf`. */
function unitsToString(buf: Uint16Array, len: number): string {
  if (LITTLE_ENDIAN) return UTF16.decode(buf.subarray(0, len));
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(buf[i]!);
  return s;
}

/** Homoglyphs by code unit, for the in-place word pass. */
const HOMOGLYPH_CODES = new Map<number, number>(
  Object.entries(HOMOGLYPHS).map(([k, v]) => [k.charCodeAt(0), v.charCodeAt(0)]),
);
const LEET_CODES = new Map<number, number>(
  Object.entries(LEET).map(([k, v]) => [k.charCodeAt(0), v.charCodeAt(0)]),
);

/**
 * The output is built in typed arrays (one code unit, and its origin, per slot): this runs on every
 * tool result, and per-character strings and arrays cost several times more.
 */
class Out {
  buf: Uint16Array;
  from: Int32Array;
  to: Int32Array;
  len = 0;
  constructor(capacity: number) {
    this.buf = new Uint16Array(capacity);
    this.from = new Int32Array(capacity);
    this.to = new Int32Array(capacity);
  }
  put(code: number, start: number, end: number): void {
    if (this.len === this.buf.length) this.grow();
    this.buf[this.len] = code;
    this.from[this.len] = start;
    this.to[this.len] = end;
    this.len++;
  }
  reserve(extra: number): void {
    while (this.len + extra > this.buf.length) this.grow();
  }
  private grow(): void {
    const cap = this.buf.length * 2 + 16;
    const buf = new Uint16Array(cap);
    const from = new Int32Array(cap);
    const to = new Int32Array(cap);
    buf.set(this.buf);
    from.set(this.from);
    to.set(this.to);
    this.buf = buf;
    this.from = from;
    this.to = to;
  }
  string(): string {
    return unitsToString(this.buf, this.len);
  }
}

export function normalize(text: string): Normalized {
  const hidden = hiddenSpans(text);
  const out = new Out(text.length + 16);
  let h = 0;
  let nextHidden = hidden.length > 0 ? hidden[0]!.start : Number.POSITIVE_INFINITY;
  let lastAscii = false;
  let white = -1; // start of a pending whitespace run
  let whiteNl = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    if (i >= nextHidden) {
      i = Math.max(i, hidden[h]!.end);
      h++;
      nextHidden = h < hidden.length ? hidden[h]!.start : Number.POSITIVE_INFINITY;
      continue;
    }
    let c = text.charCodeAt(i);
    if (c > 32 && c < 0x80) {
      // The common case, in one tight loop: a run of visible ASCII, lowercased.
      if (white !== -1) {
        if (out.len > 0) out.put(whiteNl ? 10 : 32, white, i);
        white = -1;
        whiteNl = false;
      }
      const stop = Math.min(n, nextHidden);
      if (out.len + (stop - i) > out.buf.length) out.reserve(stop - i);
      const { buf, from, to } = out;
      let len = out.len;
      while (i < stop && c > 32 && c < 0x80) {
        buf[len] = c >= 65 && c <= 90 ? c + 32 : c;
        from[len] = i;
        to[len] = i + 1;
        len++;
        i++;
        c = text.charCodeAt(i);
      }
      out.len = len;
      const last = buf[len - 1]!;
      lastAscii = last >= 97 && last <= 122;
      continue;
    }
    const cp = c >= 0xd800 && c <= 0xdbff ? text.codePointAt(i)! : c;
    const size = cp > 0xffff ? 2 : 1;
    if (isWhite(cp)) {
      if (white === -1) white = i;
      if (cp === 10 || cp === 13 || cp === 0x2028 || cp === 0x2029) whiteNl = true;
    } else if (isCombining(cp) && lastAscii) {
      // a mark stacked on an ASCII letter: drop it, keep the letter
    } else {
      const s = cp < 0x80 ? String.fromCharCode(cp) : foldChar(cp);
      if (s.length > 0) {
        if (white !== -1) {
          if (out.len > 0) out.put(whiteNl ? 10 : 32, white, i);
          white = -1;
          whiteNl = false;
        }
        for (let k = 0; k < s.length; k++) out.put(s.charCodeAt(k), i, i + size);
        const last = s.charCodeAt(s.length - 1);
        lastAscii = last >= 97 && last <= 122;
      }
    }
    i += size;
  }
  foldWords(out.buf, out.len);
  return { text: out.string(), from: out.from.subarray(0, out.len), to: out.to.subarray(0, out.len), hidden };
}

/** Letters, digits, '@' and '$' (leet), and non-ASCII letters: what a word is made of here. */
function isWordUnit(c: number): boolean {
  if (c < 0x80)
    return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 64 || c === 36 || (c >= 65 && c <= 90);
  return (
    c >= 0xc0 &&
    c !== 0xd7 &&
    c !== 0xf7 &&
    !(c >= 0x2000 && c <= 0x2bff) &&
    !(c >= 0x3000 && c <= 0x303f) &&
    !(c >= 0xd800 && c <= 0xdfff) &&
    !(c >= 0xfe30 && c <= 0xfe4f) &&
    !(c >= 0xff00 && c <= 0xff65)
  );
}

/** ASCII letters and leet characters only, at least two letters and one digit, '@' or '$'. */
function isMixed(buf: Uint16Array, a: number, b: number): boolean {
  let letters = 0;
  let others = 0;
  for (let i = a; i < b; i++) {
    const c = buf[i]!;
    if (c >= 97 && c <= 122) letters++;
    else if ((c >= 48 && c <= 57) || c === 64 || c === 36) others++;
    else return false;
  }
  return letters >= 2 && others >= 1;
}

/** 10px, 3d, v2, h264: numbers with a unit or a letter prefix, which keep their digits. */
function isUnitLike(buf: Uint16Array, a: number, b: number): boolean {
  let p = a;
  while (p < b && buf[p]! >= 48 && buf[p]! <= 57) p++;
  if (p > a) return b - p <= 3;
  while (p < b && buf[p]! >= 97 && buf[p]! <= 122) p++;
  const letters = p - a;
  let q = p;
  while (q < b && buf[q]! >= 48 && buf[q]! <= 57) q++;
  return letters >= 1 && letters <= 2 && q === b && q > p;
}

/**
 * Homoglyph and leetspeak folding, word by word, in place (one unit for one unit). Look-alikes are
 * folded only in words with no other non-ASCII letter. Words like 10px, h264, v2 keep their
 * digits, unless the text is written in leetspeak throughout (a fifth or more of its words mix
 * letters and digits), where "th3" and "53nd" are words too.
 */
function foldWords(buf: Uint16Array, len: number): void {
  let words = 0;
  // Words that may change, as [start, end) pairs: those with look-alikes or mixing letters and digits.
  const candidates: number[] = [];
  let mixedCount = 0;
  let i = 0;
  while (i < len) {
    let c = buf[i]!;
    if (!isWordUnit(c)) {
      i++;
      continue;
    }
    const a = i;
    let high = false;
    let digit = false;
    while (i < len && isWordUnit(c)) {
      if (c >= 0x80) high = true;
      else if (c < 97) digit = true; // digits, '@', '$' (uppercase never reaches here)
      i++;
      c = buf[i] ?? 0;
    }
    words++;
    if (high || digit) {
      candidates.push(a, i);
      if (!high && isMixed(buf, a, i)) mixedCount++;
    }
  }
  const leety = mixedCount >= 3 && mixedCount * 5 >= words;
  for (let k = 0; k < candidates.length; k += 2) {
    const a = candidates[k]!;
    const b = candidates[k + 1]!;
    let mapped = false;
    let foreign = false;
    for (let j = a; j < b; j++) {
      const c = buf[j]!;
      if (c >= 0x80) {
        if (HOMOGLYPH_CODES.has(c)) mapped = true;
        else foreign = true;
      }
    }
    if (mapped && !foreign) {
      for (let j = a; j < b; j++) buf[j] = HOMOGLYPH_CODES.get(buf[j]!) ?? buf[j]!;
    }
    if (isMixed(buf, a, b) && (leety || !isUnitLike(buf, a, b))) {
      for (let j = a; j < b; j++) buf[j] = LEET_CODES.get(buf[j]!) ?? buf[j]!;
    }
  }
}

/** The original span for normalized [start, end). */
export function originalSpan(n: Normalized, start: number, end: number): [number, number] {
  const s = n.from[Math.min(start, n.from.length - 1)] ?? 0;
  const e = n.to[Math.max(0, Math.min(end, n.to.length) - 1)] ?? s;
  return [s, Math.max(e, s)];
}

/**
 * Letters only (a–z), for phrases split by spaces, dots or dashes ("i g n o r e", "ig.nore"),
 * with the index in the normalized text of each letter.
 */
export function compact(text: string): { text: string; at: Int32Array } {
  const buf = new Uint16Array(text.length);
  const at = new Int32Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 97 && c <= 122) {
      buf[n] = c;
      at[n] = i;
      n++;
    }
  }
  return { text: unitsToString(buf, n), at: at.subarray(0, n) };
}
