// Text a person does not see but a model reads: ANSI escape sequences, zero-width characters,
// bidi controls, Unicode tag characters (which spell ASCII invisibly), variation selectors used to
// carry data, and other format characters. Legitimate uses are carved out and not reported: emoji
// ZWJ sequences, flag tag sequences (U+1F3F4 + tags + U+E007F), ZWNJ/ZWJ inside Arabic, Persian or
// Indic words, text-or-emoji presentation selectors after symbols, ideographic variation
// selectors after CJK ideographs, and a byte order mark at the very start.
//
// Scores say how likely the character is hiding something, not merely present: terminal colours
// score 0.3 (stripped, not flagged), a concealed-text escape 0.95. The detector score combines
// kinds (noisy-OR), so several weak signals of different kinds add up.
import { combineByKind } from './spans.ts';
import type { Finding, Scan } from './types.ts';

export interface HiddenFinding extends Finding {
  /** For 'unicode-tag': the ASCII the tag characters spell. */
  decoded?: string;
}

export interface HiddenScan extends Scan {
  findings: HiddenFinding[];
}

export const HIDDEN_TEXT_THRESHOLD = 0.5;

/** Anything worth a closer look; the scan jumps from one match of this to the next. */
const SUSPECT = new RegExp(
  '[\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F\\u00AD\\u034F\\u061C\\u115F\\u1160\\u17B4\\u17B5\\u180B-\\u180F' +
    '\\u200B-\\u200F\\u202A-\\u202E\\u2060-\\u206F\\u3164\\uFE00-\\uFE0F\\uFEFF\\uFFA0\\uFFF9-\\uFFFB\\p{Cf}' +
    '\\u{E0000}-\\u{E007F}\\u{E0100}-\\u{E01EF}]',
  'gu',
);

const PICTOGRAPHIC = /\p{Extended_Pictographic}/u;
const LETTER_OR_MARK = /[\p{L}\p{M}]/u;
const LATIN_LIKE = /[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}]/u;
const RTL = /[\p{Script=Arabic}\p{Script=Hebrew}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}]/u;
const IDEOGRAPH = /\p{Ideographic}/u;

export function scanHiddenText(text: string): HiddenScan {
  const findings = hiddenSpans(text);
  return { findings, score: combineByKind(findings) };
}

/** The text without any reported span: hidden characters and all ANSI sequences, colours included. */
export function stripHidden(text: string): string {
  // Removing one span can expose another (a variation selector left with nothing to vary, once
  // the tags before it are gone): strip again until nothing changes. Each pass shortens the
  // text, and in practice the second pass finds nothing; the cap keeps it linear regardless.
  let current = text;
  for (let pass = 0; pass < MAX_STRIP_PASSES; pass++) {
    const next = stripOnce(current);
    if (next === current) return current;
    current = next;
  }
  return current;
}

const MAX_STRIP_PASSES = 8;

function stripOnce(text: string): string {
  const spans = hiddenSpans(text);
  if (spans.length === 0) return text;
  let out = '';
  let at = 0;
  for (const f of spans) {
    out += text.slice(at, f.start);
    at = f.end;
  }
  return out + text.slice(at);
}

/** Tag characters U+E0020–U+E007E spell ASCII 0x20–0x7E; the others (language tag, cancel) spell nothing. */
export function decodeTags(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xe0020 && cp <= 0xe007e) out += String.fromCharCode(cp - 0xe0000);
  }
  return out;
}

function cpAt(text: string, i: number): number {
  return i >= 0 && i < text.length ? text.codePointAt(i)! : -1;
}

/** The code point that ends just before index i (one or two code units back). */
function cpBefore(text: string, i: number): { cp: number; at: number } {
  if (i <= 0) return { cp: -1, at: -1 };
  const lo = text.charCodeAt(i - 1);
  if (lo >= 0xdc00 && lo <= 0xdfff && i >= 2) {
    const hi = text.charCodeAt(i - 2);
    if (hi >= 0xd800 && hi <= 0xdbff) return { cp: text.codePointAt(i - 2)!, at: i - 2 };
  }
  return { cp: lo, at: i - 1 };
}

/** Answers per BMP code unit, remembered: 0 unknown, 1 no, 2 yes. */
const memo = new Map<RegExp, Uint8Array>();

function test(re: RegExp, cp: number): boolean {
  if (cp < 0) return false;
  if (cp > 0xffff) return re.test(String.fromCodePoint(cp));
  let table = memo.get(re);
  if (!table) {
    table = new Uint8Array(0x10000);
    memo.set(re, table);
  }
  if (table[cp] === 0) table[cp] = re.test(String.fromCharCode(cp)) ? 2 : 1;
  return table[cp] === 2;
}

function isZeroWidth(cp: number): boolean {
  return (
    (cp >= 0x200b && cp <= 0x200d) ||
    cp === 0x2060 ||
    cp === 0xfeff ||
    cp === 0x180e ||
    (cp >= 0x2061 && cp <= 0x2064)
  );
}

function isTag(cp: number): boolean {
  return cp >= 0xe0000 && cp <= 0xe007f;
}

function isVariationSelector(cp: number): boolean {
  return (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef);
}

export function hiddenSpans(text: string): HiddenFinding[] {
  const out: HiddenFinding[] = [];
  const add = (kind: string, start: number, end: number, score: number) =>
    out.push({ detector: 'hidden-text', kind, start, end, score });
  SUSPECT.lastIndex = 0;
  for (;;) {
    const m = SUSPECT.exec(text);
    if (!m) break;
    const i = m.index;
    const cp = text.codePointAt(i)!;
    const size = cp > 0xffff ? 2 : 1;
    let next = i + size;

    if (cp === 0x1b || cp === 0x9b || cp === 0x9d) {
      next = ansi(text, i, add);
    } else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
      add('control', i, next, cp === 0x08 ? 0.8 : cp === 0x0c ? 0.3 : 0.6);
    } else if (isZeroWidth(cp)) {
      next = zeroWidth(text, i, add);
    } else if (cp === 0x202d || cp === 0x202e) {
      add('bidi-override', i, next, 0.95);
    } else if ((cp >= 0x202a && cp <= 0x202c) || (cp >= 0x2066 && cp <= 0x2069)) {
      add('bidi-control', i, next, nearRtl(text, i, next) ? 0.3 : 0.8);
    } else if (cp === 0x200e || cp === 0x200f || cp === 0x061c) {
      add('bidi-mark', i, next, nearRtl(text, i, next) ? 0.15 : 0.3);
    } else if (isTag(cp)) {
      next = tags(text, i, out);
    } else if (isVariationSelector(cp)) {
      next = variationSelectors(text, i, add);
    } else if (cp === 0x00ad) {
      add('soft-hyphen', i, next, 0.2);
    } else if (cp === 0x115f || cp === 0x1160 || cp === 0x3164 || cp === 0xffa0) {
      add('invisible-filler', i, next, 0.6);
    } else if (cp === 0xfff9 || cp === 0xfffa || cp === 0xfffb || (cp >= 0x1d173 && cp <= 0x1d17a)) {
      add('format-char', i, next, 0.7);
    } else if (
      (cp >= 0x0600 && cp <= 0x0605) ||
      cp === 0x06dd ||
      cp === 0x070f ||
      (cp >= 0x0890 && cp <= 0x08e2)
    ) {
      // Arabic-script number signs and marks: part of the script.
    } else if (cp >= 0x13430 && cp <= 0x1345f) {
      // Egyptian hieroglyph format controls: part of the script.
    } else if ((cp >= 0x180b && cp <= 0x180d) || cp === 0x180f) {
      add('format-char', i, next, 0.3); // Mongolian variation selectors
    } else {
      add('format-char', i, next, 0.5);
    }
    SUSPECT.lastIndex = next;
  }
  return out;
}

/**
 * Whether the nearest letter on either side (within 12 code units, skipping digits, spaces,
 * punctuation and other controls) is right-to-left: there, bidi controls are the normal way to
 * keep numbers and Latin words in order.
 */
function nearRtl(text: string, i: number, next: number): boolean {
  for (let p = i - 1; p >= 0 && p >= i - 12; p--) {
    const cp = text.charCodeAt(p);
    if (test(RTL, cp)) return true;
    if (test(LETTER_OR_MARK, cp)) break;
  }
  for (let p = next; p < text.length && p < next + 12; p++) {
    const cp = text.charCodeAt(p);
    if (test(RTL, cp)) return true;
    if (test(LETTER_OR_MARK, cp)) break;
  }
  return false;
}

type Add = (kind: string, start: number, end: number, score: number) => void;

/** Parses one escape sequence at i (ESC, or C1 CSI/OSC) and returns where it ends. */
function ansi(text: string, i: number, add: Add): number {
  const c0 = text.charCodeAt(i);
  const intro = c0 === 0x1b ? text.charCodeAt(i + 1) : c0 === 0x9b ? 0x5b : 0x5d;
  const body = c0 === 0x1b ? i + 2 : i + 1;
  if (Number.isNaN(intro)) {
    add('control', i, i + 1, 0.6);
    return i + 1;
  }
  if (intro === 0x5b) {
    // CSI: parameters 0x30–0x3F, intermediates 0x20–0x2F, one final byte 0x40–0x7E.
    let p = body;
    while (p < text.length && p - body < 64 && text.charCodeAt(p) >= 0x30 && text.charCodeAt(p) <= 0x3f) p++;
    const params = text.slice(body, p);
    while (p < text.length && p - body < 80 && text.charCodeAt(p) >= 0x20 && text.charCodeAt(p) <= 0x2f) p++;
    const fin = text.charCodeAt(p);
    if (!(fin >= 0x40 && fin <= 0x7e)) {
      add('ansi-other', i, p, 0.6);
      return p;
    }
    const end = p + 1;
    if (fin === 0x6d) {
      const sgr = params.split(';');
      const concealed = sgr.includes('8') || sameColours(sgr);
      add(concealed ? 'ansi-conceal' : 'ansi-sgr', i, end, concealed ? 0.95 : 0.3);
    } else if ('ABCDEFGHJKSTfsu'.includes(String.fromCharCode(fin))) {
      add('ansi-cursor', i, end, 0.7);
    } else add('ansi-other', i, end, 0.6);
    return end;
  }
  if (intro === 0x5d || intro === 0x50 || intro === 0x58 || intro === 0x5e || intro === 0x5f) {
    // OSC / DCS / SOS / PM / APC: a string ended by BEL or ST (ESC \); a new ESC also ends it.
    let p = body;
    while (p < text.length && p - body < 8192) {
      const c = text.charCodeAt(p);
      if (c === 0x07 || c === 0x9c) {
        p++;
        break;
      }
      if (c === 0x1b) {
        if (text.charCodeAt(p + 1) === 0x5c) p += 2;
        break;
      }
      p++;
    }
    const payload = text.slice(body, Math.min(p, body + 8));
    const score =
      intro !== 0x5d ? 0.7 : payload.startsWith('52;') ? 0.95 : payload.startsWith('8;') ? 0.6 : 0.7;
    add('ansi-osc', i, p, score);
    return p;
  }
  // Two-byte escapes: ESC 7, ESC 8 (save/restore cursor), ESC c (reset), ESC M (reverse index)…
  add(intro === 0x63 ? 'ansi-cursor' : 'ansi-other', i, i + 2, intro === 0x63 ? 0.7 : 0.6);
  return i + 2;
}

/** Foreground equal to background (30–37 with 40–47, 90–97 with 100–107): text drawn invisibly. */
function sameColours(sgr: string[]): boolean {
  const set = new Set(sgr);
  for (let c = 0; c < 8; c++) {
    if (set.has(String(30 + c)) && set.has(String(40 + c))) return true;
    if (set.has(String(90 + c)) && set.has(String(100 + c))) return true;
  }
  return false;
}

function zeroWidth(text: string, i: number, add: Add): number {
  const cp = text.codePointAt(i)!;
  // A run of invisible characters is an encoding, whatever surrounds it.
  let p = i;
  let n = 0;
  while (p < text.length) {
    const c = text.charCodeAt(p);
    if (!(isZeroWidth(c) || c === 0x200e || c === 0x200f)) break;
    p++;
    n++;
  }
  if (n >= 3) {
    add('zero-width', i, p, 0.95);
    return p;
  }
  const end = i + 1;
  if (cp === 0xfeff && i === 0) return end; // byte order mark
  const prev = cpBefore(text, i).cp;
  const after = cpAt(text, end);
  if (cp === 0x200d) {
    // Emoji ZWJ sequence: pictograph (maybe with a skin tone or VS16) ZWJ pictograph.
    const base = prev === 0xfe0f || (prev >= 0x1f3fb && prev <= 0x1f3ff) ? -2 : prev;
    if ((base === -2 || test(PICTOGRAPHIC, base)) && test(PICTOGRAPHIC, after)) return end;
  }
  if ((cp === 0x200c || cp === 0x200d) && isScriptJoiner(prev, after)) return end;
  const inWord = test(LETTER_OR_MARK, prev) && test(LETTER_OR_MARK, after);
  add('zero-width', i, end, inWord ? 0.75 : cp === 0xfeff ? 0.4 : 0.45);
  return end;
}

/** ZWNJ / ZWJ between letters of scripts that use them for shaping (Persian, Arabic, Indic, …). */
function isScriptJoiner(prev: number, after: number): boolean {
  return (
    test(LETTER_OR_MARK, prev) &&
    test(LETTER_OR_MARK, after) &&
    !test(LATIN_LIKE, prev) &&
    !test(LATIN_LIKE, after) &&
    prev >= 0x80 &&
    after >= 0x80
  );
}

function tags(text: string, i: number, out: HiddenFinding[]): number {
  let p = i;
  while (p < text.length && isTag(cpAt(text, p))) p += 2;
  const run = text.slice(i, p);
  const prev = cpBefore(text, i).cp;
  const count = (p - i) / 2;
  if (prev === 0x1f3f4 && count >= 3 && count <= 7 && cpAt(text, p - 2) === 0xe007f) {
    // Emoji flag tag sequence (England, Scotland, Wales, other subdivisions): 2–6 tag letters or
    // digits and the cancel tag. At most six lowercase letters can ride on one, so it is allowed.
    const spec = decodeTags(run);
    if (/^[a-z0-9]{2,6}$/.test(spec)) return p;
  }
  out.push({
    detector: 'hidden-text',
    kind: 'unicode-tag',
    start: i,
    end: p,
    score: 0.95,
    decoded: decodeTags(run),
  });
  return p;
}

function variationSelectors(text: string, i: number, add: Add): number {
  let p = i;
  let n = 0;
  while (p < text.length) {
    const c = cpAt(text, p);
    if (!isVariationSelector(c)) break;
    p += c > 0xffff ? 2 : 1;
    n++;
  }
  if (n >= 2) {
    // Several selectors on one character carry bytes (one selector per byte), not presentation.
    add('variation-selector', i, p, 0.9);
    return p;
  }
  const cp = cpAt(text, i);
  const prev = cpBefore(text, i).cp;
  if (cp >= 0xe0100) {
    if (!test(IDEOGRAPH, prev)) add('variation-selector', i, p, 0.6);
  } else if (
    (prev >= 0x41 && prev <= 0x5a) ||
    (prev >= 0x61 && prev <= 0x7a) ||
    prev === 0x20 ||
    prev === -1
  ) {
    add('variation-selector', i, p, 0.5);
  }
  return p;
}
