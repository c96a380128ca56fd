// Mcp-Param-* headers (SEP-2243, 2026-07-28): a tool's inputSchema may mark arguments with
// `x-mcp-header: Name`, and clients then mirror those arguments in `Mcp-Param-Name` headers so
// intermediaries can route on them. The body is what the tool receives, so a server that reads
// the body MUST reject a request whose headers disagree with it, or leave one out.
import type { IncomingMessage } from 'node:http';
import type { Session } from '../session/session.ts';

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * A header value as text: `=?base64?...?=` is decoded (strictly: bad padding or characters are
 * an error, undefined), anything else is literal, surrounding whitespace ignored.
 */
export function decodeHeaderValue(raw: string): string | undefined {
  const value = raw.trim();
  const match = /^=\?base64\?(.*)\?=$/.exec(value);
  if (!match) return value;
  return STRICT_BASE64.test(match[1]!) ? Buffer.from(match[1]!, 'base64').toString('utf8') : undefined;
}

/** The header that disagrees with the body of a tools/call, or undefined when all agree. */
export async function paramHeaderMismatch(
  session: Session,
  req: IncomingMessage,
  params: Record<string, unknown>,
): Promise<string | undefined> {
  const schema = await inputSchemaOf(session, String(params.name));
  const properties = (schema?.properties ?? {}) as Record<string, Record<string, unknown>>;
  const args = (params.arguments ?? {}) as Record<string, unknown>;
  for (const [arg, property] of Object.entries(properties)) {
    const name = property?.['x-mcp-header'];
    if (typeof name !== 'string') continue;
    const header = `Mcp-Param-${name}`;
    const raw = req.headers[header.toLowerCase()];
    const value = args[arg];
    if (value === undefined || value === null) {
      if (raw !== undefined) return header;
      continue;
    }
    if (typeof raw !== 'string' || decodeHeaderValue(raw) !== String(value)) return header;
  }
  return undefined;
}

/** The tool's inputSchema as this client is shown it (same view, same names). */
async function inputSchemaOf(session: Session, name: string): Promise<Record<string, unknown> | undefined> {
  return (await session.catalog()).toolDefinition(name)?.inputSchema as Record<string, unknown> | undefined;
}
