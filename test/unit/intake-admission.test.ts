/**
 * What the inbox stores: only activities that concern something here, and no more than a cap of bytes per sending
 * host over a sliding window (fixed clock; the two store lookups answered from maps).
 */
import { expect } from 'chai';
import { IntakeAdmission, referencedIds } from '../../src/federation/intake-admission.ts';
import type { ApObject } from '../../src/activitypub/vocab.ts';

const ORIGIN = 'https://guild.example';
const GROUP = `${ORIGIN}/groups/birds`;
const MEMBER = 'https://member.example/users/m';
const STRANGER = 'https://junk.example/users/j';
const POST = 'https://member.example/notes/1';
/** A group that the group here follows (FEP-d36d). */
const FOLLOWED = 'https://other.example/groups/owls';

function admission(o: { cap?: number; now?: () => number; failing?: boolean } = {}): IntakeAdmission {
  const fail = async (): Promise<never> => {
    throw new Error('store unavailable');
  };
  return new IntakeAdmission({
    store: {
      members: {
        listGroupsOfActor: o.failing
          ? fail
          : async (actorId: string) => (actorId === MEMBER ? ['birds'] : []),
      } as never,
      posts: {
        listGroupsOfPost: o.failing ? fail : async (objectId: string) => (objectId === POST ? ['birds'] : []),
      } as never,
      groupFollows: {
        listFollowsOf: o.failing ? fail : async (actorId: string) => (actorId === FOLLOWED ? [{}] : []),
      } as never,
    },
    origin: ORIGIN,
    maxStoredBytesPerSender: o.cap ?? 0,
    windowMs: 60_000,
    now: o.now ?? (() => 1_000_000),
  });
}

const like = (actor: string, object: unknown, extra: ApObject = {}): ApObject => ({
  id: `${actor}/likes/1`,
  type: 'Like',
  actor,
  object,
  ...extra,
});

describe('intake admission', function () {
  it('finds the ids an activity names, in its object and the object of an Undo', function () {
    const undo: ApObject = {
      type: 'Undo',
      actor: STRANGER,
      object: { type: 'Like', object: POST, to: ['https://www.w3.org/ns/activitystreams#Public'] },
    };
    const ids = referencedIds(undo);
    expect(ids.objects).to.include(POST);
    const create: ApObject = {
      type: 'Create',
      object: { id: 'https://x.example/n', inReplyTo: POST, tag: [{ type: 'Mention', href: GROUP }] },
    };
    expect(referencedIds(create).all).to.include.members([GROUP, POST, 'https://x.example/n']);
  });

  it('stores what names something here, reacts to a post held here, or comes from a member', async function () {
    const a = admission();
    const from = { actorId: STRANGER, host: 'junk.example', bytes: 100 };
    expect(await a.admit({ type: 'Follow', actor: STRANGER, object: GROUP }, from)).to.deep.equal({
      kind: 'store',
    });
    expect(await a.admit(like(STRANGER, 'https://x.example/n', { audience: GROUP }), from)).to.deep.equal({
      kind: 'store',
    });
    expect(await a.admit(like(STRANGER, POST), from), 'a Like of a post held here').to.deep.equal({
      kind: 'store',
    });
    expect(
      await a.admit({ type: 'Undo', actor: STRANGER, object: like(STRANGER, POST) }, from),
    ).to.deep.equal({ kind: 'store' });
    const member = { actorId: MEMBER, host: 'member.example', bytes: 100 };
    expect(
      await a.admit({ type: 'Delete', actor: MEMBER, object: MEMBER }, member),
      'a member deletes their account',
    ).to.deep.equal({
      kind: 'store',
    });
    const followed = { actorId: FOLLOWED, host: 'other.example', bytes: 100 };
    const announce = {
      type: 'Announce',
      actor: FOLLOWED,
      to: ['https://www.w3.org/ns/activitystreams#Public'],
      cc: [`${FOLLOWED}/followers`],
      object: { type: 'Create', object: { id: 'https://e.example/p' } },
    };
    expect(await a.admit(announce, followed), 'an Announce of a group a group here follows').to.deep.equal({
      kind: 'store',
    });
    expect((await a.admit({ ...announce, actor: STRANGER }, from)).kind).to.equal('unrelated');
  });

  it('answers without storing what concerns nothing here', async function () {
    const a = admission();
    const from = { actorId: STRANGER, host: 'junk.example', bytes: 100 };
    for (const activity of [
      like(STRANGER, 'https://elsewhere.example/notes/9'),
      { type: 'Delete', actor: STRANGER, object: STRANGER },
      {
        type: 'Announce',
        actor: STRANGER,
        object: { type: 'Create', object: { id: 'https://e.example/p' } },
      },
      // A look-alike origin is not this server.
      like(STRANGER, 'https://guild.example.evil/groups/birds'),
    ]) {
      expect((await a.admit(activity, from)).kind, JSON.stringify(activity)).to.equal('unrelated');
    }
  });

  it('lets an activity through when the store cannot tell (its enqueue will answer)', async function () {
    const a = admission({ failing: true });
    const from = { actorId: STRANGER, host: 'junk.example', bytes: 100 };
    expect((await a.admit(like(STRANGER, 'https://elsewhere.example/n'), from)).kind).to.equal('store');
  });

  it('caps the bytes taken in per sending host over a sliding window, and says when to come back', async function () {
    let now = 1_000_000;
    const a = admission({ cap: 1000, now: () => now });
    const from = (host: string, bytes: number) => ({ actorId: `https://${host}/u`, host, bytes });
    const follow = { type: 'Follow', actor: 'x', object: GROUP };
    expect((await a.admit(follow, from('a.example', 600))).kind).to.equal('store');
    expect((await a.admit(follow, from('a.example', 400))).kind).to.equal('store');
    const refused = await a.admit(follow, from('a.example', 1));
    expect(refused.kind).to.equal('over-quota');
    expect(refused.kind === 'over-quota' && refused.retryAfterSeconds).to.be.within(1, 60);
    expect((await a.admit(follow, from('b.example', 1000))).kind, 'another host has its own cap').to.equal(
      'store',
    );
    // A refused activity is not counted; once the window has passed, the sender may send again.
    now += 61_000;
    expect((await a.admit(follow, from('a.example', 1000))).kind).to.equal('store');
  });
});
