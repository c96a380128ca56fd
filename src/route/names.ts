// How upstream names become the names a client sees, and back. Deterministic and reversible:
// the same config and upstream lists always give the same names.
import { createHash } from 'node:crypto';

/** Many clients reject tool names longer than 64 characters. */
export const MAX_NAME = 64;

/**
 * Fits a name into MAX_NAME: longer names keep their first 55 characters, then `_` and the
 * first 8 hex digits of the SHA-256 of the full name, so distinct long names stay distinct.
 */
export function fitName(name: string): string {
  if (name.length <= MAX_NAME) return name;
  const digest = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, MAX_NAME - 9)}_${digest}`;
}

export function joinName(server: string, name: string, separator: string): string {
  return fitName(`${server}${separator}${name}`);
}

/**
 * Resource URIs are namespaced by prefixing the scheme with `<server>+`, which keeps them valid
 * URIs (`+` is allowed in a scheme) and reversible (server names never contain `+`).
 */
export function prefixUri(server: string, uri: string): string {
  return `${server}+${uri}`;
}

export function splitUri(uri: string): { server: string; uri: string } | undefined {
  const match = /^([A-Za-z0-9_-]{1,32})\+(.+)$/s.exec(uri);
  return match ? { server: match[1]!, uri: match[2]! } : undefined;
}

/** Glob over names: `*` matches any run of characters, `?` one; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

/** Whether a URI matches an RFC 6570 template's literal parts (variables match any run). */
export function matchesTemplate(template: string, uri: string): boolean {
  const parts = template.split(/\{[^}]*\}/);
  const body = parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${body}$`, 's').test(uri);
}
