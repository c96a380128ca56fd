// Builders shared by the policy tests and the bench: a policy from plain config (through the
// schema, as the gateway will load it), principals and targets with sensible blanks.
import { compilePolicy, type Policy } from './engine.ts';
import { policySchema } from './schema.ts';
import type { Principal, Target } from './types.ts';

export function policyOf(config: unknown): Policy {
  return compilePolicy(policySchema.parse(config));
}

export function who(p: Partial<Principal> = {}): Principal {
  return { roles: [], groups: [], teams: [], ...p };
}

export function tool(name: string, server = 'github', extra: Partial<Target> = {}): Target {
  return { kind: 'tool', name, server, ...extra };
}
