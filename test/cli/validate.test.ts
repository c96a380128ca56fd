// `gatehouse validate FILE` as an operator runs it: a real child process, exit code and output.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const GOOD = `upstreams:
  memory:
    transport: stdio
    command: node
    args: [server.js]
virtualServers:
  readonly:
    servers: [memory]
`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function validate(file: string, env: NodeJS.ProcessEnv = {}, extra: string[] = []): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['src/cli/main.ts', 'validate', file, ...extra],
      { cwd: root, env: { PATH: process.env.PATH, ...env }, timeout: 10_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('gatehouse validate', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-validate-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const write = async (name: string, text: string) => {
    const file = join(dir, name);
    await writeFile(file, text);
    return file;
  };

  test('exits 0 and summarizes a good file', async () => {
    const file = await write('good.yaml', GOOD);
    const run = await validate(file);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /OK — 1 upstream\(s\): memory; virtual servers: readonly/);
    assert.ok(run.stdout.startsWith(file));
    assert.equal(run.stderr, '');
  });

  test('exits 1 and names the path of an unknown key and what to do', async () => {
    const file = await write('typo.yaml', `${GOOD}listen:\n  prot: 8080\n`);
    const run = await validate(file);
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`^${file}: invalid configuration`));
    assert.match(run.stderr, /listen: unknown key\(s\) prot: remove or correct them/);
    assert.equal(run.stdout, '');
  });

  test('exits 1 and names the file when the YAML does not parse', async () => {
    const file = await write('broken.yaml', 'upstreams: [\n');
    const run = await validate(file);
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`^${file}: not valid YAML`));
  });

  test('exits 1 and names a missing environment variable and how to give a default', async () => {
    const text = GOOD.replace(
      'args: [server.js]\n',
      'args: [server.js]\n    env:\n      TOKEN: ${GATEHOUSE_TEST_TOKEN}\n',
    );
    const file = await write('env.yaml', text);
    const run = await validate(file);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /upstreams\.memory\.env\.TOKEN: environment variable GATEHOUSE_TEST_TOKEN is not set/,
    );
    assert.match(run.stderr, /\$\{GATEHOUSE_TEST_TOKEN:-default\}/);
    const withEnv = await validate(file, { GATEHOUSE_TEST_TOKEN: 'x' });
    assert.equal(withEnv.code, 0, withEnv.stderr);
  });

  test('exits 1 when a virtual server names an unknown upstream', async () => {
    const file = await write('vs.yaml', GOOD.replace('servers: [memory]', 'servers: [memory, nosuch]'));
    const run = await validate(file);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /virtualServers\.readonly\.servers: no upstream named "nosuch"/);
  });

  test('exits 1 and says why for a file that cannot be read', async () => {
    const run = await validate(join(dir, 'missing.yaml'));
    assert.equal(run.code, 1);
    assert.match(run.stderr, /missing\.yaml: cannot read the file \(ENOENT\)/);
  });
});

describe('gatehouse validate --connect', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-validate-connect-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('names both servers when prefix never makes two tools collide, and an unreachable upstream', async () => {
    const memory = `${root}node_modules/@modelcontextprotocol/server-memory/dist/index.js`;
    const file = join(dir, 'collide.yaml');
    await writeFile(
      file,
      `naming: { prefix: never }
upstreams:
  first: { transport: stdio, command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(memory)}] }
  second: { transport: stdio, command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(memory)}] }
  gone: { transport: http, url: "http://127.0.0.1:1/mcp", connectTimeoutMs: 1000 }
`,
    );
    const run = await validate(file, {}, ['--connect']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /tool "read_graph" is offered by both "first" and "second"/);
    assert.match(run.stderr, /upstream "gone" cannot be reached: connect ECONNREFUSED/);
  });

  test('passes the bundled gatehouse.yaml and counts what each endpoint offers', async () => {
    const run = await validate(join(root, 'gatehouse.yaml'), {}, ['--connect']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /\/mcp: \d+ tools/);
    assert.match(run.stdout, /\/mcp\/readonly: \d+ tools/);
  });
});

describe('gatehouse policy explain', () => {
  test('prints the decision and the deciding rule from the config alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-explain-'));
    const file = join(dir, 'policy.yaml');
    await writeFile(
      file,
      `auth: { anonymous: true }
upstreams:
  memory: { transport: stdio, command: node, args: [x.js] }
policy:
  unmatched: deny
  rules:
    - { id: intern-reads, effect: allow, principals: { roles: [intern] }, targets: { tools: ["memory__search_*"] } }
    - id: short-searches
      effect: deny
      principals: { roles: [intern] }
      targets: { tools: [memory__search_nodes] }
      when: "size(args.query) > 10"
`,
    );
    const run = (extra: string[]) =>
      new Promise<Run>((resolve) => {
        execFile(
          process.execPath,
          [
            'src/cli/main.ts',
            'policy',
            'explain',
            '--config',
            file,
            '--target',
            'tool:memory__search_nodes',
            '--server',
            'memory',
            '--role',
            'intern',
            ...extra,
          ],
          { cwd: root, timeout: 10_000 },
          (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
        );
      });
    const denied = await run(['--args', '{"query":"a very long query"}']);
    assert.equal(denied.code, 0, denied.stderr);
    assert.match(denied.stdout, /Decision: DENY - denied by rule "short-searches"/);
    const allowed = await run(['--args', '{"query":"cats"}']);
    assert.match(allowed.stdout, /Decision: ALLOW/);
    await rm(dir, { recursive: true, force: true });
  });
});
