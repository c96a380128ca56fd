// Runs the detectors over the labelled corpus and computes precision, recall and F1, per detector,
// per split and per kind. A line is predicted malicious when the detector's score reaches its
// threshold. Splits: every 5th line (index 4, 9, …) is held out, the rest is the training split
// the rules were tuned on; lines marked split: 'fresh' were written after tuning and form their own.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HIDDEN_TEXT_THRESHOLD, scanHiddenText } from '../../src/guardrails/detectors/hidden-text.ts';
import { INJECTION_THRESHOLD, scanInjection } from '../../src/guardrails/detectors/injection.ts';
import { PII_THRESHOLD, scanPii } from '../../src/guardrails/detectors/pii.ts';
import { SECRETS_THRESHOLD, scanSecrets } from '../../src/guardrails/detectors/secrets.ts';
import {
  scanToolDefinition,
  TOOL_DEFINITION_THRESHOLD,
  type ToolDefinition,
  type ToolDefinitionContext,
} from '../../src/guardrails/detectors/tool-definition.ts';
import type { Scan } from '../../src/guardrails/detectors/types.ts';
import { DEFAULT_CONTEXT } from '../fixtures/guardrails/gen/tool-definitions.ts';

export const CORPUS_DIR = join(import.meta.dirname, '..', 'fixtures', 'guardrails');

export interface Line {
  id: string;
  text?: string;
  definition?: ToolDefinition;
  context?: ToolDefinitionContext;
  label: 'benign' | 'malicious';
  kinds: string[];
  technique: string;
  note: string;
  split?: 'fresh';
}

export interface DetectorSpec {
  name: string;
  file: string;
  threshold: number;
  /** Findings at or above this count as a predicted kind (for the per-kind table). */
  kindFloor: number;
  run: (line: Line) => Scan;
}

export const DETECTORS: DetectorSpec[] = [
  {
    name: 'pii',
    file: 'pii.jsonl',
    threshold: PII_THRESHOLD,
    kindFloor: PII_THRESHOLD,
    run: (l) => scanPii(l.text!),
  },
  {
    name: 'secrets',
    file: 'secrets.jsonl',
    threshold: SECRETS_THRESHOLD,
    kindFloor: SECRETS_THRESHOLD,
    run: (l) => scanSecrets(l.text!),
  },
  {
    name: 'hidden-text',
    file: 'hidden-text.jsonl',
    threshold: HIDDEN_TEXT_THRESHOLD,
    kindFloor: HIDDEN_TEXT_THRESHOLD,
    run: (l) => scanHiddenText(l.text!),
  },
  {
    name: 'injection',
    file: 'injection.jsonl',
    threshold: INJECTION_THRESHOLD,
    kindFloor: 0.3,
    run: (l) => scanInjection(l.text!),
  },
  {
    name: 'tool-definition',
    file: 'tool-definitions.jsonl',
    threshold: TOOL_DEFINITION_THRESHOLD,
    kindFloor: 0.3,
    run: (l) => scanToolDefinition(l.definition!, l.context ?? DEFAULT_CONTEXT),
  },
];

export function readCorpus(file: string): Line[] {
  return readFileSync(join(CORPUS_DIR, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Line);
}

export type Split = 'train' | 'heldout' | 'fresh' | 'all';

/** `index` counts lines that are not fresh; fresh lines have index -1. */
export function inSplit(index: number, split: Split): boolean {
  if (split === 'all') return true;
  if (index < 0) return split === 'fresh';
  if (split === 'fresh') return false;
  return split === 'heldout' ? index % 5 === 4 : index % 5 !== 4;
}

export interface Counts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export interface Metrics extends Counts {
  precision: number;
  recall: number;
  f1: number;
}

export function metrics(c: Counts): Metrics {
  const precision = c.tp + c.fp === 0 ? 1 : c.tp / (c.tp + c.fp);
  const recall = c.tp + c.fn === 0 ? 1 : c.tp / (c.tp + c.fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { ...c, precision, recall, f1 };
}

export interface Outcome {
  line: Line;
  index: number;
  predicted: boolean;
  score: number;
  kinds: string[];
}

export function runDetector(spec: DetectorSpec): Outcome[] {
  let next = 0;
  return readCorpus(spec.file).map((line) => {
    const index = line.split === 'fresh' ? -1 : next++;
    const scan = spec.run(line);
    const predicted = scan.score >= spec.threshold;
    const kinds = predicted
      ? [...new Set(scan.findings.filter((f) => f.score >= spec.kindFloor).map((f) => f.kind))]
      : [];
    return { line, index, predicted, score: scan.score, kinds };
  });
}

export function detectorMetrics(outcomes: Outcome[], split: Split): Metrics {
  const c: Counts = { tp: 0, fp: 0, fn: 0, tn: 0 };
  for (const o of outcomes) {
    if (!inSplit(o.index, split)) continue;
    const actual = o.line.label === 'malicious';
    if (o.predicted && actual) c.tp++;
    else if (o.predicted) c.fp++;
    else if (actual) c.fn++;
    else c.tn++;
  }
  return metrics(c);
}

/** Per kind: was the labelled kind among the predicted kinds (and vice versa)? */
export function kindMetrics(outcomes: Outcome[], split: Split): Map<string, Metrics> {
  const counts = new Map<string, Counts>();
  const get = (k: string) => {
    let c = counts.get(k);
    if (!c) {
      c = { tp: 0, fp: 0, fn: 0, tn: 0 };
      counts.set(k, c);
    }
    return c;
  };
  for (const o of outcomes) {
    if (!inSplit(o.index, split)) continue;
    for (const k of o.line.kinds) {
      if (o.kinds.includes(k)) get(k).tp++;
      else get(k).fn++;
    }
    for (const k of o.kinds) if (!o.line.kinds.includes(k) && o.line.label === 'benign') get(k).fp++;
  }
  return new Map([...counts].sort(([a], [b]) => a.localeCompare(b)).map(([k, c]) => [k, metrics(c)]));
}

const pct = (x: number) => x.toFixed(3);

export function table(rows: Array<[string, string, Metrics]>): string {
  const head = ['detector', 'split', 'n', 'tp', 'fp', 'fn', 'tn', 'precision', 'recall', 'f1'];
  const body = rows.map(([d, s, m]) => [
    d,
    s,
    String(m.tp + m.fp + m.fn + m.tn),
    String(m.tp),
    String(m.fp),
    String(m.fn),
    String(m.tn),
    pct(m.precision),
    pct(m.recall),
    pct(m.f1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...body.map(fmt)].join('\n');
}
