/**
 * Loopback stand-ins for the servers named in the interop corpus: one raw actor server (`raw-actor.ts`) per
 * original host, all sharing one real RSA key. A peer serves whatever documents a test puts on it and signs
 * POSTs as any actor on its origin (`<actor>#main-key`), so a rewritten payload is delivered exactly as its
 * own server would have sent it.
 */
import { signRequest } from '../../src/federation/http-signature.ts';
import { startRawActor, type RawActor } from './raw-actor.ts';

/** What a delivery got back: the HTTP status (0 when the connection failed) and the body. */
export interface DeliveryAnswer {
  status: number;
  text: string;
}

export class InteropPeers {
  private constructor(
    private readonly byHost: Map<string, RawActor>,
    private readonly byOrigin: Map<string, RawActor>,
    readonly publicKeyPem: string,
    private readonly privateKeyPem: string,
  ) {}

  /** Starts one loopback server per host (host[:port], lower case). */
  static async start(hosts: Iterable<string>): Promise<InteropPeers> {
    const byHost = new Map<string, RawActor>();
    const byOrigin = new Map<string, RawActor>();
    try {
      for (const host of [...new Set(hosts)].sort()) {
        const raw = await startRawActor('peer');
        byHost.set(host, raw);
        byOrigin.set(raw.origin, raw);
      }
    } catch (e) {
      await Promise.all([...byHost.values()].map((r) => r.close()));
      throw e;
    }
    const first = byHost.values().next();
    if (first.done) throw new Error('no hosts to stand in for');
    return new InteropPeers(byHost, byOrigin, first.value.publicKeyPem, first.value.privateKeyPem);
  }

  /** The loopback origin standing for `host`; throws for a host that was not started. */
  originOf(host: string): string {
    const raw = this.byHost.get(host.toLowerCase());
    if (!raw) throw new Error(`no loopback peer stands for ${host}`);
    return raw.origin;
  }

  /** Serves `doc` at `url` (path and query) on the peer owning that origin; false when none does. */
  serve(url: string, doc: unknown): boolean {
    const u = new URL(url);
    const raw = this.byOrigin.get(u.origin);
    if (!raw) return false;
    raw.documents.set(`${u.pathname}${u.search}`, doc);
    return true;
  }

  /** Every request a peer received, as `METHOD path`, with the peer's origin in front. */
  requests(): string[] {
    return [...this.byOrigin.values()].flatMap((r) => r.requests.map((q) => `${r.origin} ${q}`));
  }

  /** Signs `body` as `signerId` (key `<signerId>#main-key`) and POSTs it to `url`. */
  async post(url: string, body: unknown, signerId: string): Promise<DeliveryAnswer> {
    const text = JSON.stringify(body);
    const headers = signRequest({
      method: 'POST',
      url,
      headers: { 'Content-Type': 'application/activity+json' },
      body: text,
      keyId: `${signerId}#main-key`,
      privateKeyPem: this.privateKeyPem,
    });
    try {
      const res = await fetch(url, { method: 'POST', headers, body: text });
      return { status: res.status, text: await res.text() };
    } catch (e) {
      return { status: 0, text: `connection failed: ${e instanceof Error ? e.message : String(e)}` };
    }
  }

  /** Stops every peer server. */
  async close(): Promise<void> {
    await Promise.all([...this.byHost.values()].map((r) => r.close()));
  }
}
