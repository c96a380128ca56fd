// One pass over normalize.ts's form of a text that collects what the injection rules need before
// they run: which rules' leading words occur (so the others are skipped), the letters-only form
// for split phrases, and the runs of base64 / hex characters worth decoding.
import type { InjectionRule } from './injection-rules.ts';
import type { Normalized } from './normalize.ts';

/** A trie of the rules' leading words, walked along each word of a text to see which occur. */
interface Trie {
  next: Map<number, Trie>;
  head?: string;
}

const tries = new WeakMap<readonly InjectionRule[], Trie>();

function trieOf(rules: readonly InjectionRule[]): Trie {
  let root = tries.get(rules);
  if (root) return root;
  root = { next: new Map() };
  for (const rule of rules) {
    for (const head of rule.heads ?? []) {
      if (head.length < 2) continue;
      let node = root;
      for (let i = 0; i < head.length; i++) {
        const c = head.charCodeAt(i);
        let child = node.next.get(c);
        if (!child) {
          child = { next: new Map() };
          node.next.set(c, child);
        }
        node = child;
      }
      node.head = head;
    }
  }
  tries.set(rules, root);
  return root;
}

/** The rules' leading words that begin some word (run of a–z) of the text. */
export function headsIn(text: string, rules: readonly InjectionRule[]): Set<string> {
  const root = trieOf(rules);
  const found = new Set<string>();
  let i = 0;
  while (i < text.length) {
    let c = text.charCodeAt(i);
    if (c < 97 || c > 122) {
      i++;
      continue;
    }
    // At the start of a word: follow the trie as far as the word goes, then skip the rest of it.
    let node: Trie | undefined = root;
    while (i < text.length && c >= 97 && c <= 122) {
      if (node) {
        node = node.next.get(c);
        if (node?.head) found.add(node.head);
      }
      i++;
      c = text.charCodeAt(i);
    }
  }
  return found;
}

/** Whether a rule can match: one of its literal starts is in the text (undefined: always maybe). */
export function mayMatch(rule: InjectionRule, text: string, heads: Set<string>): boolean {
  if (!rule.starts) return true;
  for (let k = 0; k < rule.starts.length; k++) {
    const head = rule.heads![k]!;
    if (head.length >= 2 ? heads.has(head) : text.includes(rule.starts[k]!)) return true;
  }
  return false;
}

export interface Survey {
  heads: Set<string>;
  /** Letters a–z only, with the index in the normalized text of each. */
  compact: { text: string; at: Int32Array };
  /** [start, end) pairs, in the normalized text, of runs of 24+ base64 / hex characters. */
  blobs: number[];
}

const UTF16 = new TextDecoder('utf-16le');
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const MIN_BLOB = 24;

function isBlobUnit(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47 || c === 95 || c === 45;
}

export function survey(n: Normalized, rules: readonly InjectionRule[]): Survey {
  const t = n.text;
  const len = t.length;
  const root = trieOf(rules);
  const heads = new Set<string>();
  const letters = new Uint16Array(len);
  const at = new Int32Array(len);
  const blobs: number[] = [];
  let count = 0;
  let node: Trie | undefined;
  let inWord = false;
  let blobStart = -1;
  for (let i = 0; i < len; i++) {
    const c = t.charCodeAt(i);
    if (c >= 97 && c <= 122) {
      letters[count] = c;
      at[count] = i;
      count++;
      if (!inWord) {
        node = root;
        inWord = true;
      }
      if (node) {
        node = node.next.get(c);
        if (node?.head) heads.add(node.head);
      }
    } else inWord = false;
    if (isBlobUnit(c)) {
      if (blobStart < 0) blobStart = i;
    } else if (blobStart >= 0) {
      if (i - blobStart >= MIN_BLOB) blobs.push(blobStart, i);
      blobStart = -1;
    }
  }
  if (blobStart >= 0 && len - blobStart >= MIN_BLOB) blobs.push(blobStart, len);
  let text = '';
  if (LITTLE_ENDIAN) text = UTF16.decode(letters.subarray(0, count));
  else for (let i = 0; i < count; i++) text += String.fromCharCode(letters[i]!);
  return { heads, compact: { text, at: at.subarray(0, count) }, blobs };
}
