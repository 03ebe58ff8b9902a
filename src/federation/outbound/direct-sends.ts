/**
 * What a group sends to one person's inbox rather than to every member: direct messages, answers to a Follow,
 * the Service actor's ban sent to the banned person's own server, and the boost of a reply sent to its author
 * alone. Each goes in the form the recipient's server takes, or not at all where it would refuse or misread it
 * (`peer-software.forms.ts`).
 */
import type { Store } from '../../storage/store.ts';
import type { ApObject } from '../../activitypub/vocab.ts';
import { buildBoost, buildFollowAnswer, withContext } from '../../activitypub/activity.builders.ts';
import { buildChatMessage, buildDirectNote } from '../../activitypub/message.builders.ts';
import type { Urls } from '../../activitypub/urls.ts';
import type { FollowRef, GroupEvent } from '../../groups/events.ts';
import type { Publisher } from '../publisher.ts';
import type { SoftwareLookup } from '../peer-software.service.ts';
import {
  directMessageForm,
  takesAuthorBoost,
  takesDirectBlock,
  takesRejectFollow,
} from '../peer-software.forms.ts';
import type { Basis } from './member-items.ts';

export interface DirectSendDeps {
  publisher: Publisher;
  store: Store;
  urls: Urls;
  /** The software of the recipient's server; without it every server is `unknown`. */
  software: Pick<SoftwareLookup, 'softwareOf'> | null;
}

const UNKNOWN = { family: 'unknown', name: null, version: null } as const;

export class DirectSends {
  constructor(
    private readonly d: DirectSendDeps,
    private readonly published: () => string,
  ) {}

  private async softwareOf(url: string) {
    return this.d.software ? this.d.software.softwareOf(url) : { origin: url, ...UNKNOWN };
  }

  private id(e: Basis, role: string): string {
    return this.d.urls.derivedActivity(e.group, e.basis, role);
  }

  /**
   * A direct message in the form the recipient's server takes (`directMessageForm`): a mention Note from the
   * group or the Service actor, or a ChatMessage from the Service actor. The message object is stored too, so
   * that its id dereferences.
   */
  async directMessage(e: Extract<GroupEvent, { type: 'DirectMessageSent' }>): Promise<void> {
    const { family } = await this.softwareOf(e.to.inbox);
    const form = directMessageForm(family, e.answering ?? null);
    const from = form.from === 'service' ? this.d.urls.instanceActor() : this.d.urls.group(e.group);
    const signer = form.from === 'service' ? 'instance' : 'group';
    const ids = {
      id: this.id(e, 'create'),
      objectId: this.id(e, 'message'),
      published: this.published(),
      from,
    };
    const create =
      form.kind === 'chat-message'
        ? buildChatMessage({ ...ids, to: e.to.id, text: e.text })
        : buildDirectNote({ ...ids, to: e.to, text: e.text, inReplyTo: e.inReplyTo });
    await this.d.publisher.keep(e.group, withContext(create.object), null);
    await this.d.publisher.sendTo(e.group, withContext(create), e.to.inbox, signer);
  }

  /** Accept or Reject of a Follow, to the follower; a Reject only where the follower's server takes one. */
  async answerFollow(e: Basis, type: 'Accept' | 'Reject', f: FollowRef): Promise<void> {
    if (type === 'Reject' && !takesRejectFollow(await this.softwareOf(f.inbox))) return;
    const answer = buildFollowAnswer({
      id: this.id(e, type.toLowerCase()),
      type,
      group: this.d.urls.group(e.group),
      followId: f.id,
      follower: f.follower,
      published: this.published(),
    });
    await this.d.publisher.sendTo(e.group, withContext(answer), f.inbox);
  }

  /** The Service actor's Block or Undo{Block} sent to the person it concerns, where their server records it. */
  async toBannedPerson(e: Basis, activity: ApObject, inbox: string): Promise<void> {
    if (!takesDirectBlock((await this.softwareOf(inbox)).family)) return;
    await this.d.publisher.sendTo(e.group, activity, inbox, 'instance');
  }

  /**
   * The group's boost of a reply, sent to the reply's author alone where their server needs it to address the
   * reply's Delete to the group (snac). Stored about the reply, so that it is withdrawn with it.
   */
  async authorBoost(e: Basis, author: string, objectId: string): Promise<void> {
    const actor = await this.d.store.remoteActors.getRemoteActor(author);
    if (!actor || !takesAuthorBoost((await this.softwareOf(actor.inbox)).family)) return;
    const boost = withContext(
      buildBoost({
        group: this.d.urls.group(e.group),
        followers: this.d.urls.followers(e.group),
        id: this.id(e, 'author-boost'),
        objectId,
        published: this.published(),
      }),
    );
    await this.d.publisher.keep(e.group, boost, objectId);
    await this.d.publisher.sendTo(e.group, boost, actor.inbox);
  }
}
