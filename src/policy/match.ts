// What a rule is about, compiled to plain predicates: who (principals) and what (targets).
// Conditions (`when`) are in cel.ts; combining the three is engine.ts.
import type { PolicyRule } from './schema.ts';
import type { Principal, Target, TargetKind } from './types.ts';

/** The endpoint name a target without a virtual server has: the default `/mcp`. */
export const DEFAULT_VIRTUAL_SERVER = '/';

/**
 * A list of globs (`*` any run, `?` one character, everything else literal), compiled so the
 * common shapes cost a Set lookup or a string comparison instead of a RegExp.
 */
export function globsMatcher(globs: readonly string[]): (value: string) => boolean {
  if (globs.includes('*')) return () => true;
  const exact = new Set(globs.filter((g) => !/[*?]/.test(g)));
  const patterns = globs.filter((g) => /[*?]/.test(g)).map(globMatcher);
  if (patterns.length === 0) return (value) => exact.has(value);
  return (value) => exact.has(value) || patterns.some((p) => p(value));
}

function globMatcher(glob: string): (value: string) => boolean {
  const star = glob.indexOf('*');
  const simple = !glob.includes('?') && star === glob.lastIndexOf('*');
  if (simple && star === glob.length - 1) {
    const prefix = glob.slice(0, -1);
    return (value) => value.startsWith(prefix);
  }
  if (simple && star === 0) {
    const suffix = glob.slice(1);
    return (value) => value.endsWith(suffix);
  }
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  const re = new RegExp(`^${body}$`, 's');
  return (value) => re.test(value);
}

/** Literal names in a glob list, or undefined when any entry is a pattern (used for indexing). */
export function literals(globs: readonly string[] | undefined): string[] | undefined {
  if (globs === undefined || globs.some((g) => /[*?]/.test(g))) return undefined;
  return [...globs];
}

/** One named requirement of a rule; `what` says it in words, for `explain`. */
export interface Check<T> {
  readonly what: string;
  readonly test: (value: T) => boolean;
}

/** The first requirement `value` fails, or undefined when it meets them all. */
export function firstFailure<T>(checks: readonly Check<T>[], value: T): string | undefined {
  return checks.find((c) => !c.test(value))?.what;
}

const list = (globs: readonly string[]) => `[${globs.join(', ')}]`;

/**
 * Within one field any entry matches; across fields all must match; an empty field does not
 * constrain. So `{ roles: [ops, sre], teams: [payments] }` means "(ops or sre) and in payments".
 */
export function principalChecks(p: PolicyRule['principals']): Check<Principal>[] {
  const checks: Check<Principal>[] = [];
  const anyOf = (field: string, globs: string[], pick: (pr: Principal) => readonly string[]) => {
    if (globs.length === 0) return;
    const m = globsMatcher(globs);
    checks.push({ what: `${field} include one of ${list(globs)}`, test: (pr) => pick(pr).some(m) });
  };
  const oneOf = (field: string, globs: string[], pick: (pr: Principal) => string | undefined) => {
    if (globs.length === 0) return;
    const m = globsMatcher(globs);
    checks.push({
      what: `${field} is one of ${list(globs)}`,
      test: (pr) => {
        const v = pick(pr);
        return v !== undefined && m(v);
      },
    });
  };
  anyOf('roles', p.roles, (pr) => pr.roles);
  anyOf('groups', p.groups, (pr) => pr.groups);
  anyOf('teams', p.teams, (pr) => pr.teams);
  oneOf('user', p.users, (pr) => pr.user);
  oneOf('agent', p.agents, (pr) => pr.agent);
  return checks;
}

/**
 * MCP's defaults for tool hints a server leaves out (spec: ToolAnnotations). Applying them means
 * a rule denying `destructiveHint: true` also catches a tool that says nothing, as the spec
 * tells clients to assume. `destructiveHint` and `idempotentHint` only mean something for a
 * tool that is not read-only; a read-only tool is neither destructive nor non-idempotent.
 * Hints come from the upstream (or an operator override) and are not verified: an allow keyed
 * on `readOnlyHint: true` trusts the upstream to tell the truth.
 */
function toolHint(annotations: Record<string, unknown> | undefined, key: string): unknown {
  const value = annotations?.[key];
  if (value !== undefined) return value;
  const readOnly = annotations?.['readOnlyHint'] === true;
  switch (key) {
    case 'readOnlyHint':
      return false;
    case 'destructiveHint':
      return !readOnly;
    case 'idempotentHint':
      return readOnly;
    case 'openWorldHint':
      return true;
    default:
      return undefined;
  }
}

export interface TargetChecks {
  /** Literal server names when the rule only names servers, for the per-server index. */
  readonly serverLiterals: readonly string[] | undefined;
  readonly checks: readonly Check<Target>[];
  /** The same without the name check: what is left once an index has matched a name glob. */
  readonly besidesName: readonly Check<Target>[];
}

/**
 * A rule governs the kinds it lists globs for; a rule that lists none of tools, resources and
 * prompts governs all three (the schema rejects lists that are all present and all empty).
 * Checks are ordered cheapest and most selective first: they run on every decision.
 */
export function targetChecks(t: PolicyRule['targets']): TargetChecks {
  const listed = [t.tools, t.resources, t.prompts].some((g) => g !== undefined && g.length > 0);
  const byKind: Record<TargetKind, ((name: string) => boolean) | undefined> = {
    tool: undefined,
    resource: undefined,
    prompt: undefined,
  };
  const described: string[] = [];
  for (const [kind, globs] of [
    ['tool', t.tools],
    ['resource', t.resources],
    ['prompt', t.prompts],
  ] as const) {
    if (!listed) byKind[kind] = () => true;
    else if (globs !== undefined && globs.length > 0) {
      byKind[kind] = globsMatcher(globs);
      described.push(`${kind} ${list(globs)}`);
    }
  }
  const checks: Check<Target>[] = [];
  if (!t.servers.includes('*')) {
    const server = globsMatcher(t.servers);
    checks.push({ what: `server is one of ${list(t.servers)}`, test: (target) => server(target.server) });
  }
  const name: Check<Target> | undefined = listed
    ? {
        what: `name matches ${described.join(' or ')}`,
        test: (target) => byKind[target.kind]?.(target.name) === true,
      }
    : undefined;
  if (name) checks.push(name);
  if (!t.virtualServers.includes('*')) {
    const vs = globsMatcher(t.virtualServers);
    checks.push({
      what: `virtual server is one of ${list(t.virtualServers)}`,
      test: (target) => vs(target.virtualServer || DEFAULT_VIRTUAL_SERVER),
    });
  }
  for (const [key, value] of Object.entries(t.annotations)) {
    checks.push({
      what: `annotation ${key} is ${JSON.stringify(value)}`,
      test: (target) =>
        (target.kind === 'tool' ? toolHint(target.annotations, key) : target.annotations?.[key]) === value,
    });
  }
  return { serverLiterals: literals(t.servers), checks, besidesName: checks.filter((c) => c !== name) };
}
