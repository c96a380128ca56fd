import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configSchema } from '../config/schema.ts';
import { Catalog, type UpstreamLists, type View, viewFor } from './catalog.ts';

const stdio = { transport: 'stdio', command: 'node' };

/** A config with upstreams `a` and `b` (in that order) plus whatever `extra` sets. */
function config(extra: Record<string, unknown> = {}) {
  return configSchema.parse({ upstreams: { a: stdio, b: stdio }, ...extra });
}

function view(extra: Record<string, unknown> = {}, virtualServer?: string): View {
  const v = viewFor(config(extra), virtualServer);
  assert.ok(v, 'the view exists');
  return v;
}

const tools = (...names: string[]) => names.map((name) => ({ name, inputSchema: { type: 'object' } }));

const LISTS = new Map<string, UpstreamLists>([
  [
    'a',
    {
      tools: tools('echo', 'add'),
      prompts: [{ name: 'greet' }],
      resources: [{ uri: 'mem://one', name: 'one' }],
      resourceTemplates: [{ uriTemplate: 'mem://item/{id}', name: 'item' }],
    },
  ],
  [
    'b',
    {
      tools: tools('echo', 'search'),
      prompts: [{ name: 'greet' }, { name: 'summarize' }],
      resources: [
        { uri: 'mem://one', name: 'one' },
        { uri: 'file:///b.txt', name: 'b' },
      ],
      resourceTemplates: [{ uriTemplate: 'file:///{path}', name: 'file' }],
    },
  ],
]);

const names = (items: Record<string, unknown>[], key = 'name') => items.map((i) => i[key]);

describe('viewFor', () => {
  test('gives the default endpoint every upstream and the global naming', () => {
    const v = view({ naming: { separator: '.', prefix: 'never' } });
    assert.equal(v.name, undefined);
    assert.deepEqual(v.servers, ['a', 'b']);
    assert.deepEqual(v.naming, { separator: '.', prefix: 'never' });
  });

  test('gives undefined for a virtual server that does not exist', () => {
    assert.equal(viewFor(config(), 'nosuch'), undefined);
  });

  test('lets a virtual server override part of the naming and inherit the rest', () => {
    const v = view(
      {
        naming: { separator: '.', prefix: 'always' },
        virtualServers: { vs: { naming: { prefix: 'never' } } },
      },
      'vs',
    );
    assert.deepEqual(v.naming, { separator: '.', prefix: 'never' });
    assert.deepEqual(v.servers, ['a', 'b'], 'draws from every upstream when servers is omitted');
  });
});

describe('Catalog naming', () => {
  test('prefixes every tool and prompt with its server when prefix is "always"', () => {
    const c = new Catalog(view(), LISTS);
    assert.deepEqual(names(c.tools), ['a__echo', 'a__add', 'b__echo', 'b__search']);
    assert.deepEqual(names(c.prompts), ['a__greet', 'b__greet', 'b__summarize']);
    assert.deepEqual(c.tool('b__echo'), { server: 'b', name: 'echo' });
    assert.deepEqual(c.prompt('a__greet'), { server: 'a', name: 'greet' });
    assert.equal(c.tool('echo'), undefined);
  });

  test('uses the configured separator', () => {
    const c = new Catalog(view({ naming: { separator: '.' } }), LISTS);
    assert.deepEqual(names(c.tools), ['a.echo', 'a.add', 'b.echo', 'b.search']);
    assert.deepEqual(c.tool('a.add'), { server: 'a', name: 'add' });
  });

  test('keeps upstream names when prefix is "never", first server winning a collision', () => {
    const c = new Catalog(view({ naming: { prefix: 'never' } }), LISTS);
    assert.deepEqual(names(c.tools), ['echo', 'add', 'search']);
    assert.deepEqual(c.tool('echo'), { server: 'a', name: 'echo' });
    assert.deepEqual(c.tool('search'), { server: 'b', name: 'search' });
    assert.deepEqual(names(c.prompts), ['greet', 'summarize']);
    assert.deepEqual(c.prompt('greet'), { server: 'a', name: 'greet' });
  });

  test('prefixes only colliding names when prefix is "on-collision"', () => {
    const c = new Catalog(view({ naming: { prefix: 'on-collision' } }), LISTS);
    assert.deepEqual(names(c.tools), ['a__echo', 'add', 'b__echo', 'search']);
    assert.deepEqual(c.tool('a__echo'), { server: 'a', name: 'echo' });
    assert.deepEqual(c.tool('b__echo'), { server: 'b', name: 'echo' });
    assert.deepEqual(c.tool('add'), { server: 'a', name: 'add' });
    assert.deepEqual(names(c.prompts), ['a__greet', 'b__greet', 'summarize']);
    assert.deepEqual(names(c.resources, 'uri'), ['a+mem://one', 'b+mem://one', 'file:///b.txt']);
  });

  test('counts collisions only among the servers of the view', () => {
    const c = new Catalog(
      view({ naming: { prefix: 'on-collision' }, virtualServers: { onlyB: { servers: ['b'] } } }, 'onlyB'),
      LISTS,
    );
    assert.deepEqual(names(c.tools), ['echo', 'search']);
  });

  test('fits a long prefixed name into 64 characters and routes it back', () => {
    const long = 'q'.repeat(80);
    const c = new Catalog(view(), new Map([['a', { tools: tools(long) }]]));
    const exposed = String(c.tools[0]?.name);
    assert.equal(exposed.length, 64);
    assert.ok(exposed.startsWith('a__qqq'));
    assert.deepEqual(c.tool(exposed), { server: 'a', name: long });
  });

  test('gives the same names for the same lists every time', () => {
    const first = new Catalog(view({ naming: { prefix: 'on-collision' } }), LISTS);
    const second = new Catalog(view({ naming: { prefix: 'on-collision' } }), LISTS);
    assert.deepEqual(first.tools, second.tools);
    assert.deepEqual(first.resources, second.resources);
  });

  test('does not change the upstream items it was built from', () => {
    const upstream = { tools: tools('echo') };
    new Catalog(view(), new Map([['a', upstream]]));
    assert.equal(upstream.tools[0]?.name, 'echo');
  });

  test('skips a server with no lists yet', () => {
    const c = new Catalog(view(), new Map([['b', { tools: tools('search') }]]));
    assert.deepEqual(names(c.tools), ['b__search']);
  });
});

describe('Catalog virtual servers', () => {
  const vs = (settings: Record<string, unknown>) => view({ virtualServers: { vs: settings } }, 'vs');

  test('draws only from the servers the virtual server names', () => {
    const c = new Catalog(vs({ servers: ['b'] }), LISTS);
    assert.deepEqual(names(c.tools), ['b__echo', 'b__search']);
    assert.equal(c.tool('a__echo'), undefined);
  });

  test('shows only tools matching an include glob', () => {
    const c = new Catalog(vs({ include: ['*__echo'] }), LISTS);
    assert.deepEqual(names(c.tools), ['a__echo', 'b__echo']);
  });

  test('rejects a tool hidden by the virtual server', () => {
    const c = new Catalog(vs({ include: ['a__*'], exclude: ['*add'] }), LISTS);
    assert.deepEqual(names(c.tools), ['a__echo']);
    assert.equal(c.tool('a__add'), undefined, 'a hidden tool cannot be called either');
  });

  test('matches globs against the prefixed name, before renames', () => {
    const c = new Catalog(vs({ include: ['b__s*'], rename: { b__search: 'find' } }), LISTS);
    assert.deepEqual(names(c.tools), ['find']);
  });

  test('renames an exposed tool and routes the new name to the original', () => {
    const c = new Catalog(vs({ rename: { a__echo: 'say' } }), LISTS);
    assert.deepEqual(names(c.tools), ['say', 'a__add', 'b__echo', 'b__search']);
    assert.deepEqual(c.tool('say'), { server: 'a', name: 'echo' });
    assert.equal(c.tool('a__echo'), undefined, 'the old name is gone');
  });

  test('applies overrides keyed by the final name, merging annotations', () => {
    const upstream = new Map([
      [
        'a',
        {
          tools: [
            { name: 'echo', description: 'old', annotations: { readOnlyHint: true, title: 'Echo' } },
            { name: 'add', description: 'adds' },
          ],
        },
      ],
    ]);
    const c = new Catalog(
      vs({
        servers: ['a'],
        rename: { a__echo: 'say' },
        overrides: {
          say: { description: 'new', title: 'Say', annotations: { destructiveHint: false } },
          a__echo: { description: 'not applied: keyed by the name before the rename' },
        },
      }),
      upstream,
    );
    assert.deepEqual(c.tools[0], {
      name: 'say',
      description: 'new',
      title: 'Say',
      annotations: { readOnlyHint: true, title: 'Echo', destructiveHint: false },
    });
    assert.deepEqual(c.tools[1], { name: 'a__add', description: 'adds' });
  });
});

describe('Catalog resources', () => {
  test('prefixes resource URIs and templates with <server>+ when prefix is "always"', () => {
    const c = new Catalog(view(), LISTS);
    assert.deepEqual(names(c.resources, 'uri'), ['a+mem://one', 'b+mem://one', 'b+file:///b.txt']);
    assert.deepEqual(names(c.resourceTemplates, 'uriTemplate'), ['a+mem://item/{id}', 'b+file:///{path}']);
  });

  test('routes a listed resource back to its server and original URI', () => {
    const c = new Catalog(view(), LISTS);
    assert.deepEqual(c.resource('b+mem://one', ['a', 'b']), { server: 'b', name: 'mem://one' });
  });

  test('routes an unlisted prefixed URI by its prefix', () => {
    const c = new Catalog(view(), LISTS);
    assert.deepEqual(c.resource('a+mem://item/7', ['a', 'b']), { server: 'a', name: 'mem://item/7' });
  });

  test('does not route by a prefix naming a server outside the view', () => {
    const c = new Catalog(view({ virtualServers: { vs: { servers: ['b'] } } }, 'vs'), LISTS);
    assert.equal(c.resource('a+mem://one', ['b', 'x']), undefined);
  });

  test('routes an unprefixed URI by a matching template when prefix is "never"', () => {
    const c = new Catalog(view({ naming: { prefix: 'never' } }), LISTS);
    assert.deepEqual(names(c.resourceTemplates, 'uriTemplate'), ['mem://item/{id}', 'file:///{path}']);
    assert.deepEqual(c.resource('mem://item/9', ['a', 'b']), { server: 'a', name: 'mem://item/9' });
    assert.deepEqual(c.resource('file:///etc/x', ['a', 'b']), { server: 'b', name: 'file:///etc/x' });
  });

  test('routes a URI no server claims to the only server with resources', () => {
    const c = new Catalog(view({ naming: { prefix: 'never' } }), LISTS);
    assert.deepEqual(c.resource('other://z', ['b']), { server: 'b', name: 'other://z' });
    assert.equal(c.resource('other://z', ['a', 'b']), undefined, 'ambiguous: no route');
  });

  test('maps an upstream URI back to the exposed one', () => {
    const always = new Catalog(view(), LISTS);
    assert.equal(always.exposedUri('b', 'mem://one'), 'b+mem://one');
    assert.equal(always.exposedUri('a', 'mem://item/3'), 'a+mem://item/3', 'unlisted: prefixed');
    const never = new Catalog(view({ naming: { prefix: 'never' } }), LISTS);
    assert.equal(never.exposedUri('b', 'file:///b.txt'), 'file:///b.txt');
  });

  test('round-trips every exposed resource URI to the original', () => {
    for (const prefix of ['always', 'never', 'on-collision']) {
      const c = new Catalog(view({ naming: { prefix } }), LISTS);
      for (const r of c.resources) {
        const route = c.resource(String(r.uri), ['a', 'b']);
        assert.ok(route, `${prefix}: ${String(r.uri)} routes`);
        assert.equal(c.exposedUri(route.server, route.name), r.uri, `${prefix}: ${String(r.uri)} maps back`);
      }
    }
  });
});
