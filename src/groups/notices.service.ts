/**
 * Direct messages from a group: notices to its moderators (reports, held posts) and answers to commands. Each
 * message is a `DirectMessageSent` event whose basis names what caused it and whom it is for, so that telling
 * the same thing again sends nothing new.
 */
import type { Store } from '../storage/store.ts';
import type { ModerationStore } from '../storage/moderation.store.ts';
import type { ActorLookup } from './ports.ts';
import type { EventSink } from './events.ts';
import { WindowNoticeLimiter, type NoticeLimiter } from './notice-limiter.ts';

export interface NoticeDeps {
  store: Store & ModerationStore;
  actors: ActorLookup;
  events: EventSink;
  /** How often people who are not members are answered (default: a few notices an hour). */
  limiter?: NoticeLimiter;
  now?: () => number;
}

/** Actors that are not people: never answered (a group or a bot answering back would make a loop). */
const NOT_PEOPLE = new Set(['Group', 'Application', 'Service']);

export class NoticeService {
  private readonly limiter: NoticeLimiter;
  private readonly now: () => number;

  constructor(private readonly d: NoticeDeps) {
    this.limiter = d.limiter ?? new WindowNoticeLimiter();
    this.now = d.now ?? Date.now;
  }

  /**
   * Tells the author of a post that the group did not share it because they are not a member (nobody acts on a
   * `Reject` of a post: docs/adr/0009-forms-per-member-server.md), within the limiter's rate. False when nothing
   * was sent: the author is not a person, cannot be had, or was told often enough already.
   */
  async notifyRefusedPost(
    group: string,
    author: string,
    o: { postId: string; basis: string },
  ): Promise<boolean> {
    const actor = await this.d.actors.getActor(author);
    if (!actor || NOT_PEOPLE.has(actor.type)) return false;
    const g = await this.d.store.groups.getGroup(group);
    if (!g || !this.limiter.allow(group, author, this.now())) return false;
    const join =
      g.settings.membershipPolicy === 'approval'
        ? 'Follow the group to ask to join; a moderator approves new members.'
        : 'Follow the group to join it, then post again.';
    const text = `Your post was not shared with the group "${g.title || g.name}": only members' posts are. ${join}\n${o.postId}`;
    return this.sendDirect(group, author, text, { basis: `refused:${o.basis}`, inReplyTo: o.postId });
  }

  /**
   * Sends `text` to `to` by direct message; `basis` names what it answers or tells of, `answering` the local
   * actor `to` wrote to when it answers them. False when the recipient's actor cannot be had.
   */
  async sendDirect(
    group: string,
    to: string,
    text: string,
    o: { basis: string; inReplyTo?: string | null; answering?: 'group' | 'service' },
  ): Promise<boolean> {
    const actor = await this.d.actors.getActor(to);
    if (!actor) return false;
    const handle = actor.preferredUsername ? `@${actor.preferredUsername}@${new URL(actor.id).host}` : null;
    await this.d.events.emit({
      type: 'DirectMessageSent',
      group,
      basis: `${o.basis}#to:${to}`,
      to: { id: actor.id, inbox: actor.inbox, handle, url: actor.url },
      text,
      inReplyTo: o.inReplyTo ?? null,
      ...(o.answering ? { answering: o.answering } : {}),
    });
    return true;
  }

  /** Sends a direct message to every moderator of the group, wherever they live; returns how many were sent. */
  async notifyModerators(group: string, text: string, basis: string): Promise<number> {
    let sent = 0;
    let after: { addedAt: number; actorId: string } | null = null;
    for (;;) {
      const page = await this.d.store.moderators.listModerators(group, after, 100);
      if (page.length === 0) break;
      for (const m of page) if (await this.sendDirect(group, m.actorId, text, { basis })) sent++;
      const last = page[page.length - 1];
      after = last ? { addedAt: last.addedAt, actorId: last.actorId } : null;
    }
    return sent;
  }
}
