// A readable account of one decision, for `gatehouse policy explain`: the decision (taken from
// the engine itself, so the report can never disagree with what the gateway does), then every
// rule and why it did or did not match this principal and target.
import type { Policy } from './engine.ts';
import { firstFailure } from './match.ts';
import { type CompiledRule, celContext, conditionHolds } from './rules.ts';
import type { DecideOptions, Principal, Target } from './types.ts';

export function explain(
  policy: Policy,
  principal: Principal,
  target: Target,
  args?: unknown,
  options: DecideOptions = {},
): string {
  const now = options.now ?? new Date();
  const decision = policy.decide(principal, target, args, { now });
  const verdict = decision.wouldAllow ? 'ALLOW' : 'DENY';
  const lines = [
    `Decision: ${verdict}${decision.enforced ? '' : ` (not enforced: mode ${policy.mode})`} - ${decision.reason}`,
    `Visible in lists: ${policy.wouldSee(principal, target, { now }) ? 'yes' : 'no'}`,
    `Principal: ${describePrincipal(principal)}`,
    `Target: ${target.kind} ${target.name} on server ${target.server} via ${target.virtualServer || '/'}` +
      (target.annotations ? `, annotations ${JSON.stringify(target.annotations)}` : ''),
    `Arguments: ${args === undefined ? '(none)' : JSON.stringify(args)}`,
    `Time: ${now.toISOString()}`,
    `Policy: mode ${policy.mode}, ${policy.rules.length} rule(s), unmatched: ${policy.unmatched}`,
  ];
  const matched: string[] = [];
  const unmatched: string[] = [];
  for (const rule of policy.rules) {
    const { ok, why } = ruleVerdict(rule, principal, target, args, now);
    (ok ? matched : unmatched).push(`  ${rule.id} (${rule.effect}): ${why}`);
  }
  lines.push('', `Rules that matched (${matched.length}):`, ...(matched.length ? matched : ['  (none)']));
  lines.push(
    '',
    `Rules that did not match (${unmatched.length}):`,
    ...(unmatched.length ? unmatched : ['  (none)']),
  );
  return lines.join('\n');
}

function ruleVerdict(
  rule: CompiledRule,
  principal: Principal,
  target: Target,
  args: unknown,
  now: Date,
): { ok: boolean; why: string } {
  const who = firstFailure(rule.principalChecks, principal);
  if (who !== undefined) return { ok: false, why: `not this principal: needs ${who}` };
  const what = firstFailure(rule.targetChecks, target);
  if (what !== undefined) return { ok: false, why: `not this target: needs ${what}` };
  const scope = `applies to ${describeChecks(rule.principalChecks, 'anyone')} on ${describeChecks(rule.targetChecks, 'anything')}`;
  if (rule.condition === undefined) return { ok: true, why: `${scope}, unconditionally` };
  const { holds, outcome } = conditionHolds(rule, celContext(principal, target, args, now));
  const when = `when ${rule.condition.source}`;
  if (outcome === undefined || outcome.ok) {
    return { ok: holds, why: `${scope}; condition is ${holds} (${when})` };
  }
  // The fail-closed case, spelled out: an operator reading this wonders why a deny matched.
  const effect = rule.effect === 'deny' ? 'counts as matching (fail closed)' : 'counts as not matching';
  return { ok: holds, why: `${scope}; condition failed and ${effect}: ${outcome.error} (${when})` };
}

function describeChecks(checks: readonly { what: string }[], none: string): string {
  return checks.length === 0 ? none : checks.map((c) => c.what).join(' and ');
}

function describePrincipal(p: Principal): string {
  const parts = [
    p.user !== undefined ? `user ${p.user}` : 'no user',
    p.agent !== undefined ? `agent ${p.agent}` : 'no agent',
    `roles [${p.roles.join(', ')}]`,
    `groups [${p.groups.join(', ')}]`,
    `teams [${p.teams.join(', ')}]`,
  ];
  return parts.join(', ');
}
