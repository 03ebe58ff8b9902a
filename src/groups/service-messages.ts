/**
 * Direct messages from the instance's Service actor (`@guild@HOST`): answers to the commands sent to it,
 * sign-in links, and what became of a request to create a group. Each is a `ServiceMessageSent` event whose
 * basis names what caused it and whom it is for, so that telling the same thing again sends nothing new.
 */
import type { ActorLookup } from './ports.ts';
import type { EventSink } from './events.ts';

/**
 * A message that holds a secret (a sign-in link, a deletion code): `text` is sent, and only `keptText` is ever
 * stored.
 */
export interface ConfidentialText {
  text: string;
  keptText: string;
}

/** What the Service actor says: plain text, or text with a secret in it. */
export type MessageText = string | ConfidentialText;

export class ServiceMessenger {
  constructor(private readonly d: { actors: ActorLookup; events: EventSink }) {}

  /** Sends `message` to `to`; false when the recipient's actor cannot be had. */
  async send(
    to: string,
    message: MessageText,
    o: { basis: string; inReplyTo?: string | null },
  ): Promise<boolean> {
    const { text, keptText } = typeof message === 'string' ? { text: message, keptText: null } : message;
    const actor = await this.d.actors.getActor(to);
    if (!actor) return false;
    const handle = actor.preferredUsername ? `@${actor.preferredUsername}@${new URL(actor.id).host}` : null;
    await this.d.events.emit({
      type: 'ServiceMessageSent',
      basis: `${o.basis}#to:${to}`,
      to: { id: actor.id, inbox: actor.inbox, handle, url: actor.url },
      text,
      keptText,
      inReplyTo: o.inReplyTo ?? null,
    });
    return true;
  }
}
