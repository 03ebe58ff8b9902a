/**
 * A browser without a browser, for the self-service tests: keeps cookies, reads the CSRF token of the forms
 * of a page, posts forms as a browser would (with `Origin`), and follows no redirect by itself.
 */
import type { FedifyPeer, ReceivedActivity } from './fedify-peer.ts';

export class DashboardClient {
  readonly cookies = new Map<string, string>();
  constructor(readonly origin: string) {}

  async get(path: string): Promise<{ status: number; html: string; location: string | null }> {
    const res = await fetch(`${this.origin}${path}`, { headers: this.headers(), redirect: 'manual' });
    this.keep(res);
    return { status: res.status, html: await res.text(), location: res.headers.get('location') };
  }

  /** Posts a form; `csrf` true takes the token from the page at `from` (false sends none). */
  async post(
    path: string,
    fields: Record<string, string>,
    o: { from?: string; csrf?: boolean | string; origin?: string } = {},
  ): Promise<{ status: number; html: string; location: string | null }> {
    const body = new URLSearchParams(fields);
    if (o.csrf !== false) {
      const token = typeof o.csrf === 'string' ? o.csrf : csrfOf((await this.get(o.from ?? path)).html);
      body.set('_csrf', token);
    }
    const res = await fetch(`${this.origin}${path}`, {
      method: 'POST',
      headers: {
        ...this.headers(),
        'content-type': 'application/x-www-form-urlencoded',
        origin: o.origin ?? this.origin,
      },
      body: body.toString(),
      redirect: 'manual',
    });
    this.keep(res);
    return { status: res.status, html: await res.text(), location: res.headers.get('location') };
  }

  private headers(): Record<string, string> {
    const c = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    return c ? { cookie: c } : {};
  }

  private keep(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair?.indexOf('=') ?? -1;
      if (!pair || at <= 0) continue;
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      if (/Max-Age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/** The CSRF token of the first form of a page. */
export function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m?.[1]) throw new Error('no CSRF token on the page');
  return m[1];
}

/** The text of a direct message (Create of a Note or ChatMessage) a peer received. */
export function messageOf(a: ReceivedActivity): string {
  return JSON.stringify(a.json.object ?? '');
}

/** Sends `text` to the Service actor of `origin` by DM, as Mastodon does, and waits for the answer. */
export async function askService(
  peer: FedifyPeer,
  origin: string,
  text: string,
  expect: RegExp,
): Promise<string> {
  const service = `${origin}/actor`;
  const before = peer.received.length;
  await peer.post({
    to: [service],
    visibility: 'direct',
    content: `<p><span class="h-card"><a href="${service}" class="u-url mention">@<span>guild</span></a></span> ${text}</p>`,
  });
  const answer = await peer.waitFor(
    (a) => peer.received.indexOf(a) >= before && a.type === 'Create' && expect.test(messageOf(a)),
    { what: `the answer to "${text}"`, timeoutMs: 15_000 },
  );
  return messageOf(answer);
}

/** The sign-in path (`/login/TOKEN`) in a message. */
export function loginPathOf(message: string): string {
  const m = /\/login\/([A-Za-z0-9_-]{43})/.exec(message);
  if (!m?.[1]) throw new Error(`no sign-in link in ${message}`);
  return `/login/${m[1]}`;
}
