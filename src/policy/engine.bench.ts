// Policy engine cost, printed (a script, not a test: timings never gate a test run).
//   node src/policy/engine.bench.ts
// Targets (issue 3): decide() ≤ 20 µs per call; filtering a 5,000-tool list for one principal
// shape ≤ 2 ms cold, cached after. "Cold" is a principal shape the policy has never seen, on a
// list it has never filtered for that shape: the shape's applicable rules and every verdict are
// worked out, and only what does not depend on the principal (which rules govern each target of
// the list, kept per list array) is already known from an earlier list request by someone else.
// The very first list after a (re)load, which works that out too, is reported on its own line.
import { compilePolicy, type Policy } from './engine.ts';
import { type PolicyConfig, policySchema } from './schema.ts';
import { shapeKey } from './shapes.ts';
import type { Principal, Target } from './types.ts';

const SERVERS = 100;
const TOOLS_PER_SERVER = 50;
const VERBS = ['get', 'list', 'search', 'create', 'update', 'delete'] as const;

/** 5,000 tools over 100 servers, with the hints real servers give. */
function makeTools(): Target[] {
  const tools: Target[] = [];
  for (let s = 0; s < SERVERS; s++) {
    for (let t = 0; t < TOOLS_PER_SERVER; t++) {
      const verb = VERBS[t % VERBS.length]!;
      const readOnly = verb === 'get' || verb === 'list' || verb === 'search';
      tools.push({
        kind: 'tool',
        name: `srv${s}__${verb}_thing${t}`,
        server: `srv${s}`,
        annotations: readOnly ? { readOnlyHint: true } : { destructiveHint: verb === 'delete' },
      });
    }
  }
  return tools;
}

/**
 * 1,000 rules shaped like a large company's policy: per-team and per-role grants on named
 * servers (globs and exact names), some denies, a third with conditions on arguments, time or
 * claims, and a few company-wide rules that apply to everyone on every server.
 */
function realisticRules(): unknown[] {
  const conditions = [
    undefined,
    undefined,
    'args.limit <= 100',
    'now.getHours() >= 6 && now.getHours() < 20',
    'principal.claims.level >= 2',
  ];
  const rules: unknown[] = [
    {
      id: 'interns-no-destruction',
      effect: 'deny',
      principals: { roles: ['intern'] },
      targets: { annotations: { destructiveHint: true } },
    },
    { id: 'everyone-reads', effect: 'allow', targets: { annotations: { readOnlyHint: true } } },
    {
      id: 'no-prod-deletes-at-night',
      effect: 'deny',
      targets: { tools: ['*__delete_*'] },
      when: 'now.getHours() < 6',
    },
  ];
  for (let i = rules.length; i < 1000; i++) {
    const s = i % SERVERS;
    const tools =
      i % 3 === 0
        ? [`srv${s}__get_*`, `srv${s}__list_*`]
        : i % 3 === 1
          ? [
              `srv${s}__update_thing${i % TOOLS_PER_SERVER}`,
              `srv${s}__create_thing${(i + 1) % TOOLS_PER_SERVER}`,
            ]
          : [`*_thing${i % TOOLS_PER_SERVER}`];
    rules.push({
      id: `rule-${i}`,
      effect: i % 5 === 0 ? 'deny' : 'allow',
      principals:
        i % 2 === 0 ? { roles: [`role${i % 50}`] } : { teams: [`team${i % 20}`], roles: [`role${i % 50}`] },
      targets: { servers: [`srv${s}`], tools },
      when: conditions[i % conditions.length],
    });
  }
  return rules;
}

/** The worst case: every rule applies to everyone, on every server, by pattern. */
function worstRules(): unknown[] {
  return Array.from({ length: 1000 }, (_, i) => ({
    id: `rule-${i}`,
    effect: i % 10 === 0 ? 'deny' : 'allow',
    targets: { tools: [`*_thing${i % TOOLS_PER_SERVER}`, `srv${i % SERVERS}__*`] },
    when: i % 3 === 0 ? 'args.limit <= 100' : undefined,
  }));
}

function principal(): Principal {
  return {
    user: 'alice@example.com',
    agent: 'claude-code',
    roles: ['role3', 'role7', 'role13'],
    groups: ['eng'],
    teams: ['team3'],
    claims: { level: 3 },
  };
}

function time(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function decideMicros(policy: Policy, tools: Target[]): number {
  const who = principal();
  const args = { limit: 10 };
  const now = new Date('2026-03-02T12:00:00Z');
  let allowed = 0;
  const run = (n: number) => {
    for (let i = 0; i < n; i++)
      if (policy.decide(who, tools[(i * 7919) % tools.length]!, args, { now }).allow) allowed++;
  };
  run(20_000); // warm-up: JIT and the shape cache
  const n = 200_000;
  const ms = time(() => run(n));
  if (allowed === 0) throw new Error('bench policy allows nothing; it measures the wrong thing');
  return (ms * 1000) / n;
}

function listMillis(config: PolicyConfig, tools: Target[]) {
  const now = new Date('2026-03-02T12:00:00Z');
  // JIT warm-up on a throwaway policy, so the figures below measure caches, not unoptimised code.
  const warm = compilePolicy(config);
  for (let i = 0; i < 5; i++) warm.filter({ ...principal(), roles: [`w${i}`] }, [...tools], { now });
  const policy = compilePolicy(config);
  const other: Principal = { ...principal(), user: 'bob@example.com', roles: ['role7'] };
  // The first list after a (re)load also fills the per-list index every shape shares.
  const first = time(() => policy.filter(other, tools, { now }));
  let visible = 0;
  // A shape this policy has never seen (another user, other roles), on this list.
  const who = principal();
  if (policy.rulesFor(other).key === shapeKey(who)) throw new Error('the cold shape is not new');
  const cold = time(() => {
    visible = policy.filter(who, tools, { now }).length;
  });
  const again = time(() => policy.filter(principal(), tools, { now }));
  const newList = [...tools];
  const uncached = time(() => policy.filter(principal(), newList, { now }));
  return { first, cold, again, uncached, visible };
}

function report(name: string, rules: unknown[]) {
  const config = policySchema.parse({ unmatched: 'deny', rules });
  const tools = makeTools();
  const compileMs = time(() => compilePolicy(config));
  const policy = compilePolicy(config);
  const applicable = policy.rulesFor(principal()).rules.length;
  const decide = decideMicros(policy, tools);
  // Single-shot timings are noisy; each list figure is the median of 7 fresh policies.
  const runs = Array.from({ length: 7 }, () => listMillis(config, tools));
  const median = (pick: (r: (typeof runs)[number]) => number) => runs.map(pick).sort((a, b) => a - b)[3]!;
  const list = {
    first: median((r) => r.first),
    cold: median((r) => r.cold),
    again: median((r) => r.again),
    uncached: median((r) => r.uncached),
    visible: runs[0]!.visible,
  };
  console.log(
    `\n${name}: ${rules.length} rules (${applicable} apply to the principal), ${tools.length} tools`,
  );
  console.log(`  compile                         ${compileMs.toFixed(1)} ms`);
  console.log(`  decide()                        ${decide.toFixed(2)} µs/call   (target ≤ 20 µs)`);
  console.log(`  first list after load           ${list.first.toFixed(2)} ms        (new list, new shape)`);
  console.log(`  filter 5,000 tools, cold shape  ${list.cold.toFixed(2)} ms        (target ≤ 2 ms)`);
  console.log(
    `  filter again, same list         ${list.again.toFixed(3)} ms       (contextual verdicts redone)`,
  );
  console.log(`  filter a new list, warm shape   ${list.uncached.toFixed(2)} ms`);
  console.log(`  visible: ${list.visible} of ${tools.length}`);
}

console.log(`node ${process.version}`);
console.log(
  'cold shape: a principal shape never seen, on a list never filtered for it; only which rules\n' +
    'govern each listed target (independent of the principal) is known from an earlier request.\n' +
    'Each list figure is the median over 7 freshly compiled policies.',
);
report('realistic', realisticRules());
report('worst case (every rule applies to everyone, on every server)', worstRules());
