/**
 * Learning which software other servers run, off the delivery path: a server is noticed when one of its people
 * joins a group (its NodeInfo is then read in the background), the fan-out notes servers it meets that are not
 * known yet, a message to one person on a server never learned reads it first, and the maintenance loop reads
 * again those whose time has come (what was learned holds for {@link SOFTWARE_TTL_MS}; a server that did not
 * answer is asked again after {@link SOFTWARE_RETRY_MS}). Reads are cached in the process for a minute. A server
 * not known is `unknown`, which gets the forms every server got before software was told apart
 * (`peer-software.forms.ts`).
 */
import type { Logger } from '../log.ts';
import type { Store } from '../storage/store.ts';
import type { PeerSoftware } from '../storage/peer-software.repository.ts';
import type { SafeFetcher } from './safe-fetch.ts';
import { familyOf, nodeInfoLink, nodeInfoSoftware, originOf, type KnownSoftware } from './peer-software.ts';

/** What was learned of a server holds this long before it is read again. */
export const SOFTWARE_TTL_MS = 3 * 86_400_000;
/** A server whose NodeInfo could not be read is asked again after this long. */
export const SOFTWARE_RETRY_MS = 6 * 3_600_000;
/** What the store says is kept in the process this long. */
const CACHE_MS = 60_000;
const CACHE_MAX = 10_000;
/** NodeInfo reads at once, and waiting at most, in the background. */
const LEARN_CONCURRENCY = 4;
const LEARN_QUEUE_MAX = 1_000;
/** A maintenance pass starts no new read after this long. */
const REFRESH_BUDGET_MS = 20_000;

/** Port: what the delivery side asks of the software of member servers. */
export interface SoftwareLookup {
  /**
   * The software of the server of `url` (any URL on it), for a message to one person there, whose form depends on
   * it (Lemmy refuses a mention Note): a server never learned is read now, once, as the person's actor was
   * (intake in the worker; a sign-in link or an admin's act, beside the handle's resolution); one whose NodeInfo
   * could not be read lately is `unknown` until it is due again.
   */
  softwareOf(url: string): Promise<KnownSoftware>;
  /**
   * What is known of the servers of these URLs, by origin; servers never met are noted, to be learned by the
   * maintenance loop, and are `unknown` meanwhile.
   */
  softwareOfAll(urls: string[]): Promise<Map<string, KnownSoftware>>;
  /** Tells that a person of the server of `url` joined or asked to: its software is learned soon, in the background. */
  noticed(url: string): void;
}

export interface PeerSoftwareOptions {
  store: Pick<Store, 'peers'>;
  fetcher: Pick<SafeFetcher, 'getJson'>;
  log: Logger;
  now?: () => number;
}

const unknownAt = (origin: string): KnownSoftware => ({
  origin,
  family: 'unknown',
  name: null,
  version: null,
});

function known(s: PeerSoftware): KnownSoftware {
  return { origin: s.origin, family: familyOf(s.name), name: s.name, version: s.version };
}

export class PeerSoftwareService implements SoftwareLookup {
  private readonly now: () => number;
  private readonly cache = new Map<string, { software: KnownSoftware; until: number }>();
  private readonly learning = new Map<string, Promise<KnownSoftware>>();
  private readonly waiting: string[] = [];
  private active = 0;
  private readonly idle: Array<() => void> = [];

  constructor(private readonly o: PeerSoftwareOptions) {
    this.now = o.now ?? Date.now;
  }

  async softwareOf(url: string): Promise<KnownSoftware> {
    const origin = originOf(url);
    if (origin === null) return unknownAt(url);
    const t = this.now();
    const hit = this.cache.get(origin);
    if (hit && hit.until > t && hit.software.name !== null) return hit.software;
    const [row] = await this.o.store.peers.getSoftware([origin]);
    // Learned, or asked lately without an answer: what the store says.
    if (row && (row.name !== null || row.refreshAt > t)) {
      this.remember(known(row), t);
      return known(row);
    }
    return this.learn(origin);
  }

  async softwareOfAll(urls: string[]): Promise<Map<string, KnownSoftware>> {
    const out = new Map<string, KnownSoftware>();
    const missing = new Set<string>();
    const t = this.now();
    for (const url of urls) {
      const origin = originOf(url);
      if (origin === null || out.has(origin)) continue;
      const hit = this.cache.get(origin);
      if (hit && hit.until > t) out.set(origin, hit.software);
      else missing.add(origin);
    }
    if (missing.size === 0) return out;
    for (const row of await this.o.store.peers.getSoftware([...missing])) {
      missing.delete(row.origin);
      this.remember(known(row), t);
      out.set(row.origin, known(row));
    }
    if (missing.size > 0) {
      try {
        await this.o.store.peers.noteOrigins([...missing], t);
      } catch (e) {
        this.o.log.warn('could not note servers to learn the software of', { err: e });
      }
      for (const origin of missing) {
        this.remember(unknownAt(origin), t);
        out.set(origin, unknownAt(origin));
      }
    }
    return out;
  }

  noticed(url: string): void {
    const origin = originOf(url);
    if (origin === null || this.learning.has(origin) || this.waiting.includes(origin)) return;
    const hit = this.cache.get(origin);
    if (hit && hit.software.name !== null && hit.until > this.now()) return;
    if (this.waiting.length >= LEARN_QUEUE_MAX) return;
    this.waiting.push(origin);
    this.pump();
  }

  /**
   * Reads the NodeInfo of `origin` and records its software (or, when it cannot be read, when to try again,
   * keeping what was learned before). Never throws; reads of the same origin at once share one.
   */
  learn(origin: string): Promise<KnownSoftware> {
    let p = this.learning.get(origin);
    if (p === undefined) {
      p = this.read(origin).finally(() => this.learning.delete(origin));
      this.learning.set(origin, p);
    }
    return p;
  }

  /** Reads again the software of up to `limit` servers whose time has come; returns how many were read. */
  async refreshDue(limit = 50): Promise<number> {
    const started = this.now();
    const due = await this.o.store.peers.listDue(started, limit);
    let next = 0;
    let read = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const row = due[next++];
        if (row === undefined || this.now() - started > REFRESH_BUDGET_MS) return;
        await this.learn(row.origin);
        read++;
      }
    };
    await Promise.all(Array.from({ length: LEARN_CONCURRENCY }, worker));
    return read;
  }

  /** Resolves once the reads started by {@link noticed} are done (none waits or runs). */
  settled(): Promise<void> {
    if (this.active === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.active < LEARN_CONCURRENCY) {
      const origin = this.waiting.shift();
      if (origin === undefined) {
        if (this.active === 0) for (const resolve of this.idle.splice(0)) resolve();
        return;
      }
      this.active++;
      void this.learnUnlessKnown(origin).finally(() => {
        this.active--;
        this.pump();
      });
    }
  }

  /** Learns the software of `origin` unless the store knows it and it is not due yet. */
  private async learnUnlessKnown(origin: string): Promise<void> {
    try {
      const [row] = await this.o.store.peers.getSoftware([origin]);
      if (row && row.name !== null && row.refreshAt > this.now()) {
        this.remember(known(row), this.now());
        return;
      }
    } catch (e) {
      this.o.log.warn('reading the software of a server failed', { origin, err: e });
      return;
    }
    await this.learn(origin);
  }

  private async read(origin: string): Promise<KnownSoftware> {
    const t = this.now();
    try {
      const before = (await this.o.store.peers.getSoftware([origin]))[0] ?? null;
      const found = await this.fetchSoftware(origin);
      if (!found.ok) {
        this.o.log.info('software of a server not learned', { origin, reason: found.reason });
        // What was learned before is kept; asked again later.
        await this.o.store.peers.putSoftware({
          origin,
          name: before?.name ?? null,
          version: before?.version ?? null,
          learnedAt: before?.learnedAt ?? null,
          refreshAt: this.now() + SOFTWARE_RETRY_MS,
        });
        const software = before ? known(before) : unknownAt(origin);
        this.remember(software, t);
        return software;
      }
      const row: PeerSoftware = {
        origin,
        name: found.name,
        version: found.version,
        learnedAt: t,
        refreshAt: t + SOFTWARE_TTL_MS,
      };
      await this.o.store.peers.putSoftware(row);
      this.remember(known(row), t);
      if (before?.name !== row.name)
        this.o.log.info('software of a server learned', { origin, name: row.name, version: row.version });
      return known(row);
    } catch (e) {
      this.o.log.warn('learning the software of a server failed', { origin, err: e });
      return unknownAt(origin);
    }
  }

  /** `software.name` and `software.version` from the server's NodeInfo 2.x, or why not. */
  private async fetchSoftware(
    origin: string,
  ): Promise<{ ok: true; name: string; version: string | null } | { ok: false; reason: string }> {
    const accept = 'application/json';
    const wellKnown = await this.o.fetcher.getJson(`${origin}/.well-known/nodeinfo`, { accept });
    if (!wellKnown.ok) return { ok: false, reason: `/.well-known/nodeinfo: ${wellKnown.detail}` };
    const link = nodeInfoLink(wellKnown.doc, wellKnown.url);
    if (link === null) return { ok: false, reason: 'no NodeInfo 2.x link' };
    const doc = await this.o.fetcher.getJson(link, { accept });
    if (!doc.ok) return { ok: false, reason: `${link}: ${doc.detail}` };
    const software = nodeInfoSoftware(doc.doc);
    if (software === null) return { ok: false, reason: `${link} names no software` };
    return { ok: true, ...software };
  }

  private remember(software: KnownSoftware, t: number): void {
    if (this.cache.size >= CACHE_MAX && !this.cache.has(software.origin)) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(software.origin, { software, until: t + CACHE_MS });
  }
}
