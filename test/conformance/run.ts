// Runs the official MCP server conformance suite (@modelcontextprotocol/conformance) against
// Gatehouse fronting our conformance fixture, and/or against the fixture directly.
//
//   npm run conformance                          # through the gateway (what CI gates on)
//   npm run conformance -- --direct              # the fixture alone, over Streamable HTTP
//   npm run conformance -- --compare             # both, fixture first
//   npm run conformance -- --cli conformance-alpha --baseline none -- --requirements 2025-11-25
//   npm run conformance -- --cli conformance-alpha \
//     --baseline test/conformance/expected-failures.2026.yml -- --requirements 2026-07-28
//
// Options: --cli <package> (an installed conformance package or npm alias; default the stable
// one), --baseline <yaml|none> (default: expected-failures.yml through the gateway,
// expected-failures.direct.yml for the fixture alone), --keep (keep result files even on
// success), --verbose (echo the CLI's output).
// Anything after a bare `--` goes to the CLI verbatim and, if it picks scenarios itself
// (--scenario/--suite/--requirements), replaces the default `--suite all`.
// Exits with the CLI's code: with the baseline, 0 unless a scenario fails that isn't listed in
// it or one listed there now passes.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { cliPath, runCli } from './cli.ts';
import { printSummary, readResults } from './summary.ts';
import { startDirect, startThroughGateway, type Target } from './targets.ts';

const DEFAULT_BASELINES = {
  gateway: fileURLToPath(new URL('./expected-failures.yml', import.meta.url)),
  direct: fileURLToPath(new URL('./expected-failures.direct.yml', import.meta.url)),
};
/** A wedged shutdown must not hang CI; it is reported as a failure instead. */
const CLOSE_TIMEOUT_MS = 15_000;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    direct: { type: 'boolean', default: false },
    compare: { type: 'boolean', default: false },
    cli: { type: 'string', default: '@modelcontextprotocol/conformance' },
    baseline: { type: 'string' },
    keep: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});

/** The baseline file for a target, or undefined to run without one. */
function baselineFor(label: keyof typeof DEFAULT_BASELINES): string | undefined {
  const path = values.baseline ?? DEFAULT_BASELINES[label];
  if (path === 'none') return undefined;
  if (!existsSync(path)) {
    console.error(`baseline ${path} not found (use --baseline none to run without one)`);
    process.exit(2);
  }
  return path;
}

function expectedFailures(baseline: string | undefined): Set<string> {
  if (!baseline) return new Set();
  const parsed = parseYaml(readFileSync(baseline, 'utf8')) as { server?: string[] } | null;
  return new Set(parsed?.server ?? []);
}

const picksScenarios = positionals.some((a) => /^--(scenario|suite|requirements)\b/.test(a));
const cli = cliPath(values.cli);
const resultsRoot = mkdtempSync(join(tmpdir(), 'gatehouse-conformance-'));

const targets: Array<[keyof typeof DEFAULT_BASELINES, () => Promise<Target>]> = [];
if (values.direct || values.compare) targets.push(['direct', startDirect]);
if (!values.direct) targets.push(['gateway', startThroughGateway]);

async function closeWithin(target: Target): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS);
  });
  const closed = target.close().then(
    () => true,
    (error: unknown) => {
      console.error(`closing ${target.name} failed:`, error);
      return false;
    },
  );
  const ok = await Promise.race([closed, timedOut]);
  clearTimeout(timer);
  if (!ok) console.error(`${target.name} did not close cleanly within ${CLOSE_TIMEOUT_MS / 1000} s`);
  return ok;
}

async function runAgainst(
  label: keyof typeof DEFAULT_BASELINES,
  start: () => Promise<Target>,
): Promise<number> {
  const outDir = join(resultsRoot, label);
  const baseline = baselineFor(label);
  let target: Target;
  try {
    target = await start();
  } catch (error) {
    console.error(`\n=== ${label}: could not start ===\n`, error);
    return 1;
  }
  try {
    const args = ['server', '--url', target.url, '-o', outDir];
    if (!picksScenarios) args.push('--suite', 'all');
    if (baseline) args.push('--expected-failures', baseline);
    args.push(...positionals);
    console.log(`\nconformance ${args.join(' ')}`);
    const run = await runCli(cli, args, { logFile: `${outDir}.log`, echo: values.verbose });
    printSummary(
      `${target.name}: ${target.url}`,
      readResults(outDir),
      expectedFailures(baseline),
      run.output,
    );
    console.log(`exit code ${run.exitCode}`);
    return run.exitCode;
  } finally {
    if (!(await closeWithin(target))) process.exitCode = 1;
  }
}

let exitCode = 0;
for (const [label, start] of targets) {
  const code = await runAgainst(label, start);
  if (code !== 0) exitCode = code;
}
if (process.exitCode) exitCode ||= Number(process.exitCode);

if (exitCode === 0 && !values.keep) rmSync(resultsRoot, { recursive: true, force: true });
else console.log(`\nresult files and CLI logs: ${resultsRoot}`);
// Explicit exit: a leftover handle in the gateway must not keep CI waiting.
process.exit(exitCode);
