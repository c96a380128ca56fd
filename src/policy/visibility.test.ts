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
    assert.equal(p.filter(dev, list, { now: noon }).length, 1);
  });

  test('runs a time condition that reads the target for each target, not once per list', () => {
    const p = policyOf({
      rules: [
        {
          id: 'night-deletes',
          effect: 'deny',
          when: 'now.getHours() >= 18 && target.name.startsWith("del")',
        },
      ],
    });
    const list = [tool('get_repo'), tool('delete_repo'), tool('list_repos')];
    assert.deepEqual(
      p.filter(dev, list, { now: night }).map((t) => t.name),
      ['get_repo', 'list_repos'],
    );
    assert.equal(p.filter(dev, list, { now: noon }).length, 3);
  });

  test('runs a condition on the claims for each principal of one shape', () => {
    const p = policyOf({
      unmatched: 'deny',
      rules: [{ id: 'senior', effect: 'allow', when: 'principal.claims.level >= 2' }],
    });
    const list = [tool('a'), tool('b')];
    assert.equal(p.filter(who({ roles: ['dev'], claims: { level: 3 } }), list).length, 2);
    assert.equal(p.filter(who({ roles: ['dev'], claims: { level: 1 } }), list).length, 0, 'same shape');
  });

  test('shows what an unconditional allow covers, whatever an allow on the time says', () => {
    const p = policyOf({
      unmatched: 'deny',
      rules: [
        { id: 'read', effect: 'allow', targets: { tools: ['get_*'] } },
        { id: 'day', effect: 'allow', when: 'now.getHours() < 18' },
      ],
    });
    const list = [tool('get_repo'), tool('delete_repo')];
    const atNight = p.filter(dev, list, { now: night });
    assert.deepEqual(
      atNight.map((t) => t.name),
      ['get_repo'],
    );
    assert.deepEqual(
      p.filter(dev, list, { now: noon }).map((t) => t.name),
      ['get_repo', 'delete_repo'],
    );
  });

  test('gives a new shape its own verdicts on a list another shape filtered first', () => {
    const p = policyOf({
      unmatched: 'deny',
      rules: [
        { id: 'ops-all', effect: 'allow', principals: { roles: ['ops'] } },
        { id: 'dev-read', effect: 'allow', principals: { roles: ['dev'] }, targets: { tools: ['get_*'] } },
        {
          id: 'no-delete',
          effect: 'deny',
          principals: { roles: ['intern'] },
          targets: { tools: ['delete_*'] },
        },
      ],
    });
    const list = [tool('get_repo'), tool('delete_repo'), tool('make_repo')];
    const names = (p2: Principal) => p.filter(p2, list).map((t) => t.name);
    assert.deepEqual(names(who({ roles: ['ops'] })), ['get_repo', 'delete_repo', 'make_repo']);
    assert.deepEqual(names(dev), ['get_repo']);
    assert.deepEqual(names(who({ roles: ['ops', 'intern'] })), ['get_repo', 'make_repo']);
    assert.deepEqual(names(who({ roles: ['intern'] })), []);
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

  test('a filtered list shows exactly what visible() says of each target, for any rules', () => {
    const conditionsHere = [
      ...conditions,
      'now.getHours() < 12 && target.name.startsWith("get")',
      'target.server == "jira"',
      'args.n > 5 && now.getHours() < 12',
    ];
    const listRule = fc.record({
      effect: fc.constantFrom('allow', 'deny'),
      roles: fc.subarray(['ops', 'dev']),
      tools: fc.subarray(['get_*', '*_repo', 'get_repo', 'l?st_*']),
      servers: fc.subarray(['github', 'jira']),
      when: fc.constantFrom(...conditionsHere),
    });
    fc.assert(
      fc.property(
        fc.array(listRule, { maxLength: 6 }),
        fc.constantFrom('allow', 'deny'),
        (rules, unmatched) => {
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
          // One list array throughout, so later calls go through the cached verdicts.
          for (const now of [noon, night, noon]) {
            for (const principal of principals) {
              const shown = p.filter(principal, targets, { now });
              const expected = targets.filter((t) => p.visible(principal, t, { now }));
              assert.deepEqual(shown, expected);
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
