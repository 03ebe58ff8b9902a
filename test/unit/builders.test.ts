/**
 * Every outbound activity builder. Moderation activities are checked against the fields Lemmy 0.19 requires
 * when it parses them (LemmyNet/lemmy, tag 0.19.20: serde structs without `Option` in
 * `crates/apub/src/protocol/activities/`), since a missing one makes Lemmy refuse the whole Announce.
 */
import { expect } from 'chai';
import {
  buildAnnounce,
  buildBoost,
  buildDeleteGroup,
  buildFollowAnswer,
  buildResolve,
  buildUndoBoost,
  buildUpdateGroup,
  embedded,
  inGroup,
  toMembers,
  withContext,
} from '../../src/activitypub/activity.builders.ts';
import {
  buildBlock,
  buildCollectionChange,
  buildLock,
  buildRemovePost,
  buildRestorePost,
  buildUndoBlock,
  buildUndoLock,
} from '../../src/activitypub/moderation.builders.ts';
import { buildChatMessage, buildDirectNote } from '../../src/activitypub/message.builders.ts';
import { GUILD_CONTEXT, PUBLIC } from '../../src/activitypub/vocab.ts';

const GROUP = 'https://guild.example/groups/rust';
const FOLLOWERS = `${GROUP}/followers`;
const SERVICE = 'https://guild.example/actor';
const BOB = 'https://lemmy.example/u/bob';
const POST = 'https://lemmy.example/post/1';
const T = '2026-01-01T00:00:00.000Z';
const ids = { group: GROUP, followers: FOLLOWERS };
const inG = { actor: SERVICE, group: GROUP, published: T };

/** Fields Lemmy's struct of that activity has without `Option` (its parse fails without them). */
function lemmyRequires(doc: object, fields: string[], where: string): void {
  for (const f of fields)
    expect((doc as Record<string, unknown>)[f], `${where} needs ${f}`).to.not.equal(undefined);
}

describe('activity builders', function () {
  it('addresses members publicly, and activities in a group as Lemmy does', function () {
    expect(toMembers(ids)).to.deep.equal({ to: [PUBLIC], cc: [FOLLOWERS], audience: GROUP });
    // Lemmy's send_activity_in_community: to Public, cc the community, audience the community.
    expect(inGroup(GROUP)).to.deep.equal({ to: [PUBLIC], cc: [GROUP], audience: GROUP });
  });

  it('adds the context to a document and removes it from an embedded one', function () {
    const doc = withContext({ id: 'x', type: 'Note' });
    expect(doc).to.deep.equal({ '@context': GUILD_CONTEXT, id: 'x', type: 'Note' });
    expect(embedded(doc)).to.deep.equal({ id: 'x', type: 'Note' });
  });

  it('announces an activity unchanged (FEP-1b12), which Lemmy reads as AnnounceActivity', function () {
    const create = { '@context': 'https://www.w3.org/ns/activitystreams', id: `${BOB}/c/1`, type: 'Create' };
    const a = buildAnnounce({ ...ids, id: `${GROUP}/activities/1`, activity: create, published: T });
    expect(a).to.deep.equal({
      id: `${GROUP}/activities/1`,
      type: 'Announce',
      actor: GROUP,
      object: create,
      to: [PUBLIC],
      cc: [FOLLOWERS],
      audience: GROUP,
      published: T,
    });
    expect(a.object).to.equal(create);
    // crates/apub/src/protocol/activities/community/announce.rs
    lemmyRequires(a, ['actor', 'to', 'object', 'cc', 'type', 'id'], 'AnnounceActivity');
  });

  it('announces a signed activity without its LD signature and the identity context that only served it', function () {
    // What fedify sends: an RsaSignature2017 read under identity/v1, which redefines ActivityStreams terms and,
    // nested after the ActivityStreams context, is refused by inboxes that check contexts (this server's too).
    const plain = { id: `${BOB}/c/2`, type: 'Create', actor: BOB };
    const signed = {
      '@context': ['https://www.w3.org/ns/activitystreams', 'https://w3id.org/identity/v1'],
      ...plain,
      signature: { type: 'RsaSignature2017', creator: `${BOB}#main-key`, signatureValue: 'x' },
    };
    const a = buildAnnounce({ ...ids, id: `${GROUP}/activities/2`, activity: signed, published: T });
    expect(a.object).to.deep.equal({ '@context': ['https://www.w3.org/ns/activitystreams'], ...plain });
    const bare = buildAnnounce({
      ...ids,
      id: `${GROUP}/activities/3`,
      activity: { '@context': 'https://w3id.org/identity/v1', ...plain },
      published: T,
    });
    expect(bare.object).to.deep.equal(plain);
  });

  it('boosts a post by id, and undoes the boost with the boost embedded, addressing and date included', function () {
    const boost = buildBoost({ ...ids, id: `${GROUP}/activities/b`, objectId: POST, published: T });
    expect(boost).to.deep.include({
      type: 'Announce',
      actor: GROUP,
      object: POST,
      to: [PUBLIC],
      cc: [FOLLOWERS],
    });
    const undo = buildUndoBoost({ ...ids, id: `${GROUP}/activities/u`, boost, published: T });
    expect(undo).to.deep.include({
      type: 'Undo',
      actor: GROUP,
      object: boost,
      to: [PUBLIC],
      cc: [FOLLOWERS],
    });
    // GoToSocial derives the visibility of an Announce from its to/cc and refuses one with neither ("message
    // wasn't TO or CC anyone": superseriousbusiness/gotosocial internal/ap/extract.go,
    // internal/typeutils/astointernal.go), also the Announce embedded in an Undo it no longer holds
    // (internal/federation/federatingdb/undo.go `undoAnnounce`).
    expect(undo.object).to.include.keys('to', 'cc', 'published');
  });

  it('answers a Follow with Accept or Reject to the follower only, the Follow embedded', function () {
    const follow = { id: `${BOB}/follows/1`, type: 'Follow', actor: BOB, object: GROUP };
    const answer = { group: GROUP, followId: follow.id, follower: BOB, published: T };
    for (const type of ['Accept', 'Reject'] as const) {
      expect(buildFollowAnswer({ ...answer, id: `${GROUP}/activities/a`, type })).to.deep.equal({
        id: `${GROUP}/activities/a`,
        type,
        actor: GROUP,
        object: follow,
        to: [BOB],
        cc: [],
        published: T,
      });
    }
    // A member stored without the id of its Follow: the Follow named by its actor and object.
    const noId = buildFollowAnswer({ ...answer, followId: null, id: 'x', type: 'Reject' });
    expect(noId.object).to.deep.equal({ type: 'Follow', actor: BOB, object: GROUP });
  });

  it("updates the group as itself (Mastodon-style) or as the Service actor (Lemmy's UpdateCommunity)", function () {
    const document = { '@context': GUILD_CONTEXT, id: GROUP, type: 'Group', name: 'Rust' };
    const own = buildUpdateGroup({ ...ids, id: 'u1', actor: GROUP, document, published: T });
    expect(own).to.deep.equal({
      id: 'u1',
      type: 'Update',
      actor: GROUP,
      object: { id: GROUP, type: 'Group', name: 'Rust' },
      to: [PUBLIC],
      cc: [FOLLOWERS],
      audience: GROUP,
      published: T,
    });
    const lemmy = buildUpdateGroup({ ...ids, id: 'u2', actor: SERVICE, document, published: T });
    expect(lemmy).to.deep.include({ actor: SERVICE, to: [PUBLIC], cc: [GROUP], audience: GROUP });
    // crates/apub/src/protocol/activities/community/update.rs
    lemmyRequires(lemmy, ['actor', 'to', 'object', 'cc', 'type', 'id'], 'UpdateCommunity');
  });

  it('deletes the group as itself and as the Service actor', function () {
    expect(buildDeleteGroup({ ...ids, id: 'd1', actor: GROUP, published: T })).to.deep.equal({
      id: 'd1',
      type: 'Delete',
      actor: GROUP,
      object: GROUP,
      to: [PUBLIC],
      cc: [FOLLOWERS],
      audience: GROUP,
      published: T,
    });
    const lemmy = buildDeleteGroup({ ...ids, id: 'd2', actor: SERVICE, published: T });
    // crates/apub/src/protocol/activities/deletion/delete.rs; verify_delete_activity wants Public in `to`.
    lemmyRequires(lemmy, ['actor', 'to', 'object', 'type', 'id'], 'Delete');
    expect(lemmy.to).to.include(PUBLIC);
  });

  it('resolves a report to the reporter, the Flag embedded', function () {
    const flag = { id: `${BOB}/flags/1`, type: 'Flag' as const, actor: BOB, object: [POST] };
    expect(buildResolve({ id: 'r1', actor: SERVICE, group: GROUP, flag, published: T })).to.deep.equal({
      id: 'r1',
      type: 'Resolve',
      actor: SERVICE,
      object: flag,
      to: [BOB],
      cc: [],
      audience: GROUP,
      published: T,
    });
  });
});

describe('moderation builders (the shapes Lemmy takes)', function () {
  it("bans with Lemmy's BlockUser: target the group, reason, end, removeData", function () {
    const block = buildBlock({
      ...inG,
      id: 'b1',
      user: BOB,
      reason: 'spam',
      endTime: '2026-02-01T00:00:00.000Z',
      removeData: true,
    });
    expect(block).to.deep.equal({
      id: 'b1',
      type: 'Block',
      actor: SERVICE,
      object: BOB,
      target: GROUP,
      to: [PUBLIC],
      cc: [GROUP],
      audience: GROUP,
      summary: 'spam',
      endTime: '2026-02-01T00:00:00.000Z',
      expires: '2026-02-01T00:00:00.000Z',
      removeData: true,
      published: T,
    });
    const forGood = buildBlock({ ...inG, id: 'b2', user: BOB, reason: '', endTime: null, removeData: false });
    expect(forGood).to.not.have.any.keys('endTime', 'expires', 'removeData');
    // crates/apub/src/protocol/activities/block/block_user.rs
    lemmyRequires(forGood, ['actor', 'to', 'object', 'cc', 'target', 'type', 'id'], 'BlockUser');
  });

  it('lifts a ban with Undo{Block}, the whole Block embedded (Lemmy parses it as a BlockUser)', function () {
    const block = buildBlock({ ...inG, id: 'b1', user: BOB, reason: '', endTime: null, removeData: false });
    const undo = buildUndoBlock({ ...inG, id: 'u1', block });
    expect(undo).to.deep.equal({
      id: 'u1',
      type: 'Undo',
      actor: SERVICE,
      object: block,
      to: [PUBLIC],
      cc: [GROUP],
      audience: GROUP,
      published: T,
    });
    // crates/apub/src/protocol/activities/block/undo_block_user.rs; undo_block_user.rs checks that the Undo's
    // actor and the Block's are on one domain.
    lemmyRequires(undo, ['actor', 'to', 'object', 'cc', 'type', 'id'], 'UndoBlockUser');
    lemmyRequires(undo.object, ['actor', 'to', 'object', 'cc', 'target', 'type', 'id'], 'BlockUser');
    expect(new URL(undo.actor).host).to.equal(new URL(undo.object.actor).host);
  });

  it('removes a post with Delete and a summary, which Lemmy reads as a removal, and restores it with its Undo', function () {
    const remove = buildRemovePost({ ...inG, id: 'd1', objectId: POST, reason: '' });
    expect(remove).to.deep.equal({
      id: 'd1',
      type: 'Delete',
      actor: SERVICE,
      object: POST,
      to: [PUBLIC],
      cc: [GROUP],
      audience: GROUP,
      summary: '',
      published: T,
    });
    // crates/apub/src/activities/deletion/delete.rs: "If summary is present, this is a mod action"; an empty
    // reason is still a removal.
    expect(remove).to.have.property('summary');
    const restore = buildRestorePost({ ...inG, id: 'u1', remove });
    expect(restore).to.deep.include({
      type: 'Undo',
      actor: SERVICE,
      object: remove,
      cc: [GROUP],
      audience: GROUP,
    });
    // crates/apub/src/protocol/activities/deletion/undo_delete.rs
    lemmyRequires(restore, ['actor', 'to', 'object', 'type', 'id'], 'UndoDelete');
    lemmyRequires(restore.object, ['actor', 'to', 'object', 'type', 'id'], 'Delete');
  });

  it('adds and removes moderators and pins on their collections (CollectionAdd, CollectionRemove)', function () {
    for (const type of ['Add', 'Remove'] as const) {
      for (const collection of [`${GROUP}/moderators`, `${GROUP}/featured`]) {
        const a = buildCollectionChange({ ...inG, id: 'c1', type, object: BOB, collection });
        expect(a).to.deep.equal({
          id: 'c1',
          type,
          actor: SERVICE,
          object: BOB,
          target: collection,
          to: [PUBLIC],
          cc: [GROUP],
          audience: GROUP,
          published: T,
        });
        // crates/apub/src/protocol/activities/community/collection_add.rs and collection_remove.rs
        lemmyRequires(a, ['actor', 'to', 'object', 'target', 'cc', 'type', 'id'], `Collection${type}`);
      }
    }
  });

  it('locks and unlocks a thread (LockPage, UndoLockPage with the Lock embedded)', function () {
    const lock = buildLock({ ...inG, id: 'l1', objectId: POST });
    expect(lock).to.deep.equal({
      id: 'l1',
      type: 'Lock',
      actor: SERVICE,
      object: POST,
      to: [PUBLIC],
      cc: [GROUP],
      audience: GROUP,
      published: T,
    });
    const undo = buildUndoLock({ ...inG, id: 'u1', lock });
    expect(undo.object).to.equal(lock);
    // crates/apub/src/protocol/activities/community/lock_page.rs
    lemmyRequires(lock, ['actor', 'to', 'object', 'cc', 'type', 'id'], 'LockPage');
    lemmyRequires(undo, ['actor', 'to', 'object', 'cc', 'type', 'id'], 'UndoLockPage');
  });
});

describe('direct message builders', function () {
  const recipient = { id: BOB, handle: '@bob@lemmy.example', url: 'https://lemmy.example/u/bob' };

  it('writes a Mastodon-style direct Note: to the recipient only, mentioning them, text escaped', function () {
    const create = buildDirectNote({
      id: 'c1',
      objectId: 'n1',
      from: GROUP,
      published: T,
      to: recipient,
      text: 'a <b>\nb & c',
      inReplyTo: `${BOB}/dm/1`,
    });
    expect(create).to.deep.include({ id: 'c1', type: 'Create', actor: GROUP, to: [BOB], cc: [] });
    expect(create.object).to.deep.equal({
      id: 'n1',
      type: 'Note',
      attributedTo: GROUP,
      to: [BOB],
      cc: [],
      published: T,
      content:
        '<p><span class="h-card"><a href="https://lemmy.example/u/bob" class="u-url mention">@bob@lemmy.example</a></span> a &lt;b&gt;<br>b &amp; c</p>',
      tag: [{ type: 'Mention', href: BOB, name: '@bob@lemmy.example' }],
      inReplyTo: `${BOB}/dm/1`,
    });
    const plain = buildDirectNote({
      id: 'c2',
      objectId: 'n2',
      from: GROUP,
      published: T,
      to: { id: BOB, handle: null, url: null },
      text: 'x',
      inReplyTo: null,
    });
    expect(plain.object).to.not.have.property('inReplyTo');
    expect(plain.object.tag).to.deep.equal([{ type: 'Mention', href: BOB, name: BOB }]);
  });

  it("writes Lemmy's private message: Create{ChatMessage} with exactly one recipient, markdown kept", function () {
    const create = buildChatMessage({
      id: 'c1',
      objectId: 'm1',
      from: SERVICE,
      published: T,
      to: BOB,
      text: 'a <b>\nb',
    });
    expect(create).to.deep.equal({
      id: 'c1',
      type: 'Create',
      actor: SERVICE,
      to: [BOB],
      cc: [],
      published: T,
      object: {
        id: 'm1',
        type: 'ChatMessage',
        attributedTo: SERVICE,
        to: [BOB],
        content: '<p>a &lt;b&gt;<br>b</p>',
        mediaType: 'text/html',
        source: { content: 'a <b>  \nb', mediaType: 'text/markdown' },
        published: T,
      },
    });
    // crates/apub/src/protocol/activities/create_or_update/chat_message.rs and objects/chat_message.rs: one
    // recipient, the same in the activity and the message; the author is the actor.
    lemmyRequires(create, ['id', 'actor', 'to', 'object', 'type'], 'CreateOrUpdateChatMessage');
    lemmyRequires(create.object, ['type', 'id', 'attributedTo', 'to', 'content'], 'ChatMessage');
    expect(create.object.to).to.have.length(1);
    expect(create.object.attributedTo).to.equal(create.actor);
  });
});
