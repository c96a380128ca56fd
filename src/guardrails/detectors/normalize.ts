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

export function normalize(text: string): Normalized {
  const hidden = hiddenSpans(text);
  const parts: string[] = [];
  const from: number[] = [];
  const to: number[] = [];
  let h = 0;
  let lastAscii = false;
  let white = -1; // start of a pending whitespace run
  let whiteNl = false;
  const emit = (s: string, start: number, end: number) => {
    if (white !== -1) {
      if (parts.length > 0) {
        parts.push(whiteNl ? '\n' : ' ');
        from.push(white);
        to.push(start);
      }
      white = -1;
      whiteNl = false;
    }
    parts.push(s);
    for (let k = 0; k < s.length; k++) {
      from.push(start);
      to.push(end);
    }
  };
  let i = 0;
  while (i < text.length) {
    while (h < hidden.length && hidden[h]!.end <= i) h++;
    const span = hidden[h];
    if (span && span.start <= i) {
      i = span.end;
      continue;
    }
    const cp = text.codePointAt(i)!;
    const size = cp > 0xffff ? 2 : 1;
    if (cp < 0x80 && !isWhite(cp)) {
      emit(cp >= 65 && cp <= 90 ? String.fromCharCode(cp + 32) : text[i]!, i, i + 1);
      lastAscii = (cp | 32) >= 97 && (cp | 32) <= 122;
    } else if (isWhite(cp)) {
      if (white === -1) white = i;
      if (cp === 10 || cp === 13 || cp === 0x2028 || cp === 0x2029) whiteNl = true;
    } else if (isCombining(cp) && lastAscii) {
      // a mark stacked on an ASCII letter: drop it, keep the letter
    } else {
      const s = foldChar(cp);
      if (s.length > 0) emit(s, i, i + size);
      lastAscii = /^[a-z]+$/.test(s);
    }
    i += size;
  }
  const folded = foldWords(parts.join(''));
  return { text: folded, from: Int32Array.from(from), to: Int32Array.from(to), hidden };
}

/** Homoglyph and leetspeak folding, word by word; every replacement is one unit for one unit. */
function foldWords(s: string): string {
  return s.replace(/[\p{L}\p{N}@$]+/gu, (word) => {
    let out = word;
    let foreign = false;
    let mapped = false;
    for (const ch of word) {
      if (HOMOGLYPHS[ch] !== undefined) mapped = true;
      else if (ch > '\u007f') foreign = true;
    }
    if (mapped && !foreign) {
      out = '';
      for (const ch of word) out += HOMOGLYPHS[ch] ?? ch;
    }
    if (
      /[a-z]/.test(out) &&
      /[0-9@$]/.test(out) &&
      !/[\u0080-\u{10ffff}]/u.test(out) &&
      /[a-z].*[a-z]/.test(out)
    ) {
      // Not in numbers with a unit (10px, 3d, v2) where a digit leads the word or stands alone.
      if (!/^\d+[a-z]{0,3}$/.test(out) && !/^[a-z]{1,2}\d+$/.test(out)) {
        let t = '';
        for (const ch of out) t += LEET[ch] ?? ch;
        out = t;
      }
    }
    return out;
  });
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
  const parts: string[] = [];
  const at: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 97 && c <= 122) {
      parts.push(text[i]!);
      at.push(i);
    }
  }
  return { text: parts.join(''), at: Int32Array.from(at) };
}
