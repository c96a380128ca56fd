// Opening a session-era session from an `initialize` request: the session, wired to the channel
// its messages go back on, and registered. Shared by Streamable HTTP and the legacy SSE transport.

import type { Principal } from '../identity/principal.ts';
import type { Params } from '../jsonrpc.ts';
import type { View } from '../route/catalog.ts';
import { Session } from '../session/session.ts';
import type { Channel } from './channel.ts';
import type { GatewayContext } from './context.ts';
import { principalKey } from './edge-auth.ts';

export function openSession(
  ctx: GatewayContext,
  o: {
    id: string;
    view: View;
    protocolVersion: string;
    params: Params;
    principal: Principal;
    channel: Channel;
  },
): Session {
  const session = new Session({
    id: o.id,
    config: ctx.config,
    view: o.view,
    protocolVersion: o.protocolVersion,
    clientCapabilities: (o.params.capabilities ?? {}) as Record<string, unknown>,
    clientInfo: (o.params.clientInfo ?? {}) as Record<string, unknown>,
    shared: ctx.shared,
    policy: () => ctx.policy,
    owner: principalKey(o.principal),
    principal: o.principal,
    credentials: ctx.credentials,
    observer: ctx.observer,
    tracing: ctx.tracing,
    log: ctx.log,
  });
  session.broadcast = (n) => o.channel.broadcast(n);
  session.unrelatedSink = o.channel.sinkFor(undefined);
  ctx.registry.add({ session, channel: o.channel });
  return session;
}
