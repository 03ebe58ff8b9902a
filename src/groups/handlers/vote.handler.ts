/** `Like` and `Dislike` of a post by a member: re-shared unchanged (Lemmy, Mbin and NodeBB count them). */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import { err, ok } from '../ports.ts';
import { applied, groupsOfPost, type Handler, type HandlerDeps } from './handler.ts';

/** Checks shared by votes and their Undo: the post is live in the group, the voter a member. */
export async function checkVote(
  d: HandlerDeps,
  group: string,
  voter: string,
  objectId: string,
): Promise<string | null> {
  const post = await d.store.posts.getPost(group, objectId);
  if (!post) return `vote on ${objectId}, which is not a post of ${group}`;
  if (post.deletedAt !== null) return `${objectId} was deleted`;
  const member = await d.store.members.getMember(group, voter);
  return member?.state === 'accepted' ? null : `${voter} is not a member of ${group}`;
}

export function voteHandler(d: HandlerDeps): Handler<InboundOf<'like' | 'dislike'>, null> {
  return {
    async groups(a, inboxGroup) {
      return groupsOfPost(d, a, a.objectId, inboxGroup);
    },
    async verify(a, group) {
      const refused = await checkVote(d, group, a.actor, a.objectId);
      return refused ? err(refused) : ok(null);
    },
    async apply(a, group) {
      await d.events.emit({
        type: 'ActivityReshared',
        group,
        basis: a.id,
        activity: a.raw,
        objectId: a.objectId,
      });
      return applied(`${a.kind === 'like' ? 'Like' : 'Dislike'} of ${a.objectId} announced to ${group}`);
    },
  };
}
