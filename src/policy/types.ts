// The shapes the policy engine speaks: who asks, about what, and what it decided.

/** Who is asking, as authentication established it. Treat it as immutable once built. */
export interface Principal {
  agent?: string;
  user?: string;
  roles: readonly string[];
  groups: readonly string[];
  teams: readonly string[];
  /** Raw token claims; only conditions (`principal.claims.x`) read them. */
  claims?: Record<string, unknown>;
}

export type TargetKind = 'tool' | 'resource' | 'prompt';

/** What is being listed or called, under the names the client sees. */
export interface Target {
  kind: TargetKind;
  /** The exposed tool or prompt name, or the exposed resource URI. */
  name: string;
  /** The upstream server that owns it. */
  server: string;
  /** The virtual server (endpoint) asked through; absent or `/` for the default `/mcp`. */
  virtualServer?: string;
  /** Tool annotations as the client sees them (after overrides). */
  annotations?: Record<string, unknown>;
}

export interface Decision {
  /** What the gateway must do. Always true unless the policy is enforcing. */
  allow: boolean;
  /** False in shadow and off modes: the decision is reported, never applied. */
  enforced: boolean;
  /** What the rules concluded, whatever the mode; equals `allow` when enforcing. */
  wouldAllow: boolean;
  /** The rule that decided, if one did (the first matching deny, else the first matching allow). */
  ruleId?: string;
  reason: string;
  /** Ids of every rule that matched (principals, targets and condition), in config order. */
  matched: string[];
}

export interface DecideOptions {
  /** The clock for `now` in conditions; injected by tests, defaults to the current time. */
  now?: Date;
}
