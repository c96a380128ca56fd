import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../errors.ts';
import { compilePolicy } from './engine.ts';
import { policySchema } from './schema.ts';

function issues(config: unknown): string[] {
  const result = policySchema.safeParse(config);
  assert.equal(result.success, false, 'expected the config to be rejected');
  return result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('policy config', () => {
  test('fills defaults: enforcing, unmatched allowed, rules about anyone and anything', () => {
    const p = policySchema.parse({ rules: [{ id: 'r', effect: 'deny' }] });
    assert.equal(p.mode, 'enforce');
    assert.equal(p.unmatched, 'allow');
    assert.deepEqual(p.rules[0], {
      id: 'r',
      effect: 'deny',
      principals: { roles: [], groups: [], teams: [], users: [], agents: [] },
      targets: { virtualServers: ['*'], servers: ['*'], annotations: {} },
    });
    assert.deepEqual(policySchema.parse({}).rules, []);
  });

  test('accepts the documented example', () => {
    policySchema.parse({
      mode: 'shadow',
      rules: [
        {
          id: 'ops-can-read',
          effect: 'allow',
          principals: { roles: ['ops'], groups: [], teams: [], users: [], agents: [] },
          targets: {
            virtualServers: ['*'],
            servers: ['github'],
            tools: ['get_*', 'list_*'],
            resources: [],
            prompts: [],
            annotations: { readOnlyHint: true },
          },
          when: 'args.fiscal_year >= 2024 && now.getHours() >= 6 && now.getHours() < 18',
          description: 'ops read GitHub in office hours',
        },
      ],
    });
  });

  test('rejects unknown keys, so a typo never turns a rule off', () => {
    assert.match(
      issues({ rules: [{ id: 'r', effect: 'deny', principal: { roles: ['x'] } }] }).join(),
      /principal/,
    );
    assert.match(issues({ rules: [{ id: 'r', effect: 'deny', targets: { tool: ['x'] } }] }).join(), /tool/);
  });

  test('names the rule in a CEL syntax error', () => {
    const found = issues({
      rules: [
        { id: 'ok', effect: 'allow' },
        { id: 'broken-cel', effect: 'deny', when: 'args.x >' },
      ],
    });
    assert.equal(found.length, 1);
    assert.match(found[0]!, /^rules\.1\.when: rule "broken-cel": CEL syntax error: /);
  });

  test('rejects unknown variables and conditions that are not bools', () => {
    assert.match(
      issues({ rules: [{ id: 'r', effect: 'deny', when: 'user == "x"' }] })[0]!,
      /rule "r": CEL type error/,
    );
    assert.match(issues({ rules: [{ id: 'r', effect: 'deny', when: '1 + 2' }] })[0]!, /must be a bool/);
  });

  test('rejects duplicate rule ids and targets whose kind lists are all empty', () => {
    assert.match(
      issues({
        rules: [
          { id: 'r', effect: 'deny' },
          { id: 'r', effect: 'allow' },
        ],
      })[0]!,
      /duplicate/,
    );
    assert.match(issues({ rules: [{ id: 'r', effect: 'deny', targets: { tools: [] } }] })[0]!, /all empty/);
  });

  test('compilePolicy reports a broken condition it was handed directly as a ConfigError naming the rule', () => {
    const config = policySchema.parse({ rules: [{ id: 'r1', effect: 'deny' }] });
    const unchecked = { ...config, rules: [{ ...config.rules[0]!, when: '(((' }] };
    assert.throws(
      () => compilePolicy(unchecked),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /policy rule "r1": CEL syntax error/);
        return true;
      },
    );
  });
});
