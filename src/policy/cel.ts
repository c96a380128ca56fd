// Rule conditions (`when`) in CEL. One environment for every rule, built once: building one is
// the expensive part, evaluating a parsed expression costs microseconds.
import { Environment } from '@marcbachmann/cel-js';

/**
 * The variables a condition can use:
 * - `args`: the call's arguments (tools/call arguments, prompts/get arguments); `{}` when none.
 * - `now`: the time of the decision, a timestamp. `now.getHours()` is UTC and cheap;
 *   `now.getHours("Europe/Berlin")` works too but costs far more per call.
 * - `principal`: `{ agent?, user?, roles, groups, teams, claims }`.
 * - `target`: `{ kind, name, server, virtualServer, annotations }`.
 */
const env = new Environment()
  .registerVariable('args', 'map')
  .registerVariable('now', 'google.protobuf.Timestamp')
  .registerVariable('principal', 'map')
  .registerVariable('target', 'map');

export interface CelContext {
  args: Record<string, unknown>;
  now: Date;
  principal: unknown;
  target: unknown;
}

export interface Condition {
  readonly source: string;
  /**
   * Whether the expression reads `args`. A list request has no arguments, so visibility cannot
   * evaluate such a condition and has to assume it may pass (see visibility.ts `visibility`).
   */
  readonly usesArgs: boolean;
  /**
   * Whether the expression reads `target`. One that does not has the same outcome for every
   * target of one list request (same principal, same `now`), so filtering runs it once per list.
   */
  readonly usesTarget: boolean;
  readonly program: (ctx: CelContext) => unknown;
}

/** A condition's outcome: a thrown evaluation is a value here, so callers must decide its meaning. */
export type Outcome = { ok: true; value: boolean } | { ok: false; error: string };

/** Parses and type-checks `source`; the error text is for an operator reading a config error. */
export function compileCondition(source: string): { condition: Condition } | { error: string } {
  let program: ((ctx: CelContext) => unknown) & { ast: unknown };
  try {
    program = env.parse(source) as typeof program;
  } catch (err) {
    return { error: `CEL syntax error: ${describe(err)}` };
  }
  const checked = env.check(source);
  if (!checked.valid) return { error: `CEL type error: ${describe(checked.error)}` };
  // `dyn` is allowed: `args.flag` is only known to be a bool when it is evaluated.
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    return { error: `CEL condition must be a bool, but this one gives ${checked.type}` };
  }
  const usesArgs = readsVariable(program.ast, 'args');
  return { condition: { source, usesArgs, usesTarget: readsVariable(program.ast, 'target'), program } };
}

export function evaluate(condition: Condition, ctx: CelContext): Outcome {
  let value: unknown;
  try {
    value = condition.program(ctx);
  } catch (err) {
    return { ok: false, error: describe(err) };
  }
  if (typeof value !== 'boolean') return { ok: false, error: `gave ${typeof value}, not a bool` };
  return { ok: true, value };
}

/** One line, with the offset into the expression when the library knows it. */
function describe(err: unknown): string {
  const e = err as { summary?: string; message?: string; range?: { start: number } };
  const text = e.summary ?? e.message ?? String(err);
  return e.range ? `${text} (at character ${e.range.start + 1})` : text;
}

/**
 * Walks the parsed AST for an identifier. Conservative: a macro variable that happens to be
 * named `args` also counts, which only makes visibility more generous for allows and more
 * cautious about hiding for denies, never inconsistent.
 */
function readsVariable(node: unknown, name: string): boolean {
  if (Array.isArray(node)) return node.some((n) => readsVariable(n, name));
  if (node === null || typeof node !== 'object') return false;
  const n = node as { op?: unknown; args?: unknown };
  if (n.op === 'id') return n.args === name;
  return typeof n.op === 'string' && readsVariable(n.args, name);
}
