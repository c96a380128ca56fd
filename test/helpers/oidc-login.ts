// A browser-less user at oidc-provider's built-in development pages: given an authorization URL,
// it follows the redirects itself (keeping the provider's cookies), fills the login form with a
// user name and accepts the consent form, and returns the provider's final redirect to the
// client (carrying `code`, `state` and `iss`, or `error`) without following it.

const MAX_STEPS = 20;

/** Signs `user` in at the provider and returns the redirect back to the client's `redirect_uri`. */
export async function signIn(authorizationUrl: string | URL, user: string): Promise<URL> {
  const provider = new URL(authorizationUrl).origin;
  const cookies = new Map<string, string>();
  let next: { url: URL; method: 'GET' | 'POST'; form?: URLSearchParams } = {
    url: new URL(authorizationUrl),
    method: 'GET',
  };
  for (let step = 0; step < MAX_STEPS; step++) {
    const res = await fetch(next.url, {
      method: next.method,
      redirect: 'manual',
      headers: {
        cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; '),
        ...(next.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: next.form,
      signal: AbortSignal.timeout(10_000),
    });
    keepCookies(cookies, res.headers.getSetCookie());
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      const target = new URL(location, next.url);
      // Leaving the provider (or being sent back with the result) ends the sign-in.
      if (target.origin !== provider || target.searchParams.has('code') || target.searchParams.has('error')) {
        return target;
      }
      next = { url: target, method: 'GET' };
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`sign-in: ${res.status} at ${next.url}: ${text(html)}`);
    next = submit(html, next.url, user);
  }
  throw new Error(`sign-in: no redirect back to the client after ${MAX_STEPS} steps`);
}

/** The provider's form (login or consent) filled in: its action, hidden inputs, and the user's name. */
function submit(html: string, page: URL, user: string) {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  const action = form && attribute(form[1]!, 'action');
  if (!form || !action) throw new Error(`sign-in: no form at ${page}: ${text(html)}`);
  const fields = new URLSearchParams();
  for (const input of form[2]!.matchAll(/<input\b([^>]*)>/gi)) {
    const name = attribute(input[1]!, 'name');
    if (!name) continue;
    if (name === 'login') fields.set(name, user);
    // The development login accepts any password.
    else if (name === 'password') fields.set(name, 'any-password');
    else fields.set(name, attribute(input[1]!, 'value') ?? '');
  }
  return { url: new URL(decode(action), page), method: 'POST' as const, form: fields };
}

function attribute(tag: string, name: string): string | undefined {
  return new RegExp(`\\b${name}="([^"]*)"`, 'i').exec(tag)?.[1];
}

function decode(value: string): string {
  return value
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'");
}

/** A short, readable excerpt of a page, for error messages. */
function text(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
}

/** Applies `Set-Cookie` headers to the jar (name → value); an expired or emptied cookie is dropped. */
function keepCookies(jar: Map<string, string>, setCookies: string[]) {
  for (const line of setCookies) {
    const [pair = '', ...attributes] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq < 1) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const expired = attributes.some((a) => {
      const [key = '', v = ''] = a.trim().split('=');
      if (key.toLowerCase() === 'max-age') return Number(v) <= 0;
      if (key.toLowerCase() === 'expires') return Date.parse(v) <= Date.now();
      return false;
    });
    if (expired || value === '') jar.delete(name);
    else jar.set(name, value);
  }
}
