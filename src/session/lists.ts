// The upstream lists behind a session's catalog: fetched on first need (all pages), kept until
// an upstream says its list changed or the upstream restarts, then fetched again.
import { Catalog, type UpstreamLists, type View } from '../route/catalog.ts';
import type { UpstreamClient } from '../upstream/client.ts';
import type { Supervisor } from '../upstream/supervisor.ts';

type Kind = 'tools' | 'prompts' | 'resources';

/** Never follow an upstream's cursors forever. */
const MAX_PAGES = 100;

const SOURCES: { key: keyof UpstreamLists; method: string; capability: string }[] = [
  { key: 'tools', method: 'tools/list', capability: 'tools' },
  { key: 'prompts', method: 'prompts/list', capability: 'prompts' },
  { key: 'resources', method: 'resources/list', capability: 'resources' },
  { key: 'resourceTemplates', method: 'resources/templates/list', capability: 'resources' },
];

export class Lists {
  #view: View;
  #supervisors: ReadonlyMap<string, Supervisor>;
  #fetched = new Map<string, UpstreamLists>();
  #catalog?: Promise<Catalog>;
  #onChange: (kind: Kind) => void;

  #log: (line: string) => void;

  constructor(
    view: View,
    supervisors: ReadonlyMap<string, Supervisor>,
    onChange: (kind: Kind) => void,
    log: (line: string) => void,
  ) {
    this.#log = log;
    this.#view = view;
    this.#supervisors = supervisors;
    this.#onChange = onChange;
  }

  catalog(): Promise<Catalog> {
    this.#catalog ??= this.#build();
    return this.#catalog;
  }

  /** Forgets what an upstream listed (one kind, or all) and tells the client the lists changed. */
  invalidate(server: string, kind?: Kind): void {
    const lists = this.#fetched.get(server);
    if (lists && kind) {
      delete lists[kind];
      if (kind === 'resources') delete lists.resourceTemplates;
    } else this.#fetched.delete(server);
    this.#catalog = undefined;
    for (const k of kind ? [kind] : (['tools', 'prompts', 'resources'] as const)) this.#onChange(k);
  }

  async #build(): Promise<Catalog> {
    await Promise.all(
      [...this.#supervisors.values()].map(async (s) => {
        let client: UpstreamClient;
        try {
          client = await s.get();
        } catch {
          return; // An unavailable upstream contributes nothing until it is back.
        }
        const lists = this.#fetched.get(s.name) ?? {};
        this.#fetched.set(s.name, lists);
        const capabilities = client.initialized?.capabilities ?? {};
        await Promise.all(
          SOURCES.filter((src) => lists[src.key] === undefined && capabilities[src.capability]).map(
            async (src) => {
              lists[src.key] = await fetchAll(client, src.method, src.key, s.config.timeoutMs);
            },
          ),
        );
      }),
    );
    const catalog = new Catalog(this.#view, this.#fetched);
    for (const c of catalog.collisions) {
      this.#log(
        `config error: ${c} under naming.prefix "${this.#view.naming.prefix}"; only the first is reachable — use prefix "on-collision" or "always", or rename one`,
      );
    }
    return catalog;
  }
}

async function fetchAll(client: UpstreamClient, method: string, key: string, timeoutMs: number) {
  const items: Record<string, unknown>[] = [];
  let cursor: unknown;
  for (let page = 0; page < MAX_PAGES; page++) {
    const params = cursor === undefined ? undefined : { cursor };
    const response = await client.request(method, params, { timeoutMs }).catch(() => undefined);
    const result = response?.result;
    if (!result) break;
    const pageItems = result[key];
    if (Array.isArray(pageItems)) items.push(...(pageItems as Record<string, unknown>[]));
    cursor = result.nextCursor;
    if (typeof cursor !== 'string') break;
  }
  return items;
}
