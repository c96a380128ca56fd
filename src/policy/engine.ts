// The policy engine: one rule set decides both what a principal sees (lists) and what it may
// call, so the two can never disagree in the direction that matters: what is hidden is never
// callable. Semantics, in order:
//   1. mode `off`, or no rules at all: everything is allowed.
//   2. A rule *governs* a call when its principals and targets match; it *matches* when its
//      condition also holds (conditions fail closed, see rules.ts `conditionHolds`).
//   3. Any matching deny denies (deny wins, whatever the order).
//   4. Else any matching allow allows.
//   5. Else, if some allow rule governs the call, it is denied: once an allow is about a
//      target, only what is allowed is allowed. If none does, `unmatched` decides (allow by
//      default). Only allows count here: were a governing deny enough, a deny whose condition
//      is false would still deny, and `deny ... when: args.amount > 1000` would deny every call.
//   6. In `shadow` mode the decision is computed and reported (`wouldAllow`), never applied.
import { listIndexes } from './list-index.ts';
import { type CompiledRule, celContext, compileRules, conditionHolds } from './rules.ts';
import type { PolicyConfig } from './schema.ts';
import { type ShapeRules, shapeCache } from './shapes.ts';
import { targetIndex } from './targets.ts';
import type { DecideOptions, Decision, Principal, Target } from './types.ts';
import { filterList, VISIBLE, visibility } from './visibility.ts';

export interface Policy {
  readonly mode: PolicyConfig['mode'];
  readonly unmatched: PolicyConfig['unmatched'];
  readonly rules: readonly CompiledRule[];
  /** May `principal` call `target` with `args`? */
  decide(principal: Principal, target: Target, args?: unknown, options?: DecideOptions): Decision;
  /** May `principal` see `target` in a list? False only when enforcing and the rules hide it. */
  visible(principal: Principal, target: Target, options?: DecideOptions): boolean;
  /** What the rules say about visibility, whatever the mode (for shadow-mode reporting). */
  wouldSee(principal: Principal, target: Target, options?: DecideOptions): boolean;
  /**
   * The visible part of a list. Pass the same array object while the list is unchanged: which
   * rules govern each item is worked out once for the array (whoever asks), the verdicts once
   * per principal shape, and only verdicts that depend on the time or claims are redone. Treat
   * both the array and its items as immutable.
   */
  filter<T extends Target>(
    principal: Principal,
    targets: readonly T[],
    options?: DecideOptions,
  ): readonly T[];
  /** The rules that can apply to this principal's shape; memoised (bounded LRU). */
  rulesFor(principal: Principal): ShapeRules;
}

export interface CompileOptions {
  /** How many principal shapes to remember. */
  maxShapes?: number;
  /** How many targets' governing rules to remember (tools × virtual servers, and more). */
  maxTargets?: number;
}

/** Compiles every rule and condition now; a bad condition throws a ConfigError naming its rule. */
export function compilePolicy(config: PolicyConfig, options: CompileOptions = {}): Policy {
  const rules = compileRules(config.rules);
  const rulesFor = shapeCache(rules, options.maxShapes ?? 1000);
  const governing = targetIndex(rules, options.maxTargets ?? 50_000);
  const indexOf = listIndexes(governing);
  const { mode, unmatched } = config;
  const inactive = mode === 'off' || rules.length === 0;

  const decide = (principal: Principal, target: Target, args?: unknown, opts?: DecideOptions): Decision => {
    if (inactive) {
      const reason = mode === 'off' ? 'policy is off' : 'no policy rules';
      return { allow: true, enforced: mode === 'enforce', wouldAllow: true, reason, matched: [] };
    }
    const shape = rulesFor(principal);
    const matched: CompiledRule[] = [];
    let governed = 0;
    let ctx: ReturnType<typeof celContext> | undefined;
    const consider = (rule: CompiledRule) => {
      if (rule.effect === 'allow') governed++;
      if (rule.condition !== undefined) {
        ctx ??= celContext(principal, target, args, opts?.now ?? new Date());
        if (!conditionHolds(rule, ctx).holds) return;
      }
      matched.push(rule);
    };
    for (const rule of governing(target)) if (shape.applies[rule.index] === 1) consider(rule);

    const deny = matched.find((r) => r.effect === 'deny');
    const allowRule = deny ? undefined : matched.find((r) => r.effect === 'allow');
    const decided = deny ?? allowRule;
    const wouldAllow = deny ? false : allowRule ? true : governed > 0 ? false : unmatched === 'allow';
    const reason = deny
      ? `denied by rule "${deny.id}"`
      : allowRule
        ? `allowed by rule "${allowRule.id}"`
        : governed > 0
          ? `no allow rule matched, though ${governed} allow rule(s) govern this target`
          : `no allow rule governs this target; unmatched: ${unmatched}`;
    const enforced = mode === 'enforce';
    const decision: Decision = {
      allow: enforced ? wouldAllow : true,
      enforced,
      wouldAllow,
      reason,
      matched: matched.map((r) => r.id),
    };
    if (decided) decision.ruleId = decided.id;
    return decision;
  };

  const wouldSee = (principal: Principal, target: Target, opts?: DecideOptions): boolean => {
    if (inactive) return true;
    const shape = rulesFor(principal);
    return (
      (visibility(governing(target), shape, principal, target, unmatched, opts?.now ?? new Date()) &
        VISIBLE) !==
      0
    );
  };

  const filter = <T extends Target>(principal: Principal, targets: readonly T[], opts?: DecideOptions) => {
    if (inactive || mode !== 'enforce') return targets;
    const shape = rulesFor(principal);
    const now = opts?.now ?? new Date();
    let memo: Uint8Array | undefined; // conditions not reading `target`: one outcome per list
    return filterList(targets, indexOf(targets), shape, unmatched, (t, rulesOfT) => {
      memo ??= new Uint8Array(rules.length);
      return visibility(rulesOfT, shape, principal, t, unmatched, now, memo);
    });
  };

  return {
    mode,
    unmatched,
    rules,
    decide,
    visible: (principal, target, opts) => mode !== 'enforce' || wouldSee(principal, target, opts),
    wouldSee,
    filter,
    rulesFor,
  };
}
