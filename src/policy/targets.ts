// Which rules govern a target, found without testing every rule: rules are indexed by the
// names they list (exact names, `prefix*`, `*suffix`), and the answer is remembered per target
// (bounded LRU), since the same few thousand tools are decided on again and again. This does not
// depend on the principal, so one shape's work speeds up every other shape's.
import { Lru } from './lru.ts';
import { DEFAULT_VIRTUAL_SERVER } from './match.ts';
import type { CompiledRule } from './rules.ts';
import type { Target, TargetKind } from './types.ts';

interface NameIndex {
  exact: Map<string, CompiledRule[]>;
  prefixes: Map<string, CompiledRule[]>;
  prefixLengths: number[];
  suffixes: Map<string, CompiledRule[]>;
  suffixLengths: number[];
  /** Rules whose names need a full test: other patterns, `*`, and rules listing no names. */
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
      if (!listsAny) byKind[kind].scan.push(rule);
      else for (const glob of lists[kind] ?? []) add(byKind[kind], glob, rule);
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
    stamp = (stamp + 1) >>> 0 || 1;
    const take = (list: readonly CompiledRule[] | undefined) => {
      for (const rule of list ?? none) {
        if (seen[rule.index] === stamp) continue;
        seen[rule.index] = stamp;
        if (rule.governs(target)) found.push(rule);
      }
    };
    take(index.exact.get(name));
    for (const n of index.prefixLengths) if (n <= name.length) take(index.prefixes.get(name.slice(0, n)));
    for (const n of index.suffixLengths) if (n <= name.length) take(index.suffixes.get(name.slice(-n)));
    take(index.scan);
    return found.length === 0 ? none : found.sort((a, b) => a.index - b.index);
  };

  // Catalog entries are long-lived objects: most lookups find them here without building a key.
  const byObject = new WeakMap<Target, readonly CompiledRule[]>();
  return (target) => {
    const known = byObject.get(target);
    if (known !== undefined) return known;
    let key = `${target.kind}\u0000${target.server}\u0000${target.virtualServer || DEFAULT_VIRTUAL_SERVER}\u0000${target.name}`;
    for (const k of annotationKeys) key += `\u0000${JSON.stringify(target.annotations?.[k])}`;
    let governing = memo.get(key);
    if (governing === undefined) {
      governing = compute(target);
      memo.set(key, governing);
    }
    byObject.set(target, governing);
    return governing;
  };
}

function emptyIndex(): NameIndex {
  return {
    exact: new Map(),
    prefixes: new Map(),
    prefixLengths: [],
    suffixes: new Map(),
    suffixLengths: [],
    scan: [],
  };
}

function add(index: NameIndex, glob: string, rule: CompiledRule): void {
  const push = (map: Map<string, CompiledRule[]>, key: string) => {
    const list = map.get(key);
    if (list) list.push(rule);
    else map.set(key, [rule]);
  };
  const wild = (s: string) => /[*?]/.test(s);
  if (!wild(glob)) push(index.exact, glob);
  else if (glob.endsWith('*') && !wild(glob.slice(0, -1)) && glob.length > 1)
    push(index.prefixes, glob.slice(0, -1));
  else if (glob.startsWith('*') && !wild(glob.slice(1)) && glob.length > 1)
    push(index.suffixes, glob.slice(1));
  else if (!index.scan.includes(rule)) index.scan.push(rule);
}
