// Character-class tests on UTF-16 code units, used by the hand-written scanners. Scanners test
// one code unit at a time and never back up further than a fixed bound, which is what keeps them
// linear where a regular expression might backtrack.

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}

export function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}

export function isAsciiLetter(c: number): boolean {
  return (c | 32) >= 97 && (c | 32) <= 122;
}

export function isAlnum(c: number): boolean {
  return isDigit(c) || isAsciiLetter(c);
}

export function isHex(c: number): boolean {
  return isDigit(c) || ((c | 32) >= 97 && (c | 32) <= 102);
}

/** Letters, digits and `_`: what a "word" is to the boundary checks. */
export function isWordChar(c: number): boolean {
  return isAlnum(c) || c === 95;
}

/** Word characters beyond ASCII count too, so `é4111…` is not a boundary. */
export function isWordLike(c: number): boolean {
  return isWordChar(c) || (c >= 0xc0 && c !== 0xd7 && c !== 0xf7 && !(c >= 0x2000 && c <= 0x206f));
}

export function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11 || c === 0xa0;
}

/** base64url alphabet (JWT segments, many token formats). */
export function isBase64Url(c: number): boolean {
  return isAlnum(c) || c === 45 || c === 95;
}

/** Standard base64 alphabet without padding. */
export function isBase64(c: number): boolean {
  return isAlnum(c) || c === 43 || c === 47;
}

/** Shannon entropy in bits per character of `s`. */
export function entropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}
