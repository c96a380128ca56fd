// Measured quality of the guardrail detectors (issue 5, part 5): every detector runs over its
// labelled corpus in test/fixtures/guardrails/; the test prints precision, recall and F1 per
// detector for the training split, the held-out split (every 5th line) and both, and per kind,
// and fails when a figure drops below test/fixtures/guardrails/thresholds.json.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TOKEN_RULES, TOKEN_TRIGGER } from '../../src/guardrails/detectors/secret-rules.ts';
import {
  CORPUS_DIR,
  DETECTORS,
  detectorMetrics,
  inSplit,
  kindMetrics,
  type Metrics,
  runDetector,
  table,
} from './evaluate.ts';

interface Floor {
  precision?: number;
  recall?: number;
  f1?: number;
}
const thresholds = JSON.parse(readFileSync(join(CORPUS_DIR, 'thresholds.json'), 'utf8')) as {
  about: string;
  detectors: Record<string, { train: Floor; heldout: Floor; fresh: Floor }>;
};

const results = DETECTORS.map((spec) => ({ spec, outcomes: runDetector(spec) }));

test('prints precision, recall and F1 per detector and split', () => {
  const rows: Array<[string, string, Metrics]> = [];
  for (const { spec, outcomes } of results) {
    for (const split of ['train', 'heldout', 'fresh', 'all'] as const)
      rows.push([spec.name, split, detectorMetrics(outcomes, split)]);
  }
  console.log(`\n${table(rows)}\n`);
  const kindRows: Array<[string, string, Metrics]> = [];
  for (const { spec, outcomes } of results) {
    for (const [kind, m] of kindMetrics(outcomes, 'all')) kindRows.push([`${spec.name}/${kind}`, 'all', m]);
  }
  console.log(
    `per kind (all lines; a kind counts when the detector flags the line and reports that kind):\n${table(kindRows)}\n`,
  );
});

for (const { spec, outcomes } of results) {
  test(`${spec.name}: precision, recall and F1 stay at or above the recorded floors`, () => {
    const floors = thresholds.detectors[spec.name];
    assert.ok(floors, `thresholds.json has no entry for ${spec.name}`);
    for (const split of ['train', 'heldout', 'fresh'] as const) {
      const m = detectorMetrics(outcomes, split);
      const floor = floors[split];
      const misses = outcomes
        .filter((o) => inSplit(o.index, split))
        .filter((o) => o.predicted !== (o.line.label === 'malicious'))
        .map((o) => `${o.line.id} (${o.line.label}, score ${o.score.toFixed(2)}, ${o.line.technique})`);
      for (const key of ['precision', 'recall', 'f1'] as const) {
        const want = floor[key];
        if (want === undefined) continue;
        assert.ok(
          m[key] >= want,
          `${spec.name} ${split} ${key} ${m[key].toFixed(3)} < ${want}; wrong: ${misses.join(', ')}`,
        );
      }
    }
  });
}

test('every corpus line is well formed and ids are unique', () => {
  for (const { spec, outcomes } of results) {
    const ids = new Set<string>();
    for (const { line } of outcomes) {
      assert.ok(!ids.has(line.id), `duplicate id ${line.id}`);
      ids.add(line.id);
      assert.ok(line.label === 'benign' || line.label === 'malicious', `${line.id} label`);
      assert.ok(Array.isArray(line.kinds) && typeof line.technique === 'string', `${line.id} shape`);
      assert.ok(
        spec.name === 'tool-definition' ? line.definition !== undefined : typeof line.text === 'string',
        `${line.id} body`,
      );
      if (line.label === 'benign') assert.deepEqual(line.kinds, [], `${line.id}: benign lines name no kinds`);
    }
  }
});

test('every provider-token match contains a piece of the trigger that lets texts skip the token rules', () => {
  const { outcomes } = results.find((r) => r.spec.name === 'secrets')!;
  for (const { line } of outcomes) {
    for (const rule of TOKEN_RULES) {
      rule.pattern.lastIndex = 0;
      for (let m = rule.pattern.exec(line.text!); m !== null; m = rule.pattern.exec(line.text!)) {
        assert.ok(TOKEN_TRIGGER.test(m[0]), `${rule.kind}: ${m[0]}`);
      }
    }
  }
});
