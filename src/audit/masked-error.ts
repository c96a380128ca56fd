// Errors from a store whose connection URL may carry a password (`postgres://u:PASSWORD@host`,
// or `?password=`): the message names the URL with the password masked, and keeps no driver
// error as `cause`, since those can hold the connection parameters (a bad URL's TypeError
// carries the whole input).

/** A function that rethrows any error as one naming the masked URL and never the password. */
export function maskedErrors(url: string, what: string): (err: unknown) => never {
  let secret = '';
  let shown = '<unparsable URL>';
  try {
    const parsed = new URL(url);
    secret = decodeURIComponent(parsed.password) || (parsed.searchParams.get('password') ?? '');
    if (parsed.password) parsed.password = '***';
    if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***');
    shown = parsed.toString();
  } catch {
    // An unparsable URL is not shown at all: it could be nothing but a password.
  }
  return (err: unknown) => {
    let message = err instanceof Error ? err.message : String(err);
    for (const s of [url, secret, encodeURIComponent(secret)]) if (s) message = message.replaceAll(s, '***');
    const error = new Error(`${what} ${shown}: ${message}`);
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string') Object.assign(error, { code });
    throw error;
  };
}

/** `items`, with any error met while iterating passed through `fail`. */
export function failingWith<T>(
  fail: (err: unknown) => never,
  items: () => AsyncIterable<T>,
): AsyncIterable<T> {
  return {
    async *[Symbol.asyncIterator]() {
      try {
        yield* items();
      } catch (err) {
        fail(err);
      }
    },
  };
}
