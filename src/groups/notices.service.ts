/**
 * Direct messages from a group: notices to its moderators (reports, held posts) and answers to commands. Each
 * message is a `DirectMessageSent` event whose basis names what caused it and whom it is for, so that telling
 * the same thing again sends nothing new.
 */
import type { Store } from '../storage/store.ts';
import type { ModerationStore } from '../storage/moderation.store.ts';
import type { ActorLookup } from './ports.ts';
import type { EventSink } from './events.ts';

export interface NoticeDeps {
  store: Store & ModerationStore;
  actors: ActorLookup;
  events: EventSink;
}

export class NoticeService {
  constructor(private readonly d: NoticeDeps) {}

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
