// A rule compiled once at config load: its principal and target checks and its condition.
// Also the one place that says what a condition's outcome means for a rule.
import { ConfigError } from '../errors.ts';
import { type CelContext, type Condition, compileCondition, evaluate, type Outcome } from './cel.ts';
import { type Check, DEFAULT_VIRTUAL_SERVER, principalChecks, targetChecks } from './match.ts';
import type { PolicyRule } from './schema.ts';
import type { Principal, Target } from './types.ts';

export interface CompiledRule {
  /** Position in the config; decisions report rules in this order. */
  readonly index: number;
  readonly id: string;
  readonly effect: 'allow' | 'deny';
  readonly source: PolicyRule;
  readonly principalChecks: readonly Check<Principal>[];
  readonly targetChecks: readonly Check<Target>[];
  readonly appliesTo: (principal: Principal) => boolean;
  readonly governs: (target: Target) => boolean;
  /**
   * `governs` for a target whose name is already known to match one of the rule's globs for its
   * kind (targets.ts finds such rules by name); undefined when nothing else is checked.
   */
  readonly governsNamed: ((target: Target) => boolean) | undefined;
  /** Upstream names when the rule names only literal servers; undefined means any server. */
  readonly servers: readonly string[] | undefined;
  readonly condition: Condition | undefined;
}

/** Throws ConfigError naming the rule, for a policy that did not come through `policySchema`. */
export function compileRules(rules: readonly PolicyRule[]): CompiledRule[] {
  return rules.map((rule, index) => {
    let condition: Condition | undefined;
    if (rule.when !== undefined) {
      const compiled = compileCondition(rule.when);
      if ('error' in compiled) throw new ConfigError(`policy rule "${rule.id}": ${compiled.error}`);
      condition = compiled.condition;
    }
    const who = principalChecks(rule.principals);
    const what = targetChecks(rule.targets);
    return {
      index,
      id: rule.id,
      effect: rule.effect,
      source: rule,
      principalChecks: who,
      targetChecks: what.checks,
      appliesTo: allOf(who),
      governs: allOf(what.checks),
      governsNamed: what.besidesName.length === 0 ? undefined : allOf(what.besidesName),
      servers: what.serverLiterals,
      condition,
    };
  });
}

function allOf<T>(checks: readonly Check<T>[]): (value: T) => boolean {
  if (checks.length === 0) return () => true;
  if (checks.length === 1) return checks[0]!.test;
  return (value) => {
    for (const c of checks) if (!c.test(value)) return false;
    return true;
  };
}

/** The variables a condition sees; absent fields are left out, so `has(principal.user)` works. */
export function celContext(principal: Principal, target: Target, args: unknown, now: Date): CelContext {
  const who: Record<string, unknown> = {
    roles: principal.roles,
    groups: principal.groups,
    teams: principal.teams,
    claims: principal.claims ?? {},
  };
  if (principal.agent !== undefined) who['agent'] = principal.agent;
  if (principal.user !== undefined) who['user'] = principal.user;
  return {
    args: (args ?? {}) as Record<string, unknown>,
    now,
    principal: who,
    target: {
      kind: target.kind,
      name: target.name,
      server: target.server,
      virtualServer: target.virtualServer || DEFAULT_VIRTUAL_SERVER,
      annotations: target.annotations ?? {},
    },
  };
}

/**
 * Whether a rule whose principals and targets match also matches once its condition is run.
 * A condition that cannot be evaluated (a missing argument, a type mismatch) fails CLOSED: a
 * deny rule then matches and an allow rule does not, so an odd or missing argument can never
 * widen access; the outcome is returned too, so callers can report the error.
 */
export function conditionHolds(rule: CompiledRule, ctx: CelContext): { holds: boolean; outcome?: Outcome } {
  if (rule.condition === undefined) return { holds: true };
  const outcome = evaluate(rule.condition, ctx);
  return { holds: outcome.ok ? outcome.value : rule.effect === 'deny', outcome };
}
