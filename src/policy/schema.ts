// The `policy:` section of gatehouse.yaml: one rule set for what each principal may see and call.
// Strict like the rest of the config: an unknown key is an error, so a typo never turns a rule off.
import { z } from 'zod';
import { compileCondition } from './cel.ts';

const globs = z.array(z.string().min(1));

/**
 * Who a rule is about. Within one field any entry matches, across fields all must; an empty or
 * omitted field does not constrain, so `principals: {}` (or no `principals`) means anyone.
 * Entries are globs (`*`, `?`), like everywhere else in the policy.
 */
const principalsSchema = z.strictObject({
  roles: globs.default([]),
  groups: globs.default([]),
  teams: globs.default([]),
  users: globs.default([]),
  agents: globs.default([]),
});

/**
 * What a rule is about, by the names clients see (after prefixing and renames).
 * `tools`, `resources` (URIs), `prompts`: a rule governs only the kinds it lists globs for; one
 * that lists none of the three governs all of them.
 */
const targetsSchema = z
  .strictObject({
    /** Virtual server names; `/` is the default `/mcp` endpoint. Every endpoint when omitted. */
    virtualServers: globs.default(['*']),
    /** Upstream server names (the keys of `upstreams`). */
    servers: globs.default(['*']),
    tools: globs.optional(),
    resources: globs.optional(),
    prompts: globs.optional(),
    /** Every listed annotation must equal the target's; MCP's defaults fill hints a tool omits. */
    annotations: z.record(z.string(), z.union([z.boolean(), z.number(), z.string()])).default({}),
  })
  .refine(
    (t) => {
      const lists = [t.tools, t.resources, t.prompts].filter((l) => l !== undefined);
      return lists.length === 0 || lists.some((l) => l.length > 0);
    },
    { message: 'tools, resources and prompts are all empty; list a glob, or omit them to target everything' },
  );

const ruleSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'use 1-64 letters, digits, "_", ".", ":" or "-"'),
  effect: z.enum(['allow', 'deny']),
  principals: principalsSchema.prefault({}),
  targets: targetsSchema.prefault({}),
  /**
   * A CEL condition over `args`, `now`, `principal` and `target` (see cel.ts); the rule matches
   * only when it is true. One that fails to evaluate fails closed: a deny matches, an allow not.
   */
  when: z.string().min(1).optional(),
  description: z.string().optional(),
});

export const policySchema = z
  .strictObject({
    /** `enforce` applies decisions; `shadow` evaluates and reports them, never blocks; `off` skips. */
    mode: z.enum(['enforce', 'shadow', 'off']).default('enforce'),
    /**
     * The decision for a principal and target no allow rule is about (denies still apply).
     * `allow` keeps servers open until an allow mentions them; `deny` is least privilege.
     */
    unmatched: z.enum(['allow', 'deny']).default('allow'),
    rules: z.array(ruleSchema).default([]),
  })
  .superRefine((policy, ctx) => {
    const seen = new Set<string>();
    policy.rules.forEach((rule, i) => {
      if (seen.has(rule.id)) {
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate rule id "${rule.id}"` });
      }
      seen.add(rule.id);
      // Conditions are compiled here so a broken one stops the config from loading, named by rule.
      if (rule.when === undefined) return;
      const compiled = compileCondition(rule.when);
      if ('error' in compiled) {
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'when'],
          message: `rule "${rule.id}": ${compiled.error}`,
        });
      }
    });
  });

export type PolicyConfig = z.infer<typeof policySchema>;
export type PolicyRule = PolicyConfig['rules'][number];
