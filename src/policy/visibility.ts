// Visibility: what a list shows a principal. It is decide() without arguments, so listing and
// calling can never disagree in the direction that matters: what is hidden is never callable.
import type { CelContext } from './cel.ts';
import { type CompiledRule, celContext, conditionHolds } from './rules.ts';
import type { PolicyConfig } from './schema.ts';
import type { ShapeRules } from './shapes.ts';
import type { Principal, Target } from './types.ts';

/** Bit flags: the target is shown; the answer depended on the time or claims (not cacheable). */
export const VISIBLE = 1;
export const CONTEXTUAL = 2;

/**
 * A list request has no arguments, so a condition that reads `args` cannot be decided yet: such
 * an allow counts as possibly matching (shown; the call is decided when it comes) and such a
 * deny as possibly not (not hidden). Every other condition is evaluated as decide() would,
 * failing closed the same way. Hence: hidden ⇒ every call is denied, whatever its arguments.
 * `governing` are the rules whose targets match (targets.ts); `shape` says which apply.
 */
export function visibility(
  governing: readonly CompiledRule[],
  shape: ShapeRules,
  principal: Principal,
  target: Target,
  unmatched: PolicyConfig['unmatched'],
  now: Date,
): number {
  let governed = false;
  let allowPossible = false;
  let flags = 0;
  let ctx: CelContext | undefined;
  for (const rule of governing) {
    if (shape.applies[rule.index] !== 1) continue;
    const allow = rule.effect === 'allow';
    if (allow) governed = true;
    let holds = true;
    if (rule.condition?.usesArgs) holds = allow;
    else if (rule.condition !== undefined) {
      flags = CONTEXTUAL;
      ctx ??= celContext(principal, target, undefined, now);
      holds = conditionHolds(rule, ctx).holds;
    }
    if (holds && !allow) return flags; // deny wins
    if (holds) allowPossible = true;
  }
  return (governed ? allowPossible : unmatched === 'allow') ? flags | VISIBLE : flags;
}

/** A list filtered for one shape: verdicts per position, and the result if none is contextual. */
export interface FilteredList {
  readonly verdicts: Uint8Array;
  readonly result: readonly Target[] | undefined;
}

/**
 * Filters `targets`, reusing what an earlier call with the same array learnt: verdicts that did
 * not depend on the time or claims are kept, and only the others are worked out again.
 */
export function filterList<T extends Target>(
  targets: readonly T[],
  cache: WeakMap<readonly Target[], FilteredList>,
  see: (target: T) => number,
): readonly T[] {
  const known = cache.get(targets);
  if (known?.result !== undefined) return known.result as readonly T[];
  const verdicts = known?.verdicts ?? new Uint8Array(targets.length).fill(CONTEXTUAL);
  const result: T[] = [];
  let contextual = false;
  for (let i = 0; i < targets.length; i++) {
    const target = targets[i]!;
    if (verdicts[i]! & CONTEXTUAL) verdicts[i] = see(target);
    if (verdicts[i]! & CONTEXTUAL) contextual = true;
    if (verdicts[i]! & VISIBLE) result.push(target);
  }
  cache.set(targets, { verdicts, result: contextual ? undefined : result });
  return result;
}
