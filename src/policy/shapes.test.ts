import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compileRules } from './rules.ts';
import { policySchema } from './schema.ts';
import { shapeCache } from './shapes.ts';
import { policyOf, tool, who } from './testing.ts';
import type { Principal } from './types.ts';

function both(rules: unknown[]) {
  const compiled = compileRules(policySchema.parse({ rules }).rules);
  const rulesFor = shapeCache(compiled, 100);
  const ids = (p: Principal) => rulesFor(p).rules.map((r) => r.id);
  const plain = (p: Principal) => compiled.filter((r) => r.appliesTo(p)).map((r) => r.id);
  return { ids, plain };
}

describe('which rules apply to a principal shape (the principal index)', () => {
  test('finds a rule through any of its literal roles, and its other fields still decide', () => {
    const { ids } = both([
      { id: 'pay-ops', effect: 'allow', principals: { roles: ['ops', 'sre'], teams: ['payments'] } },
    ]);
    assert.deepEqual(ids(who({ roles: ['sre'], teams: ['payments'] })), ['pay-ops']);
    assert.deepEqual(ids(who({ roles: ['dev', 'ops'], teams: ['payments'] })), ['pay-ops']);
    assert.deepEqual(
      ids(who({ roles: ['ops'], teams: ['search'] })),
      [],
      'filed under ops, but the team fails',
    );
    assert.deepEqual(ids(who({ teams: ['payments'] })), []);
  });

  test('files a rule by a later field when its roles are patterns', () => {
    const { ids } = both([
      { id: 'r', effect: 'allow', principals: { roles: ['ops-*'], teams: ['payments'] } },
      { id: 'u', effect: 'allow', principals: { users: ['ann'] } },
      { id: 'a', effect: 'allow', principals: { agents: ['ci'] } },
      { id: 'g', effect: 'allow', principals: { groups: ['eng'] } },
    ]);
    assert.deepEqual(ids(who({ roles: ['ops-1'], teams: ['payments'] })), ['r']);
    assert.deepEqual(ids(who({ roles: ['ops'], teams: ['payments'] })), []);
    assert.deepEqual(ids(who({ user: 'ann', agent: 'ci', groups: ['eng'] })), ['u', 'a', 'g']);
    assert.deepEqual(ids(who({ user: 'bob', agent: 'cursor' })), []);
  });

  test('applies rules about anyone, and rules only by pattern, to every shape they match', () => {
    const { ids } = both([
      { id: 'anyone', effect: 'allow' },
      { id: 'pattern', effect: 'deny', principals: { users: ['*@example.com'] } },
    ]);
    assert.deepEqual(ids(who()), ['anyone']);
    assert.deepEqual(ids(who({ user: 'a@example.com' })), ['anyone', 'pattern']);
  });

  test('lists the rules in config order, whichever field found them', () => {
    const { ids } = both([
      { id: 'by-team', effect: 'allow', principals: { teams: ['payments'] } },
      { id: 'anyone', effect: 'allow' },
      { id: 'by-role', effect: 'allow', principals: { roles: ['ops'] } },
      { id: 'by-user', effect: 'allow', principals: { users: ['ann'] } },
    ]);
    assert.deepEqual(ids(who({ user: 'ann', roles: ['ops'], teams: ['payments'] })), [
      'by-team',
      'anyone',
      'by-role',
      'by-user',
    ]);
  });

  test('a deny found through the principal index still wins over an allow for everyone', () => {
    const p = policyOf({
      rules: [
        { id: 'all', effect: 'allow' },
        {
          id: 'no-interns',
          effect: 'deny',
          principals: { roles: ['intern'] },
          targets: { tools: ['delete_*'] },
        },
      ],
    });
    const intern = who({ roles: ['dev', 'intern'] });
    assert.equal(p.decide(intern, tool('delete_repo')).ruleId, 'no-interns');
    assert.deepEqual(
      p.filter(intern, [tool('delete_repo'), tool('get_repo')]).map((t) => t.name),
      ['get_repo'],
    );
  });

  test('agrees with testing every rule, for any rules and principals', () => {
    const value = (xs: string[]) => fc.subarray(xs, { maxLength: Math.min(2, xs.length) });
    const rule = fc.record({
      roles: value(['ops', 'dev', 'o*']),
      teams: value(['pay', 'search', '*']),
      groups: value(['eng']),
      users: value(['ann', 'a??']),
      agents: value(['ci', 'cursor']),
    });
    const principals: Principal[] = [
      who(),
      who({ roles: ['ops'], teams: ['pay'] }),
      who({ roles: ['dev', 'ops'], groups: ['eng'], user: 'ann' }),
      who({ roles: ['owner'], teams: ['search'], user: 'abe', agent: 'ci' }),
      who({ agent: 'cursor', user: 'bob', teams: ['pay', 'search'] }),
    ];
    fc.assert(
      fc.property(fc.array(rule, { maxLength: 6 }), (rules) => {
        const { ids, plain } = both(rules.map((r, i) => ({ id: `r${i}`, effect: 'allow', principals: r })));
        for (const p of principals) assert.deepEqual(ids(p), plain(p), JSON.stringify(p));
      }),
      { numRuns: 300 },
    );
  });
});
