// Per principal "shape" (agent, user, roles, groups, teams), which rules can apply to it.
// Computed once per shape, so a decision tests no principal fields at all: it takes the rules
// governing the target (targets.ts) and keeps those this shape can use.
// Claims are not part of the shape: only conditions read them, and those run per decision.
import { Lru } from './lru.ts';
import type { CompiledRule } from './rules.ts';
import type { Principal, Target } from './types.ts';
import type { FilteredList } from './visibility.ts';

export interface ShapeRules {
  readonly key: string;
  /** Rules whose principals match this shape, in config order. */
  readonly rules: readonly CompiledRule[];
  /** By rule index: 1 when the rule's principals match this shape. */
  readonly applies: Uint8Array;
  /** Filtered lists, keyed by the caller's (unchanged) list array; see visibility.ts. */
  readonly lists: WeakMap<readonly Target[], FilteredList>;
}

/** Order-insensitive for lists, so `[a, b]` and `[b, a]` share one entry. */
export function shapeKey(p: Principal): string {
  const set = (xs: readonly string[]) => (xs.length < 2 ? xs.join('\u0001') : [...xs].sort().join('\u0001'));
  return `${p.agent ?? ''}\u0000${p.user ?? ''}\u0000${set(p.roles)}\u0000${set(p.groups)}\u0000${set(p.teams)}`;
}

export function shapeRules(key: string, principal: Principal, all: readonly CompiledRule[]): ShapeRules {
  const rules = all.filter((r) => r.appliesTo(principal));
  const applies = new Uint8Array(all.length);
  for (const rule of rules) applies[rule.index] = 1;
  return {
    key,
    rules,
    applies,
    lists: new WeakMap(),
  };
}

/**
 * Shapes are remembered twice: by principal object (a principal is built once per
 * authentication and reused for every call it makes, so most lookups skip building the key) and
 * by key in a bounded LRU, so a new token for the same person finds the shape already computed.
 */
export function shapeCache(all: readonly CompiledRule[], maxShapes: number): (p: Principal) => ShapeRules {
  const byKey = new Lru<string, ShapeRules>(maxShapes);
  const byObject = new WeakMap<Principal, ShapeRules>();
  return (principal) => {
    let shape = byObject.get(principal);
    if (shape !== undefined) return shape;
    const key = shapeKey(principal);
    shape = byKey.get(key);
    if (shape === undefined) {
      shape = shapeRules(key, principal, all);
      byKey.set(key, shape);
    }
    byObject.set(principal, shape);
    return shape;
  };
}
