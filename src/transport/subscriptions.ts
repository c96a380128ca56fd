// `subscriptions/listen` (2026-07-28): the one long-lived stream a stateless client keeps, for
// list changes and resource updates. Each notification is tagged with the listen request's id.
import type { ServerResponse } from 'node:http';
import type { Principal } from '../identity/principal.ts';
import type { Notification, Request } from '../jsonrpc.ts';
import type { Session } from '../session/session.ts';
import { SSE_HEADERS } from './channel.ts';
import { keepAlive, sseEvent } from './sse.ts';

type Listener = (n: Notification) => void;
const listeners = new WeakMap<Session, Set<Listener>>();
/** Per pooled session, how many open streams follow each resource: subscribed upstream while any do. */
const followers = new WeakMap<Session, Map<string, number>>();
/** Resources one listen request may follow; a client cannot make the gateway subscribe without bound. */
const MAX_RESOURCES = 100;
let internalIds = 0;

const quiet = {
  notify() {},
  request: async () => ({ error: { code: -32601, message: 'not available' } }),
};

/** Subscribes upstream when the first stream follows `uri`, unsubscribes when the last one stops. */
function follow(session: Session, uri: string, delta: 1 | -1, principal: Principal): void {
  let counts = followers.get(session);
  if (!counts) {
    counts = new Map();
    followers.set(session, counts);
  }
  const now = (counts.get(uri) ?? 0) + delta;
  if (now > 0) counts.set(uri, now);
  else counts.delete(uri);
  if ((delta === 1 && now === 1) || (delta === -1 && now === 0)) {
    const method = delta === 1 ? 'resources/subscribe' : 'resources/unsubscribe';
    void session.handle(
      { jsonrpc: '2.0', id: `listen-${++internalIds}`, method, params: { uri } },
      quiet,
      principal,
    );
  }
}

const KINDS: Record<string, string> = {
  toolsListChanged: 'notifications/tools/list_changed',
  promptsListChanged: 'notifications/prompts/list_changed',
  resourcesListChanged: 'notifications/resources/list_changed',
};

function listenersOf(session: Session): Set<Listener> {
  let set = listeners.get(session);
  if (!set) {
    const created = new Set<Listener>();
    listeners.set(session, created);
    session.broadcast = (n) => {
      for (const l of created) l(n);
    };
    set = created;
  }
  return set;
}

export function handleListen(
  session: Session,
  request: Request,
  res: ServerResponse,
  principal: Principal,
): void {
  // `notifications` is the field's name in the 2026-07-28 schema; `filter` was its draft name.
  const params = request.params ?? {};
  const filter = (params.notifications ?? params.filter ?? {}) as Record<string, unknown>;
  const capabilities = session.serverCapabilities();
  const honoured: Record<string, unknown> = {};
  const wanted = new Set<string>();
  for (const [key, method] of Object.entries(KINDS)) {
    const kind = method.split('/')[1]!;
    if (filter[key] === true && capabilities[kind]) {
      honoured[key] = true;
      wanted.add(method);
    }
  }
  const asked = Array.isArray(filter.resourceSubscriptions) ? filter.resourceSubscriptions.map(String) : [];
  const canSubscribe = (capabilities.resources as { subscribe?: boolean } | undefined)?.subscribe === true;
  const uris = canSubscribe ? [...new Set(asked)].slice(0, MAX_RESOURCES) : [];
  if (uris.length > 0) {
    honoured.resourceSubscriptions = uris;
    for (const uri of uris) follow(session, uri, 1, principal);
  }
  const tag = { 'io.modelcontextprotocol/subscriptionId': request.id };
  res.writeHead(200, SSE_HEADERS);
  const write = (n: Notification) =>
    res.write(
      sseEvent(
        JSON.stringify({ ...n, params: { ...n.params, _meta: { ...(n.params?._meta as object), ...tag } } }),
      ),
    );
  write({
    jsonrpc: '2.0',
    method: 'notifications/subscriptions/acknowledged',
    params: { notifications: honoured },
  });
  const listener: Listener = (n) => {
    if (wanted.has(n.method)) write(n);
    else if (n.method === 'notifications/resources/updated' && uris.includes(String(n.params?.uri))) write(n);
  };
  const set = listenersOf(session);
  set.add(listener);
  // An open stream keeps the pooled session alive; if the session ends anyway (reload), the
  // stream ends too, so the client reconnects rather than listen to nothing.
  const release = session.hold();
  session.onClose(() => res.end());
  keepAlive(res);
  res.once('close', () => {
    set.delete(listener);
    for (const uri of uris) follow(session, uri, -1, principal);
    release();
  });
}
