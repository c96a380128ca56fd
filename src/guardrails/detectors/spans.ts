// Span arithmetic shared by the detectors: scores from findings, overlap resolution, masking.
import type { Finding } from './types.ts';

/** The highest finding score, 0 for none. */
export function maxScore(findings: readonly Finding[]): number {
  let max = 0;
  for (const f of findings) if (f.score > max) max = f.score;
  return max;
}

/**
 * Noisy-OR over kinds: independent kinds of evidence add up (two 0.5 signals give 0.75), while
 * repeating one kind does not (a text saying the same thing ten times is one signal).
 */
export function combineByKind(findings: readonly Finding[]): number {
  const best = new Map<string, number>();
  for (const f of findings) best.set(f.kind, Math.max(best.get(f.kind) ?? 0, f.score));
  let miss = 1;
  for (const s of best.values()) miss *= 1 - s;
  return 1 - miss;
}

/** Sorted by start, then longer first. */
export function byPosition(a: Finding, b: Finding): number {
  return a.start - b.start || b.end - a.end;
}

/**
 * Keeps findings that do not overlap one another. Where two overlap, the higher score wins, then the
 * longer span, so a specific rule (an Anthropic key) beats a generic one (an `sk-` key) on the same
 * text. One sweep in start order: a finding can only clash with the last one kept, because that one
 * starts no earlier than everything kept before it ends.
 */
export function dropOverlaps(findings: Finding[]): Finding[] {
  if (findings.length < 2) return findings;
  const sorted = [...findings].sort(byPosition);
  const kept: Finding[] = [];
  for (const f of sorted) {
    const last = kept[kept.length - 1];
    if (last === undefined || f.start >= last.end) kept.push(f);
    else if (f.score > last.score || (f.score === last.score && f.end - f.start > last.end - last.start)) {
      kept[kept.length - 1] = f;
    }
  }
  return kept;
}

/**
 * Replaces each finding's span with `label(finding)`. Overlapping spans are merged and take the
 * label of the first finding; the output does not depend on the length of what was replaced.
 */
export function maskSpans(text: string, findings: readonly Finding[], label: (f: Finding) => string): string {
  if (findings.length === 0) return text;
  const sorted = [...findings].sort(byPosition);
  let out = '';
  let at = 0;
  let i = 0;
  while (i < sorted.length) {
    const first = sorted[i]!;
    let end = first.end;
    i++;
    while (i < sorted.length && sorted[i]!.start < end) {
      end = Math.max(end, sorted[i]!.end);
      i++;
    }
    const start = Math.max(first.start, at);
    out += text.slice(at, start) + label(first);
    at = Math.max(at, end);
  }
  return out + text.slice(at);
}

/** `[EMAIL]` for 'email', `[AWS-ACCESS-KEY]` for 'aws-access-key'. */
export function kindLabel(f: Finding): string {
  return `[${f.kind.toUpperCase()}]`;
}

/**
 * Calls `f` for every non-empty match of a global regular expression. Unlike matchAll it does not
 * copy the expression (a cost that dominates on short texts), so `f` must not run the same
 * expression itself.
 */
export function eachMatch(re: RegExp, text: string, f: (m: RegExpExecArray) => void): void {
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0].length === 0) re.lastIndex++;
    else f(m);
  }
}
