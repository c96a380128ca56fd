// A list's governing rules, worked out once per list array and shared by every principal shape:
// filtering the list for a shape never seen before is then one pass over small integers
// (visibility.ts `filterList`), with no glob tested and no rule object touched, except where a
// condition on the time or claims has to run.
import type { CompiledRule } from './rules.ts';
import type { Target } from './types.ts';

export interface ListIndex {
  /** Per position: the rules governing that target (targets.ts), for conditions that must run. */
  readonly governing: readonly (readonly CompiledRule[])[];
  /** The same, flattened: target i's rule indices are `rules[starts[i]]` to `rules[starts[i + 1] - 1]`. */
  readonly starts: Uint32Array;
  readonly rules: Uint32Array;
}

/**
 * Remembers one index per list array (weakly: a catalog rebuilt drops its lists, and with them
 * their indexes). Like the per-shape cache, this assumes the array and its items are unchanged.
 */
export function listIndexes(
  governing: (target: Target) => readonly CompiledRule[],
): (targets: readonly Target[]) => ListIndex {
  const known = new WeakMap<readonly Target[], ListIndex>();
  return (targets) => {
    let index = known.get(targets);
    if (index === undefined) {
      index = buildListIndex(targets, governing);
      known.set(targets, index);
    }
    return index;
  };
}

function buildListIndex(
  targets: readonly Target[],
  governing: (target: Target) => readonly CompiledRule[],
): ListIndex {
  const lists = targets.map(governing);
  const starts = new Uint32Array(targets.length + 1);
  let total = 0;
  for (let i = 0; i < lists.length; i++) {
    starts[i] = total;
    total += lists[i]!.length;
  }
  starts[lists.length] = total;
  const rules = new Uint32Array(total);
  let j = 0;
  for (const list of lists) for (const rule of list) rules[j++] = rule.index;
  return { governing: lists, starts, rules };
}
