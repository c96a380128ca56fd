// The gateway's own pagination cursors over merged lists. Opaque to clients; they carry the
// list kind so a cursor from one list is refused by another.

export function encodeCursor(kind: string, offset: number): string {
  return Buffer.from(JSON.stringify([kind, offset])).toString('base64url');
}

/** The offset a cursor stands for: 0 for no cursor, undefined for one that is not ours. */
export function decodeCursor(cursor: unknown, kind: string): number | undefined {
  if (cursor === undefined) return 0;
  if (typeof cursor !== 'string' || cursor.length > 200) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    if (Array.isArray(value) && value[0] === kind && Number.isSafeInteger(value[1]) && value[1] >= 0) {
      return value[1] as number;
    }
  } catch {}
  return undefined;
}
