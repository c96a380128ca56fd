// The upstream edge's one extension point: a way to exchange JSON-RPC messages with one MCP
// server. The client (client.ts) adds the protocol on top; transports only move messages.
import type { Id, Message } from '../jsonrpc.ts';

export interface UpstreamTransport {
  /** Opens the connection (spawns the process, opens the SSE stream, ...). */
  start(): Promise<void>;
  /** Sends one message; `headers` are extra HTTP headers for it (ignored off HTTP). */
  send(message: Message, headers?: Record<string, string>): Promise<void>;
  /**
   * Abandons the exchange carrying our request `id` (HTTP: the response stream is dropped).
   * The client also sends `notifications/cancelled`, since in the session era a disconnect
   * alone is not a cancellation.
   */
  cancel?(id: Id): void;
  /**
   * Every message from the server. `relatedTo` is the id of our request whose response stream
   * carried it, when the transport can tell (Streamable HTTP); undefined otherwise.
   */
  onmessage?: (message: Message, relatedTo?: Id) => void;
  /** Called once when the connection is gone for good; `reason` is for logs. */
  onclose?: (reason: string) => void;
  /** Called after `initialize` succeeds with the negotiated version (HTTP sends it as a header). */
  setProtocolVersion?(version: string): void;
  close(): Promise<void>;
}
