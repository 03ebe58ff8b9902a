/**
 * The software of servers as a test declares it (origin -> NodeInfo name), for what reads it through the
 * `SoftwareLookup` port without fetching NodeInfo: servers not listed are unknown, as the real lookup has them
 * before it learns them.
 */
import type { SoftwareLookup } from '../../src/federation/peer-software.service.ts';
import { familyOf, originOf, type KnownSoftware } from '../../src/federation/peer-software.ts';

export function fixedSoftware(
  names: Record<string, string>,
  versions: Record<string, string> = {},
): SoftwareLookup & { noticedUrls: string[] } {
  const of = (url: string): KnownSoftware => {
    const origin = originOf(url) ?? url;
    const name = names[origin] ?? null;
    return { origin, family: familyOf(name), name, version: versions[origin] ?? null };
  };
  const noticedUrls: string[] = [];
  return {
    noticedUrls,
    softwareOf: async (url) => of(url),
    softwareOfAll: async (urls) => new Map(urls.map((u) => [originOf(u) ?? u, of(u)] as const)),
    noticed: (url) => {
      noticedUrls.push(url);
    },
  };
}
