// Reading gatehouse.yaml: YAML, then ${ENV} interpolation, then the schema. Every problem is a
// ConfigError naming the file, the path inside it and what to do.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { type Config, configSchema } from './schema.ts';

/**
 * `${NAME}` is replaced by the environment variable; `${NAME:-default}` gives a fallback when it is
 * unset or empty; `${file:/path}` by the file's content (one trailing newline dropped) — for
 * secrets mounted as files; `$${` escapes. A reload (SIGHUP) reads the files again.
 */
export function interpolate(value: unknown, env: NodeJS.ProcessEnv, path: string[] = []): unknown {
  if (typeof value === 'string') {
    // One pass, so text a file or variable brings in is never interpolated again.
    return value.replace(
      /\$(\$?)\{(?:file:([^}]+)|([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?)\}/g,
      (whole, escaped, file: string | undefined, name: string | undefined, fallback: string | undefined) => {
        if (escaped) return whole.slice(1);
        if (file !== undefined) return readSecretFile(file, path);
        const found = env[name!];
        // As in the shell and Docker Compose, `:-` also covers a variable that is set but empty.
        if (found !== undefined && (found !== '' || fallback === undefined)) return found;
        if (fallback !== undefined) return fallback;
        throw new ConfigError(
          `${path.join('.') || '(root)'}: environment variable ${name} is not set; set it or write \${${name}:-default}`,
        );
      },
    );
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, [...path, String(i)]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, [...path, k])]));
  }
  return value;
}

function readSecretFile(file: string, path: string[]): string {
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    // The path is named; the content, which may be a secret, never is.
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(`${path.join('.') || '(root)'}: cannot read ${file} (${code})`);
  }
}

export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  let interpolated: unknown;
  try {
    interpolated = interpolate(raw ?? {}, env);
  } catch (err) {
    throw new ConfigError(`${file}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = configSchema.safeParse(interpolated);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (issue) => `  - ${issue.path.join('.') || '(root)'}: ${hint(issue)}`,
    );
    throw new ConfigError(`${file}: invalid configuration:\n${lines.join('\n')}`);
  }
  checkNames(parsed.data, file);
  return deepFreeze(parsed.data);
}

export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `${file}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      { cause: err },
    );
  }
  return parseConfig(text, file, env);
}

function hint(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys')
    return `unknown key(s) ${issue.keys.join(', ')}: remove or correct them`;
  // A bad record key (e.g. an upstream name): zod's own message hides why it is bad.
  if (issue.code === 'invalid_key') return `invalid name: ${issue.issues.map((i) => i.message).join('; ')}`;
  return issue.message;
}

/** Rules across fields that the schema cannot express. */
function checkNames(config: Config, file: string): void {
  if (config.auth.jwt.some((i) => !i.audience) && !config.auth.resource) {
    throw new ConfigError(
      `${file}: auth.resource: set the gateway's public MCP URL (tokens must name it as their audience), or give each auth.jwt entry an audience`,
    );
  }
  for (const [name, vs] of Object.entries(config.virtualServers)) {
    for (const server of vs.servers ?? []) {
      if (!(server in config.upstreams)) {
        throw new ConfigError(`${file}: virtualServers.${name}.servers: no upstream named "${server}"`);
      }
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
