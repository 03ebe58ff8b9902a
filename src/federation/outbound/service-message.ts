/**
 * The Service actor's direct messages (answers to the commands sent to it, sign-in links, the fate of a request
 * to create a group) turned into activities, in the form the recipient's server takes (`directMessageForm` of
 * `peer-software.forms.ts`, from the software of its server): a mention Note, or Lemmy's and Mbin's ChatMessage.
 * Stored so that their ids dereference at `/actor/activities/ID`.
 *
 * A message with a secret in it (`keptText` set: a sign-in link, a deletion code) is sent at once through the
 * {@link ImmediateSender} and neither stored nor queued as sent: what is stored under its ids says `keptText`.
 */
import { withContext } from '../../activitypub/activity.builders.ts';
import { buildChatMessage, buildDirectNote } from '../../activitypub/message.builders.ts';
import { SERVICE_DOCUMENTS, type Urls } from '../../activitypub/urls.ts';
import type { GroupEvent } from '../../groups/events.ts';
import type { Publisher } from '../publisher.ts';
import type { ApObject } from '../../activitypub/vocab.ts';
import type { SoftwareLookup } from '../peer-software.service.ts';
import { directMessageForm } from '../peer-software.forms.ts';

/** Sends an activity now, signed by the Service actor, writing nothing to the store. */
export interface ImmediateSender {
  /** True when the inbox took it; a refusal or failure is logged by the sender. */
  sendNow(activity: ApObject, inbox: string): Promise<boolean>;
}

/** Without an immediate sender, a message with a secret is refused rather than stored. */
export const NO_IMMEDIATE_SENDER: ImmediateSender = {
  sendNow: async () => {
    throw new Error('no immediate sender: a message with a secret is never queued');
  },
};

export async function sendServiceMessage(
  m: {
    publisher: Publisher;
    urls: Urls;
    /** The software of the recipient's server; without it, `unknown` (a Note). */
    software: Pick<SoftwareLookup, 'softwareOf'> | null;
    immediate: ImmediateSender;
    published: string;
  },
  e: Extract<GroupEvent, { type: 'ServiceMessageSent' }>,
): Promise<void> {
  const family = m.software ? (await m.software.softwareOf(e.to.inbox)).family : 'unknown';
  const form = directMessageForm(family, 'service').kind;
  const ids = {
    id: m.urls.serviceActivity(e.basis, 'create'),
    objectId: m.urls.serviceActivity(e.basis, 'message'),
    published: m.published,
    from: m.urls.instanceActor(),
  };
  const build = (text: string) =>
    form === 'chat-message'
      ? buildChatMessage({ ...ids, to: e.to.id, text })
      : buildDirectNote({ ...ids, to: e.to, text, inReplyTo: e.inReplyTo });
  const create = build(e.text);
  if (e.keptText === null) {
    await m.publisher.keep(SERVICE_DOCUMENTS, withContext(create.object), null);
    await m.publisher.sendTo(SERVICE_DOCUMENTS, withContext(create), e.to.inbox, 'instance');
    return;
  }
  const kept = build(e.keptText);
  await m.publisher.keep(SERVICE_DOCUMENTS, withContext(kept.object), null);
  await m.publisher.keep(SERVICE_DOCUMENTS, withContext(kept), null);
  await m.immediate.sendNow(withContext(create), e.to.inbox);
}
