// Per principal "shape" (agent, user, roles, groups, teams), which rules can apply to it.
// Computed once per shape, so a decision tests no principal fields at all: it takes the rules
// governing the target (targets.ts) and keeps those this shape can use.
// Claims are not part of the shape: only conditions read them, and those run per decision.
import { Lru } from './lru.ts';
import { literals } from './match.ts';
import type { CompiledRule } from './rules.ts';
import type { Principal, Target } from './types.ts';
import { type FilteredList, listingBits } from './visibility.ts';

export interface ShapeRules {
  readonly key: string;
  /** Rules whose principals match this shape, in config order. */
  readonly rules: readonly CompiledRule[];
  /** By rule index: 1 when the rule's principals match this shape. */
  readonly applies: Uint8Array;
  /** By rule index: what the rule means for a list (visibility.ts `listingBits`), 0 if it does not apply. */
  readonly listing: Uint8Array;
  /** Filtered lists, keyed by the caller's (unchanged) list array; see visibility.ts. */
  readonly lists: WeakMap<readonly Target[], FilteredList>;
}

/** Order-insensitive for lists, so `[a, b]` and `[b, a]` share one entry. */
export function shapeKey(p: Principal): string {
  const set = (xs: readonly string[]) => (xs.length < 2 ? xs.join('\u0001') : [...xs].sort().join('\u0001'));
  return `${p.agent ?? ''}\u0000${p.user ?? ''}\u0000${set(p.roles)}\u0000${set(p.groups)}\u0000${set(p.teams)}`;
}

export function shapeRules(
  key: string,
  principal: Principal,
  candidates: readonly CompiledRule[],
  count: number,
): ShapeRules {
  const rules = candidates.filter((r) => r.appliesTo(principal));
  const applies = new Uint8Array(count);
  const listing = new Uint8Array(count);
  for (const rule of rules) {
    applies[rule.index] = 1;
    listing[rule.index] = listingBits(rule);
  }
  return { key, rules, applies, listing, lists: new WeakMap() };
}

type Field = 'roles' | 'teams' | 'groups' | 'users' | 'agents';
const FIELDS: readonly Field[] = ['roles', 'teams', 'groups', 'users', 'agents'];
const valuesOf = (p: Principal, field: Field): readonly string[] => {
  if (field === 'users') return p.user === undefined ? [] : [p.user];
  if (field === 'agents') return p.agent === undefined ? [] : [p.agent];
  return p[field];
};

/**
 * The rules a principal could match, found without testing every rule: each rule is filed under
 * the literal values of one field it constrains (its first all-literal one of roles, teams,
 * groups, users, agents), since a principal lacking all of them cannot match it. Rules about
 * anyone, or constraining only by pattern, are always candidates. Candidates are then tested in
 * full (`appliesTo`), so the index only ever saves work, never decides.
 */
export function principalIndex(all: readonly CompiledRule[]): (p: Principal) => CompiledRule[] {
  const byField = new Map<Field, Map<string, CompiledRule[]>>();
  const always: CompiledRule[] = [];
  for (const rule of all) {
    const field = FIELDS.find((f) => {
      const globs = rule.source.principals[f];
      return globs.length > 0 && literals(globs) !== undefined;
    });
    if (field === undefined) {
      always.push(rule);
      continue;
    }
    const byValue = byField.get(field) ?? new Map<string, CompiledRule[]>();
    byField.set(field, byValue);
    for (const value of new Set(rule.source.principals[field])) {
      const list = byValue.get(value);
      if (list) list.push(rule);
      else byValue.set(value, [rule]);
    }
  }
  const seen = new Uint32Array(all.length);
  let stamp = 0;
  return (principal) => {
    stamp = (stamp + 1) >>> 0 || 1;
    const found = [...always];
    for (const rule of always) seen[rule.index] = stamp;
    for (const [field, byValue] of byField) {
      for (const value of valuesOf(principal, field)) {
        for (const rule of byValue.get(value) ?? []) {
          if (seen[rule.index] === stamp) continue;
          seen[rule.index] = stamp;
          found.push(rule);
        }
      }
    }
    return found.sort((a, b) => a.index - b.index);
  };
}

/**
 * Shapes are remembered twice: by principal object (a principal is built once per
 * authentication and reused for every call it makes, so most lookups skip building the key) and
 * by key in a bounded LRU, so a new token for the same person finds the shape already computed.
 */
export function shapeCache(all: readonly CompiledRule[], maxShapes: number): (p: Principal) => ShapeRules {
  const candidates = principalIndex(all);
  const byKey = new Lru<string, ShapeRules>(maxShapes);
  const byObject = new WeakMap<Principal, ShapeRules>();
  return (principal) => {
    let shape = byObject.get(principal);
    if (shape !== undefined) return shape;
    const key = shapeKey(principal);
    shape = byKey.get(key);
    if (shape === undefined) {
      shape = shapeRules(key, principal, candidates(principal), all.length);
      byKey.set(key, shape);
    }
    byObject.set(principal, shape);
    return shape;
  };
}
