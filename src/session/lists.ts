// The upstream lists behind a session's catalog: fetched on first need (all pages), kept until
// an upstream says its list changed or the upstream restarts, then fetched again.

import { GatewayError } from '../errors.ts';
import type { Response } from '../jsonrpc.ts';
import { Catalog, type UpstreamLists, type View } from '../route/catalog.ts';
import type { UpstreamClient } from '../upstream/client.ts';
import type { Supervisor } from '../upstream/supervisor.ts';

type Kind = 'tools' | 'prompts' | 'resources';

/** Never follow an upstream's cursors forever. */
const MAX_PAGES = 100;
/** A list that could not be fetched is tried again after this long. */
const RETRY_MS = 5000;

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
  #known?: Map<string, UpstreamLists>;

  /**
   * `known` holds what each upstream acting for the user last listed for anyone: a user who has
   * not authorized it yet sees those items, and calling one gets them the link to authorize.
   */
  constructor(
    view: View,
    supervisors: ReadonlyMap<string, Supervisor>,
    onChange: (kind: Kind) => void,
    log: (line: string) => void,
    known?: Map<string, UpstreamLists>,
  ) {
    this.#log = log;
    this.#known = known;
    this.#view = view;
    this.#supervisors = supervisors;
    this.#onChange = onChange;
  }

  catalog(): Promise<Catalog> {
    if (!this.#catalog) {
      const building = this.#build();
      this.#catalog = building;
      // A failed build is not kept: the next request tries again.
      building.catch(() => {
        if (this.#catalog === building) this.#catalog = undefined;
      });
    }
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
    let incomplete = false;
    await Promise.all(
      [...this.#supervisors.values()].map(async (s) => {
        let client: UpstreamClient;
        try {
          client = await s.get();
        } catch (err) {
          // Unavailable for now: its supervisor retries, and a reconnect invalidates the lists.
          // One that waits for this user to authorize it shows what it is known to offer.
          if (needsSignIn(err) && !this.#fetched.has(s.name)) {
            this.#fetched.set(s.name, { ...(this.#known?.get(s.name) ?? signInPlaceholder(s.name)) });
          }
          return;
        }
        const lists = this.#fetched.get(s.name) ?? {};
        this.#fetched.set(s.name, lists);
        const capabilities = client.initialized?.capabilities ?? {};
        await Promise.all(
          SOURCES.filter((src) => lists[src.key] === undefined && capabilities[src.capability]).map(
            async (src) => {
              const fetched = await fetchAll(client, src.method, src.key, s.config.timeoutMs);
              if (typeof fetched === 'string') {
                incomplete = true;
                this.#log(`[${s.name}] ${src.method} failed (${fetched}); retrying in ${RETRY_MS / 1000} s`);
              } else lists[src.key] = fetched;
            },
          ),
        );
        if (s.delegated) this.#known?.set(s.name, { ...lists });
      }),
    );
    const catalog = new Catalog(this.#view, this.#fetched);
    for (const c of catalog.collisions) {
      this.#log(
        `config error: ${c} under naming.prefix "${this.#view.naming.prefix}"; only the first is reachable — use prefix "on-collision" or "always", or rename one`,
      );
    }
    if (incomplete) {
      // What failed was not kept; fetch again soon rather than serve the gap for the session's life.
      const built = this.#catalog;
      setTimeout(() => {
        if (this.#catalog === built) this.#catalog = undefined;
      }, RETRY_MS).unref();
    }
    return catalog;
  }
}

/**
 * What an upstream acting for the user shows before anyone has authorized it (so nothing is known
 * of its tools): one tool whose call answers with the link to authorize it. Never forwarded: the
 * upstream cannot be reached without the user's token, and once it can, its real list replaces this.
 */
function signInPlaceholder(server: string): UpstreamLists {
  const tool = {
    name: 'authorize',
    description: `Connect your ${server} account through Gatehouse: returns a link for the user to open, after which ${server}'s tools appear.`,
    inputSchema: { type: 'object', properties: {} },
    annotations: { readOnlyHint: true, openWorldHint: false },
  };
  return { tools: [tool] };
}

function needsSignIn(err: unknown): boolean {
  return err instanceof GatewayError && err.code === 'authorization_required' && err.data !== undefined;
}

/** Field that identifies an item of each list; items without it are dropped as malformed. */
const IDENTITY: Record<string, string> = {
  tools: 'name',
  prompts: 'name',
  resources: 'uri',
  resourceTemplates: 'uriTemplate',
};

/** Every page of one list, or why it could not be had. */
async function fetchAll(
  client: UpstreamClient,
  method: string,
  key: string,
  timeoutMs: number,
): Promise<Record<string, unknown>[] | string> {
  const items: Record<string, unknown>[] = [];
  const identity = IDENTITY[key]!;
  let cursor: unknown;
  for (let page = 0; page < MAX_PAGES; page++) {
    const params = cursor === undefined ? undefined : { cursor };
    let response: Response;
    try {
      response = await client.request(method, params, { timeoutMs });
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
    if (response.error) return `error ${response.error.code}: ${response.error.message}`;
    const result = response.result ?? {};
    const pageItems = result[key];
    if (Array.isArray(pageItems)) {
      for (const item of pageItems) {
        // An upstream's malformed entry is skipped, never allowed to break the whole list.
        if (
          item &&
          typeof item === 'object' &&
          typeof (item as Record<string, unknown>)[identity] === 'string'
        ) {
          items.push(item as Record<string, unknown>);
        }
      }
    }
    cursor = result.nextCursor;
    if (typeof cursor !== 'string') break;
  }
  return items;
}
