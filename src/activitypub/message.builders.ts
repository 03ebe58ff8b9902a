/**
 * Builders of direct messages (notices to moderators, answers to commands), in the two forms servers take: a
 * Mastodon-style `Note` addressed to one actor and mentioning it, and Lemmy's private message, a `ChatMessage`
 * with exactly one recipient whose author is a Person or Service (Lemmy
 * `crates/apub/src/protocol/objects/chat_message.rs`). No I/O.
 */
import type { ApChatMessage, ApCreate, ApDirectNote } from './ap-types.ts';

/** Who a message goes to, as the recipient's actor document names them. */
export interface Recipient {
  id: string;
  /** `@user@host`, or null when the actor has no preferredUsername. */
  handle: string | null;
  /** Profile URL, or null. */
  url: string | null;
}

interface MessageIds {
  /** Id of the Create. */
  id: string;
  /** Id of the message object. */
  objectId: string;
  /** The sender's actor id. */
  from: string;
  published: string;
}

/** Plain text as HTML: escaped, lines as `<br>`. */
function textHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/\n/g, '<br>');
}

/** A direct message as Mastodon sends one: `Create{Note}` to the recipient only, mentioning them first. */
export function buildDirectNote(
  o: MessageIds & { to: Recipient; text: string; inReplyTo: string | null },
): ApCreate<ApDirectNote> {
  const name = o.to.handle ?? o.to.id;
  const note: ApDirectNote = {
    id: o.objectId,
    type: 'Note',
    attributedTo: o.from,
    to: [o.to.id],
    cc: [],
    published: o.published,
    content: `<p><span class="h-card"><a href="${textHtml(o.to.url ?? o.to.id)}" class="u-url mention">${textHtml(name)}</a></span> ${textHtml(o.text)}</p>`,
    tag: [{ type: 'Mention', href: o.to.id, name }],
  };
  if (o.inReplyTo !== null) note.inReplyTo = o.inReplyTo;
  return {
    id: o.id,
    type: 'Create',
    actor: o.from,
    object: note,
    to: [o.to.id],
    cc: [],
    published: o.published,
  };
}

/** A private message as Lemmy takes one: `Create{ChatMessage}` with one recipient, markdown source kept. */
export function buildChatMessage(o: MessageIds & { to: string; text: string }): ApCreate<ApChatMessage> {
  const message: ApChatMessage = {
    id: o.objectId,
    type: 'ChatMessage',
    attributedTo: o.from,
    to: [o.to],
    content: `<p>${textHtml(o.text)}</p>`,
    mediaType: 'text/html',
    // Markdown breaks a line only where it ends with two spaces.
    source: { content: o.text.replace(/\n/g, '  \n'), mediaType: 'text/markdown' },
    published: o.published,
  };
  return {
    id: o.id,
    type: 'Create',
    actor: o.from,
    object: message,
    to: [o.to],
    cc: [],
    published: o.published,
  };
}
