// Per-scenario summary built from the CLI's result files (`<out>/server-<scenario>-<time>/checks.json`),
// shorter than the CLI's own output and with the reason next to every failure or warning.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED';
  errorMessage?: string;
}

export interface ScenarioResult {
  scenario: string;
  passed: number;
  failed: number;
  warnings: number;
  problems: string[];
}

const RESULT_DIR = /^server-(.+)-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/;

export function readResults(outDir: string): ScenarioResult[] {
  const results: ScenarioResult[] = [];
  if (!existsSync(outDir)) return results; // the CLI died before running anything
  for (const entry of readdirSync(outDir, { withFileTypes: true })) {
    const scenario = entry.isDirectory() ? RESULT_DIR.exec(entry.name)?.[1] : undefined;
    if (!scenario) continue;
    const checks = JSON.parse(readFileSync(join(outDir, entry.name, 'checks.json'), 'utf8')) as Check[];
    const count = (status: Check['status']) => checks.filter((c) => c.status === status).length;
    results.push({
      scenario,
      passed: count('SUCCESS'),
      failed: count('FAILURE'),
      warnings: count('WARNING'),
      problems: checks
        .filter((c) => c.status === 'FAILURE' || c.status === 'WARNING')
        .map(
          (c) => `${c.status === 'FAILURE' ? 'fail' : 'warn'} ${c.id}: ${c.errorMessage ?? '(no message)'}`,
        ),
    });
  }
  return results;
}

/** The CLI's totals and baseline verdict: its output from "Total:" (suite) or "Test Results:" (one scenario). */
function baselineVerdict(cliOutput: string): string {
  const at = cliOutput.search(/^(Total: |Test Results:)/m);
  if (at < 0) return cliOutput.trim().split('\n').slice(-20).join('\n');
  return cliOutput.slice(at).trim();
}

export function printSummary(
  title: string,
  results: ScenarioResult[],
  expected: Set<string>,
  cliOutput: string,
) {
  console.log(`\n=== ${title} ===`);
  const width = Math.max(0, ...results.map((r) => r.scenario.length));
  for (const r of results) {
    // '-': nothing scored, e.g. server-sse-polling skips its checks when answered with plain JSON.
    const mark = r.failed > 0 ? '✗' : r.warnings > 0 ? '!' : r.passed === 0 ? '-' : '✓';
    const counts = [`${r.passed} passed`];
    if (r.failed) counts.push(`${r.failed} failed`);
    if (r.warnings) counts.push(`${r.warnings} warnings`);
    const note = expected.has(r.scenario) ? '  (expected failure)' : '';
    console.log(`  ${mark} ${r.scenario.padEnd(width)}  ${counts.join(', ')}${note}`);
    for (const problem of r.problems) console.log(`      ${problem}`);
  }
  const sum = (key: 'passed' | 'failed' | 'warnings') => results.reduce((n, r) => n + r[key], 0);
  console.log(
    `  ${results.length} scenarios: ${sum('passed')} checks passed, ${sum('failed')} failed, ${sum('warnings')} warnings`,
  );
  console.log(`\n${baselineVerdict(cliOutput)}`);
}
