import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { explain } from './explain.ts';
import { policyOf, tool, who } from './testing.ts';

describe('explain', () => {
  const p = policyOf({
    rules: [
      { id: 'ops-read', effect: 'allow', principals: { roles: ['ops'] }, targets: { tools: ['get_*'] } },
      { id: 'interns', effect: 'deny', principals: { roles: ['intern'] } },
      { id: 'big', effect: 'deny', when: 'args.amount > 1000' },
      { id: 'jira', effect: 'allow', targets: { servers: ['jira'] } },
    ],
  });
  const now = new Date('2026-03-02T12:00:00Z');

  test('gives the decision, the deciding rule and why each rule did or did not match', () => {
    const report = explain(
      p,
      who({ roles: ['ops'], user: 'olga' }),
      tool('get_repo'),
      { amount: 5 },
      { now },
    );
    assert.match(report, /^Decision: ALLOW - allowed by rule "ops-read"$/m);
    assert.match(report, /^Visible in lists: yes$/m);
    assert.match(report, /Principal: user olga, no agent, roles \[ops\]/);
    assert.match(
      report,
      /Rules that matched \(1\):\n {2}ops-read \(allow\): applies to roles include one of \[ops\]/,
    );
    assert.match(report, /interns \(deny\): not this principal: needs roles include one of \[intern\]/);
    assert.match(
      report,
      /big \(deny\): applies to anyone on anything; condition is false \(when args.amount > 1000\)/,
    );
    assert.match(report, /jira \(allow\): not this target: needs server is one of \[jira\]/);
  });

  test('spells out a condition that failed closed', () => {
    const report = explain(p, who({ roles: ['ops'] }), tool('get_repo'), {}, { now });
    assert.match(report, /^Decision: DENY - denied by rule "big"$/m);
    assert.match(
      report,
      /big \(deny\): .*condition failed and counts as matching \(fail closed\): No such key: amount/,
    );
  });

  test('says when the decision is not enforced', () => {
    const shadow = policyOf({ mode: 'shadow', rules: [{ id: 'no', effect: 'deny' }] });
    assert.match(explain(shadow, who(), tool('x')), /^Decision: DENY \(not enforced: mode shadow\)/);
  });
});
