/** The group's answer to a join request: Accept or Reject with the Follow embedded, to the follower only. */
import { randomUUID } from 'node:crypto';
import { GUILD_CONTEXT, type ApObject } from '../activitypub/vocab.ts';
import type { Urls } from '../activitypub/urls.ts';

export function followAnswer(
  urls: Urls,
  group: string,
  type: 'Accept' | 'Reject',
  follow: ApObject,
  followerId: string,
): ApObject {
  const { '@context': _context, ...embedded } = follow;
  return {
    '@context': GUILD_CONTEXT,
    id: urls.activity(group, randomUUID()),
    type,
    actor: urls.group(group),
    object: embedded,
    to: [followerId],
  };
}
