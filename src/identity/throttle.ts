// Slows down guessing: a source (an IP address) that fails authentication too often is refused
// for a while, and each further lockout lasts twice as long, up to a cap. Memory is bounded: at
// most `maxSources` sources are tracked, and the least recently active is forgotten first.
//
// A forgotten source starts again from zero. So a blocked source stays tracked while it keeps
// knocking (a refused `check` counts as activity), and an attacker spraying from more than
// `maxSources` addresses loses their memory only as fast as they can afford new addresses.
import { isIPv6 } from 'node:net';

export interface ThrottleOptions {
  /** Failures within `windowMs` that trigger a lockout. */
  maxFailures?: number;
  windowMs?: number;
  /** The first lockout; each next one doubles, up to `maxBackoffMs`. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** A source quiet for this long is forgotten, lockout history included. */
  forgetAfterMs?: number;
  maxSources?: number;
  /** Milliseconds; injected by tests. */
  now?: () => number;
}

export interface ThrottleDecision {
  allowed: boolean;
  retryAfterMs?: number;
}

export interface Throttle {
  /** Call before verifying a credential; when not allowed, do not verify it at all. */
  check(source: string): ThrottleDecision;
  fail(source: string): void;
  /** A success forgets the source's failures and lockouts. */
  succeed(source: string): void;
  /** How many sources are tracked (for metrics and tests). */
  readonly size: number;
}

interface SourceState {
  failures: number;
  windowStart: number;
  lockouts: number;
  blockedUntil: number;
  lastSeen: number;
}

const ALLOWED: ThrottleDecision = Object.freeze({ allowed: true });

export function createThrottle(options: ThrottleOptions = {}): Throttle {
  const maxFailures = positive('maxFailures', options.maxFailures ?? 5);
  const windowMs = positive('windowMs', options.windowMs ?? 60_000);
  const baseBackoffMs = positive('baseBackoffMs', options.baseBackoffMs ?? 1_000);
  const maxBackoffMs = positive('maxBackoffMs', options.maxBackoffMs ?? 15 * 60_000);
  const forgetAfterMs = positive(
    'forgetAfterMs',
    options.forgetAfterMs ?? Math.max(maxBackoffMs, windowMs) * 2,
  );
  const maxSources = positive('maxSources', options.maxSources ?? 10_000);
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order; re-inserting on activity keeps the least recently
  // active source first, which is the one to evict.
  const sources = new Map<string, SourceState>();

  const touch = (source: string, state: SourceState, at: number) => {
    state.lastSeen = at;
    sources.delete(source);
    sources.set(source, state);
  };

  // The state for a source, or undefined once it has been quiet long enough to forget.
  const current = (source: string, at: number) => {
    const state = sources.get(source);
    if (state && at - state.lastSeen >= forgetAfterMs) {
      sources.delete(source);
      return undefined;
    }
    return state;
  };

  return {
    check(source) {
      const at = now();
      const state = current(source, at);
      if (!state || at >= state.blockedUntil) return ALLOWED;
      touch(source, state, at);
      return { allowed: false, retryAfterMs: state.blockedUntil - at };
    },

    fail(source) {
      const at = now();
      let state = current(source, at);
      if (!state) {
        state = { failures: 0, windowStart: at, lockouts: 0, blockedUntil: 0, lastSeen: at };
      } else if (at - state.windowStart >= windowMs) {
        state.failures = 0;
        state.windowStart = at;
      }
      state.failures++;
      if (state.failures >= maxFailures) {
        const backoff = Math.min(baseBackoffMs * 2 ** state.lockouts, maxBackoffMs);
        state.lockouts++;
        state.blockedUntil = at + backoff;
        state.failures = 0;
        state.windowStart = at;
      }
      touch(source, state, at);
      while (sources.size > maxSources) {
        const oldest = sources.keys().next().value as string;
        sources.delete(oldest);
      }
    },

    succeed(source) {
      sources.delete(source);
    },

    get size() {
      return sources.size;
    },
  };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new TypeError(`createThrottle: ${name} must be a positive number`);
  return value;
}

/**
 * The source key for an address: IPv4 as is (also when written IPv4-mapped, `::ffff:1.2.3.4`),
 * IPv6 by its /64 prefix, since one host usually controls a whole /64 and could otherwise
 * rotate through 2^64 fresh sources.
 */
export function throttleKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  // Not an IPv6 address (IPv4, or garbage from a forwarded header): used as it is.
  if (!isIPv6(address)) return address;
  const [head = '', tail] = address.toLowerCase().split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
