// The merged view a client gets: every upstream's tools, prompts, resources and templates under
// their exposed names, filtered by the virtual server, with the routes back to each upstream.
// Built from the upstream lists in one pass; pure, so the naming rules are easy to test.
import type { Config, NamingConfig, VirtualServerConfig } from '../config/schema.ts';
import type { Target } from '../policy/types.ts';
import { globToRegExp, joinName, matchesTemplate, prefixUri, splitUri } from './names.ts';

type Item = Record<string, unknown>;

export interface UpstreamLists {
  tools?: Item[];
  prompts?: Item[];
  resources?: Item[];
  resourceTemplates?: Item[];
}

export interface View {
  /** The virtual server's name; undefined for the default endpoint. */
  readonly name?: string;
  readonly servers: readonly string[];
  readonly naming: NamingConfig;
  readonly include: readonly RegExp[];
  readonly exclude: readonly RegExp[];
  readonly rename: ReadonlyMap<string, string>;
  readonly overrides: VirtualServerConfig['overrides'];
}

/** A list item as policy sees it (name, owner, endpoint, annotations), with the item itself. */
export interface ItemTarget extends Target {
  item: Item;
}

export interface Route {
  server: string;
  /** The name (or URI) the upstream knows. */
  name: string;
}

/** The view for `/mcp` (no name) or `/mcp/<name>`; undefined when no such virtual server exists. */
export function viewFor(config: Config, virtualServer?: string): View | undefined {
  const all = Object.keys(config.upstreams);
  if (virtualServer === undefined) {
    return {
      servers: all,
      naming: config.naming,
      include: [],
      exclude: [],
      rename: new Map(),
      overrides: {},
    };
  }
  const vs = config.virtualServers[virtualServer];
  if (!vs) return undefined;
  return {
    name: virtualServer,
    servers: vs.servers ?? all,
    naming: { ...config.naming, ...vs.naming },
    include: vs.include.map(globToRegExp),
    exclude: vs.exclude.map(globToRegExp),
    rename: new Map(Object.entries(vs.rename)),
    overrides: vs.overrides,
  };
}

export class Catalog {
  readonly tools: Item[] = [];
  readonly prompts: Item[] = [];
  readonly resources: Item[] = [];
  readonly resourceTemplates: Item[] = [];
  /** Names two servers both offer under one exposed name; only the first is reachable. */
  readonly collisions: string[] = [];
  readonly #toolRoutes = new Map<string, Route>();
  readonly #promptRoutes = new Map<string, Route>();
  readonly #toolDefs = new Map<string, Item>();
  /** Which upstream each exposed item came from. */
  readonly #owners = new Map<Item, string>();
  readonly #targets = new Map<string, readonly ItemTarget[]>();
  /** Call targets for tools and prompts, made once: the policy remembers its verdicts per object. */
  readonly #callTargets = { tool: new Map<string, Target>(), prompt: new Map<string, Target>() };
  readonly #resourceRoutes = new Map<string, Route>();
  readonly #templates: { server: string; template: string }[] = [];
  readonly #view: View;

  constructor(view: View, lists: ReadonlyMap<string, UpstreamLists>) {
    this.#view = view;
    const prefixed = (kind: 'tools' | 'prompts' | 'resources' | 'resourceTemplates'): Set<string> => {
      if (view.naming.prefix !== 'on-collision') return new Set();
      const seen = new Map<string, number>();
      for (const server of view.servers) {
        for (const item of lists.get(server)?.[kind] ?? []) {
          const key = String(
            kind === 'resources' ? item.uri : kind === 'resourceTemplates' ? item.uriTemplate : item.name,
          );
          seen.set(key, (seen.get(key) ?? 0) + 1);
        }
      }
      return new Set([...seen].filter(([, n]) => n > 1).map(([k]) => k));
    };
    const collidingTools = prefixed('tools');
    const collidingPrompts = prefixed('prompts');
    const collidingUris = new Set([...prefixed('resources'), ...prefixed('resourceTemplates')]);
    const usePrefix = (colliding: Set<string>, key: string) =>
      view.naming.prefix === 'always' || (view.naming.prefix === 'on-collision' && colliding.has(key));

    for (const server of view.servers) {
      const upstream = lists.get(server);
      if (!upstream) continue;
      for (const tool of upstream.tools ?? []) {
        const original = String(tool.name);
        const named = usePrefix(collidingTools, original)
          ? joinName(server, original, view.naming.separator)
          : original;
        if (!this.#visible(named)) continue;
        const exposed = view.rename.get(named) ?? named;
        const taken = this.#toolRoutes.get(exposed);
        if (taken) {
          this.collisions.push(`tool "${exposed}" is offered by both "${taken.server}" and "${server}"`);
          continue;
        }
        this.#toolRoutes.set(exposed, { server, name: original });
        const definition = withOverrides({ ...tool, name: exposed }, view.overrides[exposed]);
        this.#toolDefs.set(exposed, definition);
        this.#owners.set(definition, server);
        this.tools.push(definition);
      }
      for (const prompt of upstream.prompts ?? []) {
        const original = String(prompt.name);
        const exposed = usePrefix(collidingPrompts, original)
          ? joinName(server, original, view.naming.separator)
          : original;
        const takenPrompt = this.#promptRoutes.get(exposed);
        if (takenPrompt) {
          this.collisions.push(
            `prompt "${exposed}" is offered by both "${takenPrompt.server}" and "${server}"`,
          );
          continue;
        }
        this.#promptRoutes.set(exposed, { server, name: original });
        const exposedPrompt = { ...prompt, name: exposed };
        this.#owners.set(exposedPrompt, server);
        this.prompts.push(exposedPrompt);
      }
      for (const resource of upstream.resources ?? []) {
        const original = String(resource.uri);
        const exposed = usePrefix(collidingUris, original) ? prefixUri(server, original) : original;
        if (this.#resourceRoutes.has(exposed)) continue;
        this.#resourceRoutes.set(exposed, { server, name: original });
        const exposedResource = { ...resource, uri: exposed };
        this.#owners.set(exposedResource, server);
        this.resources.push(exposedResource);
      }
      for (const template of upstream.resourceTemplates ?? []) {
        const original = String(template.uriTemplate);
        const exposed = usePrefix(collidingUris, original) ? prefixUri(server, original) : original;
        this.#templates.push({ server, template: exposed });
        const exposedTemplate = { ...template, uriTemplate: exposed };
        this.#owners.set(exposedTemplate, server);
        this.resourceTemplates.push(exposedTemplate);
      }
    }
  }

  tool(exposed: string): Route | undefined {
    return this.#toolRoutes.get(exposed);
  }

  /**
   * One list as policy targets, built once per catalog: the same array object every time, so
   * the policy can keep what it worked out for it.
   */
  targets(kind: 'tools' | 'prompts' | 'resources' | 'resourceTemplates'): readonly ItemTarget[] {
    let targets = this.#targets.get(kind);
    if (!targets) {
      targets = this[kind].map((item) => this.#target(kind, item));
      this.#targets.set(kind, targets);
    }
    return targets;
  }

  /**
   * The policy target for one exposed tool, prompt or resource URI (for calls). Tools and
   * prompts get the same object each time (the catalog knows them all); resource URIs, which
   * templates make endless, a new one.
   */
  targetOf(kind: 'tool' | 'prompt' | 'resource', exposed: string, server: string): Target {
    if (kind === 'resource') return this.#newTarget(kind, exposed, server);
    const made = this.#callTargets[kind];
    let target = made.get(exposed);
    if (target === undefined || target.server !== server) {
      target = this.#newTarget(kind, exposed, server);
      made.set(exposed, target);
    }
    return target;
  }

  #newTarget(kind: 'tool' | 'prompt' | 'resource', exposed: string, server: string): Target {
    const annotations = kind === 'tool' ? this.#toolDefs.get(exposed)?.annotations : undefined;
    const target: Target = { kind, name: exposed, server, virtualServer: this.#view.name ?? '/' };
    if (annotations) target.annotations = annotations as Record<string, unknown>;
    return target;
  }

  #target(kind: 'tools' | 'prompts' | 'resources' | 'resourceTemplates', item: Item): ItemTarget {
    const name = String(
      kind === 'resources' ? item.uri : kind === 'resourceTemplates' ? item.uriTemplate : item.name,
    );
    const singular = kind === 'tools' ? 'tool' : kind === 'prompts' ? 'prompt' : 'resource';
    const server = this.#owners.get(item) ?? '';
    const target: ItemTarget = { kind: singular, name, server, virtualServer: this.#view.name ?? '/', item };
    if (kind === 'tools' && item.annotations)
      target.annotations = item.annotations as Record<string, unknown>;
    return target;
  }

  /** The tool as the client is shown it (name, schema, overrides applied). */
  toolDefinition(exposed: string): Item | undefined {
    return this.#toolDefs.get(exposed);
  }

  prompt(exposed: string): Route | undefined {
    return this.#promptRoutes.get(exposed);
  }

  /**
   * The upstream for a resource URI: a listed resource, then a `<server>+` prefix, then a
   * matching template, then — when only one server in the view could own it — that server.
   */
  resource(uri: string, serversWithResources: readonly string[]): Route | undefined {
    const listed = this.#resourceRoutes.get(uri);
    if (listed) return listed;
    const split = splitUri(uri);
    if (split && this.#view.servers.includes(split.server) && this.#view.naming.prefix !== 'never') {
      return { server: split.server, name: split.uri };
    }
    for (const t of this.#templates) {
      if (!matchesTemplate(t.template, uri)) continue;
      const inner = splitUri(t.template);
      if (inner && inner.server === t.server) return { server: t.server, name: splitUri(uri)?.uri ?? uri };
      return { server: t.server, name: uri };
    }
    if (serversWithResources.length === 1) return { server: serversWithResources[0]!, name: uri };
    return undefined;
  }

  /** Maps an upstream URI back to the exposed one (for notifications/resources/updated). */
  exposedUri(server: string, uri: string): string {
    for (const [exposed, route] of this.#resourceRoutes)
      if (route.server === server && route.name === uri) return exposed;
    return this.#view.naming.prefix === 'always' ? prefixUri(server, uri) : uri;
  }

  #visible(name: string): boolean {
    const v = this.#view;
    if (v.include.length > 0 && !v.include.some((r) => r.test(name))) return false;
    return !v.exclude.some((r) => r.test(name));
  }
}

function withOverrides(tool: Item, o: VirtualServerConfig['overrides'][string] | undefined): Item {
  if (!o) return tool;
  const out = { ...tool };
  if (o.description !== undefined) out.description = o.description;
  if (o.title !== undefined) out.title = o.title;
  if (o.annotations !== undefined)
    out.annotations = { ...(tool.annotations as Item | undefined), ...o.annotations };
  return out;
}
