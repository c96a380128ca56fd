// Reading gatehouse.yaml: YAML, then interpolation (${ENV}, ${file:PATH}, ${secret:NAME}), then
// the schema. Every problem is a ConfigError naming the file, the path inside it and what to do.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { loadMasterKey } from '../secrets/cipher.ts';
import { SECRET_NAME, SecretStoreError, secretStore } from '../secrets/store.ts';
import { type Config, configSchema } from './schema.ts';
import { type SecretsConfig, secretsSchema } from './secrets-schema.ts';

/** A secret's value by name, or undefined when the store has none of that name. */
export type SecretLookup = (name: string) => string | undefined;

/**
 * `${NAME}` is replaced by the environment variable; `${NAME:-default}` gives a fallback when it is
 * unset or empty; `${file:/path}` by the file's content (one trailing newline dropped) — for
 * secrets mounted as files; `${secret:NAME}` by the secret from the encrypted store `secret`
 * looks in; `$${` escapes. A reload (SIGHUP) reads the files and the store again.
 */
export function interpolate(
  value: unknown,
  env: NodeJS.ProcessEnv,
  path: string[] = [],
  secret?: SecretLookup,
): unknown {
  if (typeof value === 'string') {
    // One pass, so text a file, variable or secret brings in is never interpolated again.
    return value.replace(
      /\$(\$?)\{(?:file:([^}]+)|secret:([^}]*)|([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?)\}/g,
      (
        whole,
        escaped,
        file: string | undefined,
        secretName: string | undefined,
        name: string | undefined,
        fallback: string | undefined,
      ) => {
        if (escaped) return whole.slice(1);
        if ((file !== undefined || secretName !== undefined) && path[0] === 'policy') {
          // Policy text is shown (`gatehouse policy explain`, CEL errors): no place for a secret.
          throw new ConfigError(
            `${path.join('.')}: secrets (\${file:...}, \${secret:...}) cannot be used in the policy, whose text is shown in explanations and errors`,
          );
        }
        if (file !== undefined) return readSecretFile(file, path);
        if (secretName !== undefined) return readSecret(secretName, secret, path);
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
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, [...path, String(i)], secret));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolate(v, env, [...path, k], secret)]),
    );
  }
  return value;
}

function readSecret(name: string, lookup: SecretLookup | undefined, path: string[]): string {
  const where = path.join('.') || '(root)';
  if (!lookup) {
    throw new ConfigError(
      `${where}: \${secret:${name}} needs a top-level secrets section (store and masterKey)`,
    );
  }
  if (!SECRET_NAME.test(name)) {
    throw new ConfigError(
      `${where}: \${secret:${name}}: use 1-128 letters, digits, "_", "." or "-" as the name`,
    );
  }
  let value: string | undefined;
  try {
    value = lookup(name);
  } catch (err) {
    // The store names its file and the secret, never a value.
    if (!(err instanceof SecretStoreError || err instanceof ConfigError)) throw err;
    throw new ConfigError(`${where}: ${err.message}`, { cause: err });
  }
  if (value === undefined) {
    throw new ConfigError(
      `${where}: secret ${name} is not in the secret store; add it with gatehouse secrets set ${name}`,
    );
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
  const raw = yamlOf(text, file) ?? {};
  // The secrets section is read first, with the environment and files only: it says where the
  // values of `${secret:NAME}` everywhere else come from.
  const { secrets: section, ...rest } = isRecord(raw) ? raw : { secrets: undefined };
  const secrets = section === undefined ? undefined : secretsSection(section, file, env);
  let interpolated: unknown;
  try {
    interpolated = secrets
      ? { ...(interpolate(rest, env, [], secretLookup(secrets, env)) as object), secrets }
      : interpolate(raw, env);
  } catch (err) {
    throw new ConfigError(`${file}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = configSchema.safeParse(interpolated);
  if (!parsed.success) throw invalid(file, parsed.error.issues);
  checkNames(parsed.data, file);
  return deepFreeze(parsed.data);
}

/** The `secrets` section of a config file alone (for `gatehouse secrets`), or undefined. */
export async function readSecretsConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SecretsConfig | undefined> {
  const raw = yamlOf(await readConfigText(file), file);
  const section = isRecord(raw) ? raw['secrets'] : undefined;
  return section === undefined ? undefined : secretsSection(section, file, env);
}

function secretsSection(section: unknown, file: string, env: NodeJS.ProcessEnv): SecretsConfig {
  let interpolated: unknown;
  try {
    interpolated = interpolate(section, env, ['secrets'], () => {
      throw new ConfigError('the secrets section says where secrets come from; it cannot use ${secret:...}');
    });
  } catch (err) {
    throw new ConfigError(`${file}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = secretsSchema.safeParse(interpolated);
  if (!parsed.success) throw invalid(file, parsed.error.issues, ['secrets']);
  return parsed.data;
}

/** Reads the master key now (a missing key is an error even before any secret is used). */
function secretLookup(secrets: SecretsConfig, env: NodeJS.ProcessEnv): SecretLookup {
  let key: Buffer;
  try {
    key = loadMasterKey(secrets.masterKey, env);
  } catch (err) {
    throw new ConfigError(`secrets: ${(err as Error).message}`, { cause: err });
  }
  const store = secretStore(secrets.store, key);
  return (name) => store.get(name);
}

function yamlOf(text: string, file: string): unknown {
  try {
    return parseYaml(text, { prettyErrors: true });
  } catch (err) {
    throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message}`, { cause: err });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(file: string, issues: z.core.$ZodIssue[], prefix: string[] = []): ConfigError {
  const lines = issues.map(
    (issue) => `  - ${[...prefix, ...issue.path].join('.') || '(root)'}: ${hint(issue)}`,
  );
  return new ConfigError(`${file}: invalid configuration:\n${lines.join('\n')}`);
}

export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  return parseConfig(await readConfigText(file), file, env);
}

async function readConfigText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `${file}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      { cause: err },
    );
  }
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
  for (const [name, u] of Object.entries(config.upstreams)) {
    if (u.transport !== 'stdio' && u.onBehalfOf && u.share === 'gateway') {
      throw new ConfigError(
        `${file}: upstreams.${name}: share "gateway" cannot act for each user (onBehalfOf); use share "session"`,
      );
    }
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
