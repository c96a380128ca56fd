import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { policyOf, tool, who } from './testing.ts';
import type { Principal, Target } from './types.ts';

const dev = who({ roles: ['dev'] });
const noon = new Date('2026-03-02T12:00:00Z');
const night = new Date('2026-03-02T23:00:00Z');

describe('visibility', () => {
  test('hides what an unconditional deny covers', () => {
    const p = policyOf({ rules: [{ id: 'd', effect: 'deny', targets: { tools: ['delete_*'] } }] });
    assert.equal(p.visible(dev, tool('delete_repo')), false);
    assert.equal(p.visible(dev, tool('get_repo')), true);
  });

  test('hides what a rule governs but no allow could match', () => {
    const p = policyOf({
      rules: [
        { id: 'ops-only', effect: 'allow', principals: { roles: ['ops'] }, targets: { servers: ['prod'] } },
      ],
    });
    assert.equal(p.visible(who({ roles: ['ops'] }), tool('x', 'prod')), true);
    assert.equal(p.visible(dev, tool('x', 'prod')), true, 'no rule governs dev: unmatched allow');
    const strict = policyOf({
      unmatched: 'deny',
      rules: [{ id: 'ops', effect: 'allow', principals: { roles: ['ops'] } }],
    });
    assert.equal(strict.visible(dev, tool('x')), false);
  });

  test('shows a target whose only allow depends on arguments; the call decides', () => {
    const p = policyOf({
      unmatched: 'deny',
      rules: [{ id: 'a', effect: 'allow', when: 'args.year >= 2024' }],
    });
    assert.equal(p.visible(dev, tool('report')), true);
    assert.equal(p.decide(dev, tool('report'), { year: 2025 }).allow, true);
    assert.equal(p.decide(dev, tool('report'), { year: 2020 }).allow, false);
  });

  test('does not hide for a deny that depends on arguments', () => {
    const p = policyOf({ rules: [{ id: 'd', effect: 'deny', when: 'args.amount > 1000' }] });
    assert.equal(p.visible(dev, tool('pay')), true);
  });

  test('evaluates conditions that do not read arguments when listing', () => {
    const p = policyOf({ rules: [{ id: 'after-hours', effect: 'deny', when: 'now.getHours() >= 18' }] });
    assert.equal(p.visible(dev, tool('x'), { now: noon }), true);
    assert.equal(p.visible(dev, tool('x'), { now: night }), false);
    const claims = policyOf({
      unmatched: 'deny',
      rules: [{ id: 'verified', effect: 'allow', when: 'principal.claims.email_verified == true' }],
    });
    assert.equal(claims.visible(who({ claims: { email_verified: true } }), tool('x')), true);
    assert.equal(claims.visible(who({ claims: {} }), tool('x')), false, 'a failing allow does not show');
  });

  test('filters a list and caches it per shape while the list array is unchanged', () => {
    const p = policyOf({ rules: [{ id: 'd', effect: 'deny', targets: { tools: ['delete_*'] } }] });
    const list = [tool('delete_repo'), tool('get_repo'), tool('list_repos')];
    const first = p.filter(dev, list);
    assert.deepEqual(
      first.map((t) => t.name),
      ['get_repo', 'list_repos'],
    );
    assert.equal(p.filter(who({ roles: ['dev'] }), list), first, 'same shape, same list: cached');
    assert.notEqual(p.filter(dev, [...list]), first, 'a new list is filtered again');
  });

  test('does not cache a filtered list that depends on the time', () => {
    const p = policyOf({ rules: [{ id: 'after-hours', effect: 'deny', when: 'now.getHours() >= 18' }] });
    const list = [tool('x')];
    assert.equal(p.filter(dev, list, { now: noon }).length, 1);
    assert.equal(p.filter(dev, list, { now: night }).length, 0);
  });
});

// The invariant the gateway relies on: listing and calling are one rule set, so a principal is
// never offered a tool it cannot call, and never able to call a tool it was not shown.
describe('visibility and invocation agree', () => {
  const conditions = [
    undefined,
    'args.n > 5',
    'args.n < 3',
    'now.getHours() < 12',
    'principal.claims.level >= 2',
    'args.missing == 1',
  ];
  const rule = fc.record({
    effect: fc.constantFrom('allow', 'deny'),
    roles: fc.subarray(['ops', 'dev']),
    tools: fc.subarray(['get_*', 'delete_*', 'get_repo']),
    servers: fc.subarray(['github', 'jira']),
    when: fc.constantFrom(...conditions),
  });
  const principals: Principal[] = [
    who({ roles: ['ops'], claims: { level: 3 } }),
    who({ roles: ['dev'], claims: { level: 1 } }),
    who({ roles: [] }),
  ];
  const targets: Target[] = ['get_repo', 'delete_repo', 'list_repos'].flatMap((n) => [
    tool(n),
    tool(n, 'jira'),
  ]);
  const argSets = [undefined, {}, { n: 0 }, { n: 4 }, { n: 10 }, { n: 'x' }, { missing: 1 }];

  test('what is hidden is never allowed to be called, with any arguments', () => {
    fc.assert(
      fc.property(
        fc.array(rule, { maxLength: 5 }),
        fc.constantFrom('allow', 'deny'),
        fc.constantFrom(noon, night),
        (rules, unmatched, now) => {
          const p = policyOf({
            unmatched,
            rules: rules.map((r, i) => ({
              id: `r${i}`,
              effect: r.effect,
              principals: { roles: r.roles },
              targets: {
                tools: r.tools.length ? r.tools : undefined,
                servers: r.servers.length ? r.servers : ['*'],
              },
              when: r.when,
            })),
          });
          for (const principal of principals) {
            for (const target of targets) {
              if (p.visible(principal, target, { now })) continue;
              for (const args of argSets) {
                assert.equal(p.decide(principal, target, args, { now }).allow, false);
              }
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('what is callable with some arguments is visible', () => {
    // The contrapositive, checked directly: it is the direction an agent developer notices.
    const p = policyOf({
      unmatched: 'deny',
      rules: [
        { id: 'read', effect: 'allow', targets: { tools: ['get_*'] } },
        { id: 'big', effect: 'deny', when: 'args.n > 5' },
        { id: 'morning', effect: 'allow', targets: { tools: ['delete_*'] }, when: 'now.getHours() < 12' },
      ],
    });
    for (const target of targets) {
      for (const now of [noon, night]) {
        const callable = argSets.some((args) => p.decide(dev, target, args, { now }).allow);
        if (callable)
          assert.equal(p.visible(dev, target, { now }), true, `${target.name} at ${now.toISOString()}`);
      }
    }
  });
});
