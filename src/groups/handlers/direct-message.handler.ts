/**
 * A direct message to a group (a post addressed to actors only): a command from a moderator or member,
 * answered by direct message. The command's effects and its answer take their ids from the message's Create,
 * so that a retried job neither acts nor answers twice.
 */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import { str } from '../../activitypub/vocab.ts';
import { err, ok } from '../ports.ts';
import { postGroups } from './create-post.handler.ts';
import { applied, liveGroup, type Handler, type HandlerDeps } from './handler.ts';

export function directMessageHandler(d: HandlerDeps): Handler<InboundOf<'direct-message'>, null> {
  return {
    async groups(a) {
      return postGroups(d, a);
    },
    async verify(a, group) {
      if (!(await liveGroup(d, group))) return err(`direct message to ${group}, which does not exist`);
      if (a.object.attributedTo !== null && a.object.attributedTo !== a.actor)
        return err('the message is not attributed to the actor');
      return ok(null);
    },
    async apply(a, group) {
      const html = str(a.object.raw.content) ?? '';
      const answer = await d.commands.run(group, a.actor, { html, basis: a.id }, d.now());
      await d.notices.sendDirect(group, a.actor, answer, {
        basis: a.id,
        inReplyTo: a.object.id,
        answering: 'group',
      });
      return applied(`command from ${a.actor} to ${group} answered: ${answer.split('\n')[0] ?? ''}`);
    },
  };
}
