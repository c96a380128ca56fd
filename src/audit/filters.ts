// The WHERE clause of a search, shared by the SQLite and PostgreSQL stores. Values are always
// bound parameters; only column names (fixed here) reach the SQL text.
import type { AuditQuery } from './store.ts';

export interface Dialect {
  /** Binds a value and returns its placeholder (`?` or `$n`). */
  param(value: string): string;
  /** A condition: the record's principal has the team bound at `placeholder`. */
  hasTeam(placeholder: string): string;
}

const EQUALS = [
  ['agent', 'agent'],
  ['user', 'user_name'],
  ['target', 'target'],
  ['method', 'method'],
  ['outcome', 'outcome'],
  ['traceId', 'trace_id'],
  ['instance', 'instance'],
] as const satisfies readonly (readonly [keyof AuditQuery, string])[];

/** The conditions for `q`, to be joined with AND (empty: every record). */
export function whereClauses(q: AuditQuery, d: Dialect): string[] {
  const where: string[] = [];
  if (q.from !== undefined) where.push(`time >= ${d.param(isoTime(q.from))}`);
  if (q.to !== undefined) where.push(`time < ${d.param(isoTime(q.to))}`);
  for (const [field, column] of EQUALS) {
    const value = q[field];
    if (value !== undefined) where.push(`${column} = ${d.param(value)}`);
  }
  if (q.team !== undefined) where.push(d.hasTeam(d.param(q.team)));
  return where;
}

/** An ISO time in the one form records are kept in; throws RangeError for a non-date. */
export function isoTime(text: string): string {
  return new Date(text).toISOString();
}
