// Visibility: what a list shows a principal. It is decide() without arguments, so listing and
// calling can never disagree in the direction that matters: what is hidden is never callable.
import type { CelContext } from './cel.ts';
import type { ListIndex } from './list-index.ts';
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
 * `memo`, when given, keeps the outcomes of conditions that do not read `target` (by rule index:
 * 1 holds, 2 does not), to be shared by the targets of one list request (same principal, same
 * `now`), where such a condition has one outcome for all of them.
 */
export function visibility(
  governing: readonly CompiledRule[],
  shape: ShapeRules,
  principal: Principal,
  target: Target,
  unmatched: PolicyConfig['unmatched'],
  now: Date,
  memo?: Uint8Array,
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
      const shared = memo !== undefined && !rule.condition.usesTarget;
      const known = shared ? memo[rule.index]! : 0;
      if (known !== 0) holds = known === 1;
      else {
        ctx ??= celContext(principal, target, undefined, now);
        holds = conditionHolds(rule, ctx).holds;
        if (shared) memo[rule.index] = holds ? 1 : 2;
      }
    }
    if (holds && !allow) return flags; // deny wins
    if (holds) allowPossible = true;
  }
  return (governed ? allowPossible : unmatched === 'allow') ? flags | VISIBLE : flags;
}

// What one applicable rule means for a list, as bits to OR over a target's governing rules, so
// most targets are decided with no condition run and no rule object touched (filterList).
/** An allow that may match: unconditional, or its condition reads `args` (see above). */
export const LIST_ALLOW = 1;
/** Any allow: once one governs a target, only a matching allow shows it. */
export const LIST_GOVERNS = 2;
/** A condition on the time or claims must be run: visibility() decides. */
export const LIST_CONTEXT = 4;
/** ... and at least one such condition is a deny's. */
export const LIST_CONTEXT_DENY = 8;
/** An unconditional deny: hidden, whatever else applies (deny wins). */
export const LIST_DENY = 16;

/** The bits for `rule`; 0 for a deny whose condition reads `args`, which never hides. */
export function listingBits(rule: CompiledRule): number {
  const c = rule.condition;
  if (rule.effect === 'allow')
    return c === undefined || c.usesArgs ? LIST_ALLOW | LIST_GOVERNS : LIST_GOVERNS | LIST_CONTEXT;
  if (c === undefined) return LIST_DENY;
  return c.usesArgs ? 0 : LIST_CONTEXT | LIST_CONTEXT_DENY;
}

/** What visibility() would say, from the OR of a target's bits; NEEDS_RUN if a condition must run. */
const NEEDS_RUN = 255;
function verdictOf(bits: number, unmatchedAllow: boolean): number {
  if (bits & LIST_DENY) return 0;
  // Conditions on time or claims can only add allows to an allow that may already match, so
  // with no such deny among them the answer does not depend on them (and can be cached).
  if (bits & LIST_CONTEXT) return bits & LIST_ALLOW && !(bits & LIST_CONTEXT_DENY) ? VISIBLE : NEEDS_RUN;
  return (bits & LIST_GOVERNS ? bits & LIST_ALLOW : unmatchedAllow) ? VISIBLE : 0;
}

/** A list filtered for one shape: verdicts per position, and the result if none is contextual. */
export interface FilteredList {
  readonly verdicts: Uint8Array;
  readonly result: readonly Target[] | undefined;
}

/**
 * Filters `targets` (whose governing rules `index` holds) for `shape`, reusing what an earlier
 * call with the same array learnt: verdicts that did not depend on the time or claims are kept,
 * and only the others are worked out again, by `see` (visibility() for one target).
 */
export function filterList<T extends Target>(
  targets: readonly T[],
  index: ListIndex,
  shape: ShapeRules,
  unmatched: PolicyConfig['unmatched'],
  see: (target: T, governing: readonly CompiledRule[]) => number,
): readonly T[] {
  const known = shape.lists.get(targets);
  if (known?.result !== undefined) return known.result as readonly T[];
  const verdicts = known?.verdicts ?? firstVerdicts(index, shape.listing, unmatched === 'allow');
  const result: T[] = [];
  let contextual = false;
  for (let i = 0; i < targets.length; i++) {
    let v = verdicts[i]!;
    if (v & CONTEXTUAL) {
      v = see(targets[i]!, index.governing[i]!);
      verdicts[i] = v;
      if (v & CONTEXTUAL) contextual = true;
    }
    if (v & VISIBLE) result.push(targets[i]!);
  }
  shape.lists.set(targets, { verdicts, result: contextual ? undefined : result });
  return result;
}

/**
 * One pass over the flattened index: per target, the OR of its applicable rules' bits, stopping
 * at an unconditional deny. Targets that need a condition run are marked CONTEXTUAL.
 */
function firstVerdicts(index: ListIndex, listing: Uint8Array, unmatchedAllow: boolean): Uint8Array {
  const { starts, rules } = index;
  const n = starts.length - 1;
  const verdicts = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let bits = 0;
    const end = starts[i + 1]!;
    for (let j = starts[i]!; j < end; j++) {
      bits |= listing[rules[j]!]!;
      if (bits & LIST_DENY) break;
    }
    const v = verdictOf(bits, unmatchedAllow);
    verdicts[i] = v === NEEDS_RUN ? CONTEXTUAL : v;
  }
  return verdicts;
}
