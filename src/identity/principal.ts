// Who is calling: the one identity shape every part of the gateway (policy, limits, audit) reads.
// Each authenticator (API keys, JWT/OIDC, anonymous access) produces one of these and nothing
// downstream needs to know which one did.

export interface Principal {
  /** Which authenticator vouched for this caller. */
  kind: 'api-key' | 'jwt' | 'anonymous';
  /** The agent (an API key's name, or a JWT's client/azp). */
  agent?: string;
  /** The human on whose behalf the agent acts, when known (a JWT's subject). */
  user?: string;
  roles: string[];
  groups: string[];
  teams: string[];
  /** Virtual servers (endpoints) this principal may use; undefined means all of them. */
  virtualServers?: string[];
  /** The API key's id, for audit records; never the key itself. */
  keyId?: string;
  /** The verified JWT claims, for policy conditions. */
  claims?: Record<string, unknown>;
}

const ANONYMOUS: Principal = Object.freeze({
  kind: 'anonymous',
  roles: [],
  groups: [],
  teams: [],
}) as Principal;

/** The principal of a request nobody authenticated (where the config allows that); one shared, frozen object. */
export function anonymousPrincipal(): Principal {
  return ANONYMOUS;
}

/**
 * The token a JWT principal presented, kept beside it rather than in it so no serialization of a
 * principal (logs, audit) can carry it. Read only to exchange it at the IdP (RFC 8693).
 */
const presented = new WeakMap<Principal, string>();

export function rememberToken(principal: Principal, token: string): Principal {
  presented.set(principal, token);
  return principal;
}

export function presentedToken(principal: Principal): string | undefined {
  return presented.get(principal);
}
