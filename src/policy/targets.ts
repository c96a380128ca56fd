// Which rules govern a target, found without testing every rule: rules are indexed by the
// names they list (exact names, `prefix*`, `*suffix`), or else by the literal servers they name;
// only the rest is tried on every target. A rule found by name is not asked about its name
// again, only about what else it requires (server, endpoint, annotations). The answer is
// remembered per target (bounded LRU), since the same few thousand tools are decided on again
// and again. It does not depend on the principal, so one shape's work speeds up every other's.
import { Lru } from './lru.ts';
import { DEFAULT_VIRTUAL_SERVER } from './match.ts';
import type { CompiledRule } from './rules.ts';
import type { Target, TargetKind } from './types.ts';

interface KindIndex {
  exact: Map<string, CompiledRule[]>;
  prefixes: Map<string, CompiledRule[]>;
  prefixLengths: number[];
  suffixes: Map<string, CompiledRule[]>;
  suffixLengths: number[];
  /**
   * Rules whose names need a full test (other patterns, `*`, or no names listed), filed by the
   * servers they name when all are literal: a target on another server cannot match them.
   */
  byServer: Map<string, CompiledRule[]>;
  /** The rest of those: tested against every target of this kind. */
  scan: CompiledRule[];
}

const none: readonly CompiledRule[] = [];

export function targetIndex(
  rules: readonly CompiledRule[],
  maxTargets: number,
): (target: Target) => readonly CompiledRule[] {
  const byKind = { tool: emptyIndex(), resource: emptyIndex(), prompt: emptyIndex() };
  for (const rule of rules) {
    const { tools, resources, prompts } = rule.source.targets;
    const lists: Record<TargetKind, string[] | undefined> = {
      tool: tools,
      resource: resources,
      prompt: prompts,
    };
    const listsAny = Object.values(lists).some((l) => l !== undefined && l.length > 0);
    for (const kind of ['tool', 'resource', 'prompt'] as const) {
      const index = byKind[kind];
      const globs = listsAny ? (lists[kind] ?? []) : ['*'];
      const keys = globs.map(nameKey);
      // One glob that needs a full test means every target of the kind (on the rule's servers)
      // is tested in full, and then filing the rule's other globs by name would add nothing.
      if (keys.some((k) => k === undefined)) {
        const buckets =
          rule.servers === undefined ? [index.scan] : rule.servers.map((s) => listIn(index.byServer, s));
        for (const bucket of buckets) if (bucket.at(-1) !== rule) bucket.push(rule);
      } else {
        for (const [where, key] of keys as [keyof typeof NAMED, string][]) {
          const list = listIn(index[NAMED[where]], key);
          if (list.at(-1) !== rule) list.push(rule);
        }
      }
    }
  }
  for (const index of Object.values(byKind)) {
    index.prefixLengths = [...new Set([...index.prefixes.keys()].map((p) => p.length))];
    index.suffixLengths = [...new Set([...index.suffixes.keys()].map((s) => s.length))];
  }

  // Annotations take part in matching only through the keys some rule names.
  // A tool's readOnlyHint changes the defaults of its other hints (match.ts `toolHint`).
  const named = rules.flatMap((r) => Object.keys(r.source.targets.annotations));
  const annotationKeys = [...new Set(named.length > 0 ? ['readOnlyHint', ...named] : [])];
  const memo = new Lru<string, readonly CompiledRule[]>(maxTargets);
  const seen = new Uint32Array(rules.length);
  let stamp = 0;

  const compute = (target: Target): readonly CompiledRule[] => {
    const index = byKind[target.kind];
    const name = target.name;
    const found: CompiledRule[] = [];
    let sorted = true;
    stamp = (stamp + 1) >>> 0 || 1;
    // `named`: the rules in `list` are there because one of their globs matches this name.
    const take = (list: readonly CompiledRule[] | undefined, named: boolean) => {
      if (list === undefined) return;
      for (const rule of list) {
        if (seen[rule.index] === stamp) continue;
        seen[rule.index] = stamp;
        const rest = named ? rule.governsNamed : rule.governs;
        if (rest !== undefined && !rest(target)) continue;
        if (found.length > 0 && found[found.length - 1]!.index > rule.index) sorted = false;
        found.push(rule);
      }
    };
    take(index.exact.get(name), true);
    for (const n of index.prefixLengths)
      if (n <= name.length) take(index.prefixes.get(name.slice(0, n)), true);
    for (const n of index.suffixLengths) if (n <= name.length) take(index.suffixes.get(name.slice(-n)), true);
    take(index.byServer.get(target.server), false);
    take(index.scan, false);
    if (found.length === 0) return none;
    return sorted ? found : found.sort((a, b) => a.index - b.index);
  };

  // Catalog entries are long-lived objects: most lookups find them here without building a key.
  const byObject = new WeakMap<Target, readonly CompiledRule[]>();
  return (target) => {
    const known = byObject.get(target);
    if (known !== undefined) return known;
    let key = `${target.kind}\u0000${target.server}\u0000${target.virtualServer || DEFAULT_VIRTUAL_SERVER}\u0000${target.name}`;
    for (const k of annotationKeys) key += `\u0000${encode(target.annotations?.[k])}`;
    let governing = memo.get(key);
    if (governing === undefined) {
      governing = compute(target);
      memo.set(key, governing);
    }
    byObject.set(target, governing);
    return governing;
  };
}

/** An annotation value in a memo key: unambiguous (JSON never holds a raw NUL), cheap for flags. */
function encode(value: unknown): string {
  if (value === true) return 't';
  if (value === false) return 'f';
  if (value === undefined) return 'u';
  return JSON.stringify(value) ?? 'x';
}

function emptyIndex(): KindIndex {
  return {
    exact: new Map(),
    prefixes: new Map(),
    prefixLengths: [],
    suffixes: new Map(),
    suffixLengths: [],
    byServer: new Map(),
    scan: [],
  };
}

const NAMED = { exact: 'exact', prefix: 'prefixes', suffix: 'suffixes' } as const;
const wild = (s: string) => /[*?]/.test(s);

/** Where a glob is filed by name: a literal, `prefix*` or `*suffix`; undefined for other patterns. */
function nameKey(glob: string): [keyof typeof NAMED, string] | undefined {
  if (!wild(glob)) return ['exact', glob];
  if (glob.length > 1 && glob.endsWith('*') && !wild(glob.slice(0, -1))) return ['prefix', glob.slice(0, -1)];
  if (glob.length > 1 && glob.startsWith('*') && !wild(glob.slice(1))) return ['suffix', glob.slice(1)];
  return undefined;
}

function listIn(map: Map<string, CompiledRule[]>, key: string): CompiledRule[] {
  const list = map.get(key) ?? [];
  map.set(key, list);
  return list;
}
