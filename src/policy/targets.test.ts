import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compileRules } from './rules.ts';
import { policySchema } from './schema.ts';
import { targetIndex } from './targets.ts';
import { policyOf, tool, who } from './testing.ts';
import type { Target } from './types.ts';

/** The index under test, and the answer without it: every rule's `governs`, in config order. */
function both(rules: unknown[]) {
  const compiled = compileRules(policySchema.parse({ rules }).rules);
  const governing = targetIndex(compiled, 1000);
  const ids = (target: Target) => governing(target).map((r) => r.id);
  const plain = (target: Target) => compiled.filter((r) => r.governs(target)).map((r) => r.id);
  return { ids, plain };
}

const dev = who({ roles: ['dev'] });

describe('which rules govern a target (the name and server index)', () => {
  test('finds rules by exact name, prefix and suffix, and still checks their servers and annotations', () => {
    const { ids } = both([
      { id: 'exact', effect: 'allow', targets: { tools: ['get_repo'], servers: ['github'] } },
      { id: 'prefix', effect: 'allow', targets: { tools: ['get_*'] } },
      { id: 'suffix', effect: 'allow', targets: { tools: ['*_repo'], annotations: { readOnlyHint: true } } },
    ]);
    assert.deepEqual(ids(tool('get_repo')), ['exact', 'prefix']);
    assert.deepEqual(ids(tool('get_repo', 'jira')), ['prefix'], 'exact name, other server');
    const readOnly = tool('get_repo', 'github', { annotations: { readOnlyHint: true } });
    assert.deepEqual(ids(readOnly), ['exact', 'prefix', 'suffix']);
    assert.deepEqual(ids(tool('del_repo', 'github', { annotations: { readOnlyHint: true } })), ['suffix']);
    assert.deepEqual(ids(tool('list_issues')), []);
  });

  test('finds rules that list no names, or only other patterns, through the servers they name', () => {
    const { ids } = both([
      { id: 'github-only', effect: 'deny', targets: { servers: ['github'] } },
      { id: 'middle', effect: 'allow', targets: { servers: ['jira'], tools: ['a*z'] } },
      { id: 'any-server', effect: 'allow', targets: { tools: ['a?z'] } },
    ]);
    assert.deepEqual(ids(tool('abz')), ['github-only', 'any-server']);
    assert.deepEqual(ids(tool('abbz', 'jira')), ['middle']);
    assert.deepEqual(ids(tool('abz', 'jira')), ['middle', 'any-server']);
    assert.deepEqual(ids({ kind: 'prompt', name: 'p', server: 'github' }), ['github-only']);
    assert.deepEqual(ids(tool('x', 'gitlab')), [], 'a rule filed under github is not tried on gitlab');
  });

  test('a rule with one pattern glob among literal ones governs through every glob', () => {
    const { ids } = both([{ id: 'mixed', effect: 'allow', targets: { tools: ['exact', 'pre_*', 'a?c'] } }]);
    for (const name of ['exact', 'pre_x', 'abc']) assert.deepEqual(ids(tool(name)), ['mixed'], name);
    assert.deepEqual(ids(tool('other')), []);
  });

  test('a rule naming tools does not govern a prompt or resource of the same name', () => {
    const { ids } = both([{ id: 't', effect: 'deny', targets: { tools: ['x', 'x*', '*x'] } }]);
    assert.deepEqual(ids(tool('x')), ['t']);
    assert.deepEqual(ids({ kind: 'prompt', name: 'x', server: 'github' }), []);
    assert.deepEqual(ids({ kind: 'resource', name: 'x', server: 'github' }), []);
  });

  test('reports governing rules in config order, whichever part of the index found them', () => {
    const { ids } = both([
      { id: 'scan', effect: 'allow' },
      { id: 'suffix', effect: 'allow', targets: { tools: ['*_repo'] } },
      { id: 'server', effect: 'allow', targets: { servers: ['github'] } },
      { id: 'exact', effect: 'allow', targets: { tools: ['get_repo'] } },
      { id: 'prefix', effect: 'allow', targets: { tools: ['get_*'] } },
    ]);
    assert.deepEqual(ids(tool('get_repo')), ['scan', 'suffix', 'server', 'exact', 'prefix']);
  });

  test('does not give a target the rules of another that differs only in its annotations', () => {
    const { ids } = both([{ id: 'ro', effect: 'allow', targets: { annotations: { readOnlyHint: true } } }]);
    assert.deepEqual(ids(tool('t', 'github', { annotations: { readOnlyHint: true } })), ['ro']);
    assert.deepEqual(ids(tool('t', 'github', { annotations: { readOnlyHint: 'true' } })), []);
    assert.deepEqual(ids(tool('t')), []);
  });

  test('a deny reached through the name index still wins over a glob allow', () => {
    const p = policyOf({
      unmatched: 'deny',
      rules: [
        { id: 'all-github', effect: 'allow', targets: { tools: ['*'] } },
        { id: 'no-delete', effect: 'deny', targets: { tools: ['delete_repo'], servers: ['github'] } },
      ],
    });
    const list = [tool('delete_repo'), tool('get_repo'), tool('delete_repo', 'jira')];
    assert.equal(p.decide(dev, list[0]!).ruleId, 'no-delete');
    assert.deepEqual(
      p.filter(dev, list).map((t) => `${t.server}/${t.name}`),
      ['github/get_repo', 'jira/delete_repo'],
    );
  });

  test('agrees with testing every rule, for any rules and targets', () => {
    const glob = fc.constantFrom('get_repo', 'get_*', '*_repo', '*', 'g?t_*', '*e*', 'list_issues');
    const rule = fc.record({
      tools: fc.option(fc.array(glob, { minLength: 1, maxLength: 3 }), { nil: undefined }),
      prompts: fc.option(fc.array(glob, { minLength: 1, maxLength: 2 }), { nil: undefined }),
      servers: fc.subarray(['github', 'jira', 'git*']),
      annotations: fc.constantFrom({}, { readOnlyHint: true }, { destructiveHint: false }),
    });
    const names = ['get_repo', 'get_issue', 'list_issues', 'del_repo', 'got_it', 'x'];
    const targets: Target[] = names.flatMap((n) => [
      tool(n),
      tool(n, 'jira', { annotations: { readOnlyHint: true } }),
      tool(n, 'gitlab', { annotations: { destructiveHint: false } }),
      { kind: 'prompt', name: n, server: 'github' },
      { kind: 'resource', name: n, server: 'jira' },
    ]);
    fc.assert(
      fc.property(fc.array(rule, { maxLength: 6 }), (rules) => {
        const { ids, plain } = both(
          rules.map((r, i) => ({
            id: `r${i}`,
            effect: 'allow',
            targets: { ...r, servers: r.servers.length ? r.servers : ['*'] },
          })),
        );
        for (const target of targets) assert.deepEqual(ids(target), plain(target), JSON.stringify(target));
      }),
      { numRuns: 300 },
    );
  });
});
