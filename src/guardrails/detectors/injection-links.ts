// Links and images that carry data out of the conversation: markdown images and links, HTML
// images and bare URLs whose address holds a template slot to fill ({conversation}, <API_KEY>) or
// an encoded payload in a data-like parameter. Run on normalize.ts's form of the text; patterns
// are bounded (no match longer than a few thousand characters is tried).

const MD_IMAGE = /!\[[^\]\n]{0,300}\]\(\s{0,2}(https?:\/\/[^)\s]{1,2000})/g;
const MD_LINK = /(?<!!)\[[^\]\n]{0,300}\]\(\s{0,2}(https?:\/\/[^)\s]{1,2000})/g;
const HTML_IMG = /<img\b[^>\n]{0,300}?\bsrc\s{0,2}=\s{0,2}["']?(https?:\/\/[^"'\s>]{1,2000})/g;
const BARE_URL = /https?:\/\/[^\s)"'<>\]]{1,2000}/g;
const PLACEHOLDER =
  /\{[^}\n]{1,60}\}|\[[a-z_ -]{2,40}\]|<[a-z_ -]{2,40}>|\$\{?[a-z_]{2,40}|%s\b|\binsert[_-]|_here\b|your[_-]|\{\{/;
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

import { eachMatch } from './spans.ts';

export interface LinkSignal {
  /** Span of the whole image or link markup (or bare URL) in the normalized text. */
  start: number;
  end: number;
  /** Where the URL itself starts, for the quotation check. */
  urlAt: number;
  score: number;
}

export function linkSignals(t: string): LinkSignal[] {
  const out: LinkSignal[] = [];
  if (!t.includes('http')) return out;
  const seen = new Set<number>();
  const patterns: Array<[RegExp, 'image' | 'link']> = [
    [MD_IMAGE, 'image'],
    [HTML_IMG, 'image'],
    [MD_LINK, 'link'],
  ];
  for (const [re, where] of patterns) {
    eachMatch(re, t, (m) => {
      const url = m[1]!;
      const at = m.index + m[0].length - url.length;
      seen.add(at);
      const score = urlSignal(url, where);
      if (score > 0) out.push({ start: m.index, end: m.index + m[0].length, urlAt: at, score });
    });
  }
  eachMatch(BARE_URL, t, (m) => {
    if (seen.has(m.index)) return;
    const score = urlSignal(m[0], 'bare');
    if (score > 0) out.push({ start: m.index, end: m.index + m[0].length, urlAt: m.index, score });
  });
  return out;
}
