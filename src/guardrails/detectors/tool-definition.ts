// Poisoned tool definitions: what a model reads in tools/list before any call. Looks at every
// string of the definition (name, description, every string and property name of inputSchema,
// annotations), flattened into one text (see flattenToolDefinition) so an instruction hidden in a
// parameter description is found like one in the top description.
//
// Signals: the injection rules (overrides, secrecy, pseudo-tags, exfiltration…), rules for what
// poisoned descriptions ask for (read a sensitive file, put data in a parameter, pretexts like
// "otherwise the tool will crash"), references to other servers' tools with instructions about
// them (shadowing), a name that another server also uses, hidden text, and padding that pushes
// text out of view. Score: noisy-OR over kinds; TOOL_DEFINITION_THRESHOLD decides.
import { hiddenSpans } from './hidden-text.ts';
import { scanInjection } from './injection.ts';
import { headsIn, mayMatch } from './injection-survey.ts';
import { normalize, originalSpan } from './normalize.ts';
import { byPosition, combineByKind, dropOverlaps, eachMatch } from './spans.ts';
import { DEFINITION_RULES, SHADOW_DIRECTIVE } from './tool-definition-rules.ts';
import type { Finding, Scan } from './types.ts';

export const TOOL_DEFINITION_THRESHOLD = 0.5;

export interface ToolDefinition {
  name: string;
  description?: string;
  inputSchema?: unknown;
  annotations?: unknown;
  title?: string;
  outputSchema?: unknown;
}

export interface ToolDefinitionContext {
  /** Names of tools exposed by the OTHER servers (not this one): references to them are shadowing. */
  otherToolNames: string[];
  /** This tool's server; its own name in a description is not a reference to another server. */
  serverName: string;
  /** Names of the other servers, when known: instructions about them are flagged like tool names. */
  otherServerNames?: string[];
}

export interface DefinitionField {
  /** e.g. 'name', 'description', 'inputSchema.properties.path.description', 'inputSchema.properties.path#key' */
  path: string;
  /** [start, end) of this field's text in the flattened text. */
  start: number;
  end: number;
}

export interface ToolDefinitionFinding extends Finding {
  /** The field the span lies in (the field where it starts, if it spans two). */
  field: string;
  /** The span relative to that field's text. */
  fieldStart: number;
  fieldEnd: number;
}

export interface ToolDefinitionScan extends Scan {
  findings: ToolDefinitionFinding[];
  /** The flattened text that `start`/`end` index into. */
  text: string;
  fields: DefinitionField[];
}

const MAX_DEPTH = 32;
const FIELD_SEPARATOR = '\n\n';

/**
 * The definition as one text: each field's string, in the order name, title, description,
 * inputSchema (depth first, object keys in their order; a property name is a field of its own,
 * path ending '#key'), outputSchema, annotations; fields are separated by a blank line.
 */
export function flattenToolDefinition(def: ToolDefinition): { text: string; fields: DefinitionField[] } {
  const parts: string[] = [];
  const fields: DefinitionField[] = [];
  let length = 0;
  const add = (path: string, value: string) => {
    if (value.length === 0) return;
    if (parts.length > 0) {
      parts.push(FIELD_SEPARATOR);
      length += FIELD_SEPARATOR.length;
    }
    fields.push({ path, start: length, end: length + value.length });
    parts.push(value);
    length += value.length;
  };
  const walk = (value: unknown, path: string, depth: number) => {
    if (typeof value === 'string') add(path, value);
    else if (depth >= MAX_DEPTH || value === null || typeof value !== 'object') return;
    else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) walk(value[i], `${path}[${i}]`, depth + 1);
    } else {
      const propertyMap = /\.(?:properties|patternProperties|\$defs|definitions)$/.test(path);
      for (const [k, v] of Object.entries(value)) {
        if (propertyMap) add(`${path}.${k}#key`, k);
        walk(v, `${path}.${k}`, depth + 1);
      }
    }
  };
  if (typeof def.name === 'string') add('name', def.name);
  if (typeof def.title === 'string') add('title', def.title);
  if (typeof def.description === 'string') add('description', def.description);
  walk(def.inputSchema, 'inputSchema', 0);
  walk(def.outputSchema, 'outputSchema', 0);
  walk(def.annotations, 'annotations', 0);
  return { text: parts.join(''), fields };
}

export function scanToolDefinition(def: ToolDefinition, context?: ToolDefinitionContext): ToolDefinitionScan {
  const { text, fields } = flattenToolDefinition(def);
  const raw: Finding[] = [];
  const add = (kind: string, start: number, end: number, score: number) =>
    raw.push({ detector: 'tool-definition', kind, start, end, score });

  // Identifiers are read as words too (include_contents_of_id_rsa): the rules also run on a copy
  // with '_' as ' ', which keeps every offset, so both report spans of the flattened text.
  const spaced = text.includes('_') ? text.replace(/_/g, ' ') : text;
  const injection = scanInjection(text).findings;
  if (spaced !== text) injection.push(...scanInjection(spaced).findings);
  for (const f of injection) {
    // In a definition, a pseudo-tag like <IMPORTANT> is the classic poisoning marker.
    const score =
      f.kind === 'pseudo-tag' ? Math.max(f.score, 0.6) : f.kind === 'tool-coercion' ? f.score * 0.8 : f.score;
    add(f.kind, f.start, f.end, score);
  }
  const n = normalize(text);
  const forms = spaced === text ? [n] : [n, normalize(spaced)];
  const heads = new Map(forms.map((f) => [f, headsIn(f.text, DEFINITION_RULES)]));
  for (const form of forms) {
    for (const rule of DEFINITION_RULES) {
      if (!mayMatch(rule, form.text, heads.get(form)!)) continue;
      eachMatch(rule.pattern, form.text, (m) => {
        const [s, e] = originalSpan(form, m.index, m.index + m[0].length);
        add(rule.kind, s, e, rule.weight);
      });
    }
  }
  for (const h of hiddenSpans(text)) add('hidden-text', h.start, h.end, h.score);
  padding(text, add);
  if (context) shadowing(def, text, fields, n, context, add);

  const kinds = new Map<string, Finding[]>();
  for (const f of raw) {
    const list = kinds.get(f.kind);
    if (list) list.push(f);
    else kinds.set(f.kind, [f]);
  }
  const kept: Finding[] = [];
  for (const list of kinds.values()) kept.push(...dropOverlaps(list));
  kept.sort(byPosition);
  const findings = kept.map((f) => locate(f, fields));
  return { findings, score: combineByKind(findings), text, fields };
}

function locate(f: Finding, fields: DefinitionField[]): ToolDefinitionFinding {
  let lo = 0;
  let hi = fields.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (fields[mid]!.start <= f.start) lo = mid;
    else hi = mid - 1;
  }
  const field = fields[lo] ?? { path: '', start: 0, end: 0 };
  return {
    ...f,
    field: field.path,
    fieldStart: Math.max(0, f.start - field.start),
    fieldEnd: Math.min(field.end, f.end) - field.start,
  };
}

/** Long runs of blank lines or spaces push text below what a reviewer sees ("line jumping"). */
function padding(text: string, add: (kind: string, s: number, e: number, score: number) => void): void {
  let runStart = -1;
  let newlines = 0;
  let spaces = 0;
  const close = (end: number) => {
    if (runStart !== -1 && (newlines >= 8 || spaces >= 100)) add('padding', runStart, end, 0.4);
    runStart = -1;
    newlines = 0;
    spaces = 0;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 32 || c === 9 || c === 13 || c === 0xa0) {
      if (runStart === -1) runStart = i;
      if (c === 10) newlines++;
      else spaces++;
    } else close(i);
  }
  close(text.length);
}

function shadowing(
  def: ToolDefinition,
  text: string,
  fields: DefinitionField[],
  n: ReturnType<typeof normalize>,
  context: ToolDefinitionContext,
  add: (kind: string, s: number, e: number, score: number) => void,
): void {
  const own = def.name.toLowerCase();
  const others = new Set(context.otherToolNames.map((x) => x.toLowerCase()).filter((x) => x !== ''));
  const servers = new Set(
    (context.otherServerNames ?? [])
      .map((x) => x.toLowerCase())
      .filter((x) => x !== '' && x !== context.serverName.toLowerCase()),
  );
  if (others.has(own)) {
    const nameField = fields.find((f) => f.path === 'name');
    if (nameField) add('name-collision', nameField.start, nameField.end, 0.55);
  }
  const t = n.text;
  const token = /[a-z0-9_][a-z0-9_.-]{0,63}/g;
  for (const m of t.matchAll(token)) {
    let word = m[0];
    while (word.endsWith('.') || word.endsWith('-')) word = word.slice(0, -1);
    if (word === own) continue;
    const isTool = others.has(word);
    const isServer = servers.has(word);
    if (!isTool && !isServer) continue;
    const s = m.index;
    const e = s + word.length;
    const [os, oe] = originalSpan(n, s, e);
    // A plain word ("search", "fetch") is a reference only when marked as a name: quoted, code,
    // followed by "tool"/"server", or spelled like an identifier in the original.
    const original = text.slice(os, oe);
    const before = t[s - 1] ?? '';
    const after = t.slice(e, e + 10);
    const marked =
      /[_.-]/.test(word) ||
      /[a-z][A-Z]/.test(original) ||
      '`\'"'.includes(before) ||
      /^[`'"]?\s?(?:tool|function|server|mcp)/.test(after);
    if (!marked) continue;
    // The sentence around the name, at most 200 characters each way.
    const left = t.slice(Math.max(0, s - 200), s);
    const right = t.slice(e, e + 200);
    const cut = Math.max(left.lastIndexOf('. '), left.lastIndexOf('\n'));
    const stop = right.search(/\.(?:\s|$)|\n/);
    const sentence = left.slice(cut + 1) + word + (stop === -1 ? right : right.slice(0, stop));
    const directive = SHADOW_DIRECTIVE.test(sentence);
    add(directive ? 'shadowing' : 'tool-reference', os, oe, directive ? 0.75 : 0.3);
  }
}
