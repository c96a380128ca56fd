// The protocol revisions Gatehouse speaks, newest first, in both eras.

/** Session era: initialize, Mcp-Session-Id, server→client requests. */
export const SESSION_VERSIONS: readonly string[] = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];

/** Stateless era: per-request `_meta`, `server/discover`, `input_required` results. */
export const MODERN_VERSION = '2026-07-28';

/** The prefix of the `_meta` keys the spec reserves. */
export const META = 'io.modelcontextprotocol/';
