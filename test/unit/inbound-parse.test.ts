/**
 * The one parse of inbound activities: each kind a group handles, and the refusals, closed (a type outside the
 * union) or malformed (a field the kind needs). Shapes follow what peers send: Lemmy 0.19's
 * `crates/apub/src/protocol/activities/` structs, Mastodon's `app/lib/activitypub/activity/*.rb`.
 */
import { expect } from 'chai';
import {
  INBOUND_KINDS,
  INBOUND_TYPES,
  parseInbound,
  type InboundActivity,
  type InboundKind,
} from '../../src/activitypub/inbound.parser.ts';
import type { ApObject } from '../../src/activitypub/vocab.ts';

const AS = 'https://www.w3.org/ns/activitystreams';
const PUBLIC = `${AS}#Public`;
const ALICE = 'https://lemmy.example/u/alice';
const GROUP = 'https://guild.example/groups/rust';
const POST = 'https://lemmy.example/post/1';

let n = 0;
const activity = (type: string, fields: ApObject = {}): ApObject => ({
  '@context': AS,
  id: `${ALICE}/activities/${++n}`,
  type,
  actor: ALICE,
  to: [PUBLIC],
  cc: [GROUP],
  audience: GROUP,
  ...fields,
});

function parsed(doc: ApObject): InboundActivity {
  const r = parseInbound(doc);
  if (!r.ok) throw new Error(`refused: ${r.error.type}: ${r.error.detail}`);
  return r.value;
}

function refused(doc: unknown): { type: string; detail: string } {
  const r = parseInbound(doc);
  if (r.ok) throw new Error(`parsed as ${r.value.kind}`);
  return r.error;
}

const note = (fields: ApObject = {}): ApObject => ({
  id: `${ALICE}/notes/1`,
  type: 'Note',
  attributedTo: ALICE,
  content: '<p>hi</p>',
  to: [PUBLIC],
  cc: [GROUP],
  ...fields,
});

describe('inbound parse', function () {
  it('reads each kind a group handles', function () {
    const cases: Array<[ApObject, InboundKind]> = [
      [activity('Follow', { object: GROUP }), 'follow'],
      [
        activity('Undo', { object: { id: `${ALICE}/f/1`, type: 'Follow', actor: ALICE, object: GROUP } }),
        'undo-follow',
      ],
      [activity('Undo', { object: `${ALICE}/f/1` }), 'undo-follow'],
      [activity('Create', { object: note() }), 'create-post'],
      [activity('Create', { object: note({ type: 'Page', name: 'Title' }) }), 'create-post'],
      [activity('Create', { object: note({ to: [GROUP], cc: [] }) }), 'direct-message'],
      [activity('Update', { object: note() }), 'update-post'],
      [activity('Update', { object: POST }), 'update-post'],
      [activity('Update', { object: { id: GROUP, type: 'Group', name: 'Rust' } }), 'update-group'],
      [activity('Delete', { object: POST }), 'delete-post'],
      [activity('Delete', { object: { id: POST, type: 'Tombstone' } }), 'delete-post'],
      [activity('Delete', { object: ALICE }), 'delete-actor'],
      [
        activity('Undo', { object: { id: `${ALICE}/d/1`, type: 'Delete', actor: ALICE, object: POST } }),
        'undo-delete',
      ],
      [activity('Like', { object: POST }), 'like'],
      [activity('Dislike', { object: POST }), 'dislike'],
      [activity('Undo', { object: { type: 'Like', actor: ALICE, object: POST } }), 'undo-vote'],
      [
        activity('Accept', { object: { type: 'Follow', actor: 'https://b.example/u/bob', object: GROUP } }),
        'accept-follow',
      ],
      [activity('Reject', { object: `${ALICE}/f/2` }), 'reject-follow'],
      [activity('Flag', { object: [ALICE, POST], content: 'spam' }), 'flag'],
      [activity('Block', { object: 'https://b.example/u/bob', target: GROUP }), 'block'],
      [
        activity('Undo', { object: { type: 'Block', actor: ALICE, object: 'https://b.example/u/bob' } }),
        'undo-block',
      ],
      [activity('Add', { object: 'https://b.example/u/bob', target: `${GROUP}/moderators` }), 'add'],
      [activity('Remove', { object: POST, target: `${GROUP}/featured` }), 'remove'],
      [activity('Lock', { object: POST }), 'lock'],
      [activity('Undo', { object: { type: 'Lock', actor: ALICE, object: POST } }), 'undo-lock'],
      [activity('Announce', { object: activity('Create', { object: note() }) }), 'announce-create'],
      [activity('Announce', { object: POST }), 'announce-boost'],
      [activity('Announce', { object: note() }), 'announce-boost'],
      [
        activity('Announce', { object: { id: 'https://b.example/groups/g', type: 'Group' } }),
        'announce-group',
      ],
    ];
    for (const [doc, kind] of cases) expect(parsed(doc).kind, JSON.stringify(doc)).to.equal(kind);
    // Every kind is reachable from a document.
    expect([...new Set(cases.map(([, k]) => k))].sort()).to.deep.equal([...INBOUND_KINDS].sort());
  });

  it('keeps the fields the handlers need, and the activity as received', function () {
    const doc = activity('Block', {
      object: 'https://b.example/u/bob',
      target: GROUP,
      summary: 'spam',
      endTime: '2026-02-01T00:00:00Z',
      removeData: true,
    });
    const a = parsed(doc);
    expect(a).to.deep.include({
      kind: 'block',
      id: doc.id,
      actor: ALICE,
      object: 'https://b.example/u/bob',
      target: GROUP,
      summary: 'spam',
      endTime: '2026-02-01T00:00:00Z',
      removeData: true,
      audience: [GROUP],
    });
    expect(a.raw).to.equal(doc);
    // Lemmy's older BlockUser names the end in `expires`.
    const old = parsed(activity('Block', { object: 'https://b.example/u/bob', target: GROUP, expires: 'x' }));
    expect(old.kind === 'block' && old.endTime).to.equal('x');
    const del = parsed(activity('Delete', { object: POST, summary: 'off topic' }));
    expect(del.kind === 'delete-post' && del.summary).to.equal('off topic');
    const post = parsed(
      activity('Create', { object: note({ inReplyTo: POST, tag: [{ type: 'Mention', href: GROUP }] }) }),
    );
    expect(post.kind === 'create-post' && post.object).to.deep.include({
      id: `${ALICE}/notes/1`,
      type: 'Note',
      attributedTo: ALICE,
      inReplyTo: POST,
      mentions: [GROUP],
    });
    const typed = parsed(
      activity(['Create'] as unknown as string, { object: note({ type: ['Article', 'x'] }) }),
    );
    expect(typed.kind === 'create-post' && typed.object.type).to.equal('Article');
  });

  it('refuses every type outside the union (closed): Move, Warn, and whatever else', function () {
    for (const type of ['Move', 'Warn', 'Question', 'Invite', 'Join', 'Leave', 'Resolve', 'Note']) {
      expect(refused(activity(type, { object: POST }))).to.deep.include({ type: 'unsupported' });
      expect(INBOUND_TYPES.has(type), type).to.equal(false);
    }
  });

  it('refuses known types about things a group does not handle', function () {
    const unsupported: ApObject[] = [
      activity('Update', { object: { id: ALICE, type: 'Person' } }),
      activity('Undo', { object: { id: `${ALICE}/a/1`, type: 'Announce', actor: ALICE, object: POST } }),
      activity('Undo', { object: { id: `${ALICE}/x/1`, type: 'Move', actor: ALICE, object: POST } }),
      activity('Accept', { object: { id: `${ALICE}/i/1`, type: 'Invite' } }),
      // Announces of anything but a post, its Create, or a Group (a peer's directory).
      activity('Announce', { object: activity('Like', { object: POST }) }),
      activity('Announce', { object: { id: ALICE, type: 'Person' } }),
      activity('Announce', {
        object: activity('Create', { object: { id: `${ALICE}/pm/1`, type: 'ChatMessage' } }),
      }),
    ];
    for (const doc of unsupported)
      expect(refused(doc), JSON.stringify(doc)).to.deep.include({ type: 'unsupported' });
  });

  it("takes Lemmy's private message as a direct message (a command)", function () {
    // Lemmy crates/apub/src/protocol/activities/create_or_update/chat_message.rs: one recipient.
    const r = parseInbound(
      activity('Create', {
        object: {
          id: `${ALICE}/pm/1`,
          type: 'ChatMessage',
          attributedTo: ALICE,
          to: [GROUP],
          content: 'help',
        },
      }),
    );
    expect(r.ok && r.value.kind).to.equal('direct-message');
  });

  it('refuses a malformed activity of a known type, naming what is missing', function () {
    const malformed: Array<[unknown, string]> = [
      ['not an object', 'JSON object'],
      [[], 'JSON object'],
      [activity('Follow', { id: undefined, object: GROUP }), 'id'],
      [activity('Follow', { id: 'urn:x:1', object: GROUP }), 'id'],
      [activity('Follow', { type: undefined, object: GROUP }), 'type'],
      [activity('Follow', { actor: 'mailto:alice@example', object: GROUP }), 'actor'],
      [activity('Follow', { object: undefined }), 'object'],
      [activity('Follow', { object: 'javascript:alert(1)' }), 'object'],
      [activity('Create', { object: `${ALICE}/notes/1` }), 'inline object'],
      [activity('Create', { object: { type: 'Note' } }), 'id'],
      [activity('Update', { object: { type: 'Group', name: 'x' } }), 'Group'],
      [activity('Delete', {}), 'object'],
      [activity('Like', { object: 42 }), 'object'],
      [activity('Flag', { object: [42, null] }), 'object'],
      [activity('Block', {}), 'object'],
      [activity('Add', { object: POST }), 'target'],
      [activity('Remove', { target: `${GROUP}/featured` }), 'object'],
      [activity('Lock', {}), 'object'],
      [activity('Undo', {}), 'object'],
      [activity('Undo', { object: 'not a url' }), 'id'],
      [activity('Undo', { object: { type: 'Delete', actor: ALICE } }), 'Delete'],
      [activity('Undo', { object: { type: 'Block', actor: ALICE } }), 'Block'],
      [activity('Undo', { object: { type: 'Like', actor: ALICE } }), 'vote'],
      [activity('Undo', { object: { type: 'Lock', actor: ALICE } }), 'Lock'],
    ];
    for (const [doc, word] of malformed) {
      const e = refused(doc);
      expect(e.type, JSON.stringify(doc)).to.equal('malformed');
      expect(e.detail, JSON.stringify(doc)).to.contain(word);
    }
  });

  it('tells a direct message from a post by its addressing', function () {
    const dm = (to: string[], cc: string[]) => parsed(activity('Create', { object: note({ to, cc }) })).kind;
    expect(dm([GROUP], [])).to.equal('direct-message');
    expect(dm([GROUP, 'https://b.example/u/bob'], [])).to.equal('direct-message');
    expect(dm([PUBLIC], [GROUP])).to.equal('create-post');
    expect(dm([GROUP], ['as:Public'])).to.equal('create-post');
    // Followers-only: a post, refused later as not public.
    expect(dm([`${ALICE}/followers`], [GROUP])).to.equal('create-post');
  });

  it('lists each kind once', function () {
    expect(new Set(INBOUND_KINDS).size).to.equal(INBOUND_KINDS.length);
  });
});
