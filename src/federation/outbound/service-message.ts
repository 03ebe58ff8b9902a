/**
 * The Service actor's direct messages (answers to the commands sent to it, sign-in links, the fate of a request
 * to create a group) turned into activities, in the form the recipient's server takes (`directMessageForm` of
 * `peer-software.forms.ts`, from the software of its server): a mention Note, or Lemmy's and Mbin's ChatMessage.
 * Stored so that their ids dereference at `/actor/activities/ID`.
 */
import { withContext } from '../../activitypub/activity.builders.ts';
import { buildChatMessage, buildDirectNote } from '../../activitypub/message.builders.ts';
import { SERVICE_DOCUMENTS, type Urls } from '../../activitypub/urls.ts';
import type { GroupEvent } from '../../groups/events.ts';
import type { Publisher } from '../publisher.ts';
import type { SoftwareLookup } from '../peer-software.service.ts';
import { directMessageForm } from '../peer-software.forms.ts';

export async function sendServiceMessage(
  m: {
    publisher: Publisher;
    urls: Urls;
    /** The software of the recipient's server; without it, `unknown` (a Note). */
    software: Pick<SoftwareLookup, 'softwareOf'> | null;
    published: string;
  },
  e: Extract<GroupEvent, { type: 'ServiceMessageSent' }>,
): Promise<void> {
  const ids = {
    id: m.urls.serviceActivity(e.basis, 'create'),
    objectId: m.urls.serviceActivity(e.basis, 'message'),
    published: m.published,
    from: m.urls.instanceActor(),
  };
  const family = m.software ? (await m.software.softwareOf(e.to.inbox)).family : 'unknown';
  const create =
    directMessageForm(family, 'service').kind === 'chat-message'
      ? buildChatMessage({ ...ids, to: e.to.id, text: e.text })
      : buildDirectNote({ ...ids, to: e.to, text: e.text, inReplyTo: e.inReplyTo });
  await m.publisher.keep(SERVICE_DOCUMENTS, withContext(create.object), null);
  await m.publisher.sendTo(SERVICE_DOCUMENTS, withContext(create), e.to.inbox, 'instance');
}
