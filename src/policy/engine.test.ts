import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { policyOf, tool, who } from './testing.ts';

const ops = who({ roles: ['ops'] });
const intern = who({ roles: ['intern'], user: 'ivy' });

describe('policy decisions', () => {
  test('allows everything when there are no rules', () => {
    const d = policyOf({}).decide(ops, tool('delete_repo'));
    assert.equal(d.allow, true);
    assert.equal(d.reason, 'no policy rules');
  });

  test('allows everything, unenforced, when the mode is off', () => {
    const p = policyOf({ mode: 'off', rules: [{ id: 'no', effect: 'deny' }] });
    assert.deepEqual(p.decide(ops, tool('x')), {
      allow: true,
      enforced: false,
      wouldAllow: true,
      reason: 'policy is off',
      matched: [],
    });
    assert.equal(p.visible(ops, tool('x')), true);
  });

  test('lets a deny win over an allow, whatever their order', () => {
    for (const order of [1, -1]) {
      const rules = [
        { id: 'allow-all', effect: 'allow' },
        { id: 'deny-delete', effect: 'deny', targets: { tools: ['delete_*'] } },
      ];
      const p = policyOf({ rules: order === 1 ? rules : rules.reverse() });
      const d = p.decide(ops, tool('delete_repo'));
      assert.equal(d.allow, false);
      assert.equal(d.ruleId, 'deny-delete');
      assert.deepEqual([...d.matched].sort(), ['allow-all', 'deny-delete']);
      assert.equal(p.decide(ops, tool('get_repo')).allow, true);
    }
  });

  test('denies by default once an allow rule governs the principal and target', () => {
    const p = policyOf({
      rules: [
        { id: 'ops-read', effect: 'allow', principals: { roles: ['ops'] }, targets: { tools: ['get_*'] } },
      ],
    });
    assert.equal(p.decide(ops, tool('get_repo')).allow, true);
    // A condition that does not hold still leaves the rule governing the target: denied.
    const conditional = policyOf({ rules: [{ id: 'never', effect: 'allow', when: 'false' }] });
    const d = conditional.decide(ops, tool('get_repo'));
    assert.equal(d.allow, false);
    assert.equal(d.ruleId, undefined);
    assert.match(d.reason, /no allow rule matched/);
  });

  test('leaves a call to the other rules when a deny condition is false', () => {
    const p = policyOf({ rules: [{ id: 'big', effect: 'deny', when: 'args.amount > 1000' }] });
    assert.equal(p.decide(ops, tool('pay'), { amount: 5 }).allow, true);
    assert.equal(p.decide(ops, tool('pay'), { amount: 5000 }).allow, false);
  });

  test('leaves what no allow rule governs to `unmatched`: allow by default, deny when set', () => {
    const rules = [
      { id: 'ops-read', effect: 'allow', principals: { roles: ['ops'] }, targets: { tools: ['get_*'] } },
    ];
    assert.equal(policyOf({ rules }).decide(intern, tool('get_repo')).allow, true);
    assert.equal(policyOf({ rules }).decide(ops, tool('delete_repo')).allow, true);
    const strict = policyOf({ unmatched: 'deny', rules });
    assert.equal(strict.decide(intern, tool('get_repo')).allow, false);
    assert.equal(strict.decide(ops, tool('get_repo')).allow, true);
  });

  test('reports every matching rule in config order, and the first deny as the deciding rule', () => {
    const p = policyOf({
      rules: [
        { id: 'a', effect: 'allow' },
        { id: 'b', effect: 'deny', targets: { servers: ['github'] } },
        { id: 'c', effect: 'allow', targets: { servers: ['github'] } },
        { id: 'd', effect: 'deny' },
      ],
    });
    const d = p.decide(ops, tool('x'));
    assert.deepEqual(d.matched, ['a', 'b', 'c', 'd']);
    assert.equal(d.ruleId, 'b');
  });
});

describe('principals', () => {
  const p = policyOf({
    unmatched: 'deny',
    rules: [
      {
        id: 'pay-ops',
        effect: 'allow',
        principals: { roles: ['ops', 'sre'], teams: ['payments'], groups: [], users: [], agents: [] },
      },
    ],
  });

  test('matches any entry within one field', () => {
    assert.equal(p.decide(who({ roles: ['sre'], teams: ['payments'] }), tool('x')).allow, true);
    assert.equal(p.decide(who({ roles: ['dev', 'ops'], teams: ['payments'] }), tool('x')).allow, true);
  });

  test('requires every field a rule sets, and treats empty fields as anyone', () => {
    assert.equal(p.decide(who({ roles: ['ops'] }), tool('x')).allow, false);
    assert.equal(p.decide(who({ teams: ['payments'] }), tool('x')).allow, false);
    assert.equal(p.decide(who({ roles: ['ops'], teams: ['search'] }), tool('x')).allow, false);
  });

  test('matches users and agents, by glob', () => {
    const q = policyOf({
      unmatched: 'deny',
      rules: [{ id: 'ci', effect: 'allow', principals: { agents: ['ci-*'], users: ['*@example.com'] } }],
    });
    assert.equal(q.decide(who({ agent: 'ci-7', user: 'a@example.com' }), tool('x')).allow, true);
    assert.equal(q.decide(who({ agent: 'ci-7' }), tool('x')).allow, false);
    assert.equal(q.decide(who({ agent: 'cursor', user: 'a@example.com' }), tool('x')).allow, false);
  });

  test('gives the same answer for the same roles in another order', () => {
    const a = who({ roles: ['sre', 'ops'], teams: ['payments'] });
    const b = who({ roles: ['ops', 'sre'], teams: ['payments'] });
    assert.equal(p.rulesFor(a), p.rulesFor(b));
  });
});

describe('targets', () => {
  test('matches exposed names by glob', () => {
    const p = policyOf({
      rules: [{ id: 'r', effect: 'allow', targets: { tools: ['get_*', '*_issue', 'a?c', 'x.y'] } }],
    });
    const allowed = (name: string) => p.decide(ops, tool(name)).allow;
    assert.equal(allowed('get_repo'), true);
    assert.equal(allowed('close_issue'), true);
    assert.equal(allowed('abc'), true);
    assert.equal(allowed('x.y'), true);
    assert.equal(allowed('xzy'), true, 'not governed, so unmatched: allow');
    const strict = policyOf({
      unmatched: 'deny',
      rules: [{ id: 'r', effect: 'allow', targets: { tools: ['x.y'] } }],
    });
    assert.equal(strict.decide(ops, tool('xzy')).allow, false, '"." is literal');
  });

  test('governs only the kinds a rule lists, and every kind when it lists none', () => {
    const p = policyOf({
      rules: [{ id: 'no-tools', effect: 'deny', targets: { tools: ['*'], prompts: [] } }],
    });
    assert.equal(p.decide(ops, tool('x')).allow, false);
    assert.equal(p.decide(ops, { kind: 'prompt', name: 'x', server: 'github' }).allow, true);
    assert.equal(p.decide(ops, { kind: 'resource', name: 'file:///x', server: 'github' }).allow, true);
    const all = policyOf({ rules: [{ id: 'no-github', effect: 'deny', targets: { servers: ['github'] } }] });
    assert.equal(all.decide(ops, { kind: 'resource', name: 'file:///x', server: 'github' }).allow, false);
    assert.equal(all.decide(ops, { kind: 'resource', name: 'file:///x', server: 'jira' }).allow, true);
  });

  test('matches resources by URI glob', () => {
    const p = policyOf({ rules: [{ id: 'r', effect: 'deny', targets: { resources: ['file:///etc/*'] } }] });
    assert.equal(p.decide(ops, { kind: 'resource', name: 'file:///etc/passwd', server: 'fs' }).allow, false);
    assert.equal(p.decide(ops, { kind: 'resource', name: 'file:///home/x', server: 'fs' }).allow, true);
  });

  test('matches upstream servers and virtual servers; "/" is the default endpoint', () => {
    const p = policyOf({
      rules: [{ id: 'r', effect: 'deny', targets: { servers: ['git*'], virtualServers: ['/', 'admin'] } }],
    });
    assert.equal(p.decide(ops, tool('x', 'github')).allow, false);
    assert.equal(p.decide(ops, tool('x', 'github', { virtualServer: '/' })).allow, false);
    assert.equal(p.decide(ops, tool('x', 'github', { virtualServer: 'admin' })).allow, false);
    assert.equal(p.decide(ops, tool('x', 'github', { virtualServer: 'dev' })).allow, true);
    assert.equal(p.decide(ops, tool('x', 'jira')).allow, true);
  });

  test('denies destructive tools to interns by annotation, including tools that omit the hint', () => {
    const p = policyOf({
      rules: [
        {
          id: 'interns-no-destruction',
          effect: 'deny',
          principals: { roles: ['intern'] },
          targets: { annotations: { destructiveHint: true } },
        },
      ],
    });
    const withHints = (annotations: Record<string, unknown>) => tool('t', 'github', { annotations });
    assert.equal(p.decide(intern, withHints({ destructiveHint: true })).allow, false);
    // MCP's default for a tool that is not read-only is destructiveHint: true.
    assert.equal(p.decide(intern, tool('t')).allow, false);
    assert.equal(p.decide(intern, withHints({ destructiveHint: false })).allow, true);
    assert.equal(p.decide(intern, withHints({ readOnlyHint: true })).allow, true);
    assert.equal(p.decide(ops, withHints({ destructiveHint: true })).allow, true);
  });

  test('allows read-only tools only when they say so', () => {
    const p = policyOf({
      rules: [{ id: 'ro', effect: 'allow', targets: { annotations: { readOnlyHint: true } } }],
    });
    assert.equal(p.decide(ops, tool('t', 'github', { annotations: { readOnlyHint: true } })).allow, true);
    // Governed by no rule (the annotation does not match), so `unmatched: allow` applies.
    assert.equal(p.decide(ops, tool('t')).allow, true);
  });
});

describe('conditions', () => {
  const p = policyOf({
    unmatched: 'deny',
    rules: [
      {
        id: 'recent-years-office-hours',
        effect: 'allow',
        when: 'args.fiscal_year >= 2024 && now.getHours() >= 6 && now.getHours() < 18',
      },
    ],
  });
  const noon = new Date('2026-03-02T12:00:00Z');
  const night = new Date('2026-03-02T23:00:00Z');

  test('evaluate over arguments', () => {
    assert.equal(p.decide(ops, tool('report'), { fiscal_year: 2025 }, { now: noon }).allow, true);
    assert.equal(p.decide(ops, tool('report'), { fiscal_year: 2023 }, { now: noon }).allow, false);
  });

  test('evaluate over the injected clock (UTC hours)', () => {
    assert.equal(p.decide(ops, tool('report'), { fiscal_year: 2025 }, { now: night }).allow, false);
  });

  test('read the principal, its claims and the target', () => {
    const q = policyOf({
      unmatched: 'deny',
      rules: [
        {
          id: 'own-tenant',
          effect: 'allow',
          when: 'principal.claims.tenant == args.tenant && target.server == "github" && "ops" in principal.roles',
        },
      ],
    });
    const alice = who({ roles: ['ops'], claims: { tenant: 't1' } });
    assert.equal(q.decide(alice, tool('x'), { tenant: 't1' }).allow, true);
    assert.equal(q.decide(alice, tool('x'), { tenant: 't2' }).allow, false);
    assert.equal(q.decide(alice, tool('x', 'jira'), { tenant: 't1' }).allow, false);
  });

  test('a condition that fails to evaluate makes a deny match (fail closed)', () => {
    const q = policyOf({
      rules: [
        { id: 'all', effect: 'allow' },
        { id: 'big-amounts', effect: 'deny', when: 'args.amount > 1000' },
      ],
    });
    assert.equal(q.decide(ops, tool('pay'), { amount: 5 }).allow, true);
    assert.equal(q.decide(ops, tool('pay'), { amount: 5000 }).allow, false);
    const missing = q.decide(ops, tool('pay'), {});
    assert.equal(missing.allow, false);
    assert.equal(missing.ruleId, 'big-amounts');
    assert.equal(
      q.decide(ops, tool('pay'), { amount: 'lots' }).allow,
      false,
      'a type error fails closed too',
    );
    assert.equal(q.decide(ops, tool('pay')).allow, false, 'no arguments at all');
  });

  test('a condition that fails to evaluate never makes an allow match', () => {
    assert.equal(p.decide(ops, tool('report'), {}, { now: noon }).allow, false);
    assert.equal(p.decide(ops, tool('report'), { fiscal_year: 'x' }, { now: noon }).allow, false);
    const q = policyOf({ rules: [{ id: 'flag', effect: 'allow', when: 'args.flag' }] });
    assert.equal(q.decide(ops, tool('x'), { flag: 'yes' }).allow, false, 'a non-bool result is a failure');
    assert.equal(q.decide(ops, tool('x'), { flag: true }).allow, true);
  });
});

describe('shadow mode', () => {
  const p = policyOf({
    mode: 'shadow',
    rules: [{ id: 'no-delete', effect: 'deny', targets: { tools: ['delete_*'] } }],
  });

  test('never blocks a call but reports the decision it would have made', () => {
    const d = p.decide(ops, tool('delete_repo'));
    assert.equal(d.allow, true);
    assert.equal(d.enforced, false);
    assert.equal(d.wouldAllow, false);
    assert.equal(d.ruleId, 'no-delete');
  });

  test('never hides from lists, but says what it would hide', () => {
    const targets = [tool('delete_repo'), tool('get_repo')];
    assert.equal(p.visible(ops, targets[0]!), true);
    assert.equal(p.wouldSee(ops, targets[0]!), false);
    assert.equal(p.filter(ops, targets), targets);
  });
});
