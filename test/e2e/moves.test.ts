/**
 * Moving a group between two Guild instances on loopback: a group of 100 members (90 users on three servers that
 * follow `Move` as Mastodon's move.rb does, and 10 fedify peers, which do not) is exported, imported on the other
 * instance and moved. The members whose servers follow moves end up members of the new group without a new
 * approval; nothing is sent twice; the old group points to the new one.
 */
import { expect } from 'chai';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startFedifyPeer, type FedifyPeer } from '../support/fedify-peer.ts';
import { startMovePeer, type MovePeer } from '../support/move-peer.ts';
import { waitUntil } from '../support/net.ts';
import { decodeGroupExport, type GroupExport } from '../../src/groups/group-export.ts';

/** Waits until `g` has no queued or leased work; a hundred members take a while on a MongoDB-wire server. */
async function drained(g: TestGuild): Promise<void> {
  await waitUntil(
    async () => {
      for (const q of ['intake', 'fanout', 'deliver'] as const) {
        const st = await g.store.jobs.stats(q, Date.now());
        if (st.queued > 0 || st.leased > 0) return false;
      }
      return true;
    },
    { what: `the queues of ${g.origin} to drain`, timeoutMs: 120_000 },
  );
}

const MOVING_SERVERS = 3;
const USERS_PER_SERVER = 30;
const FEDIFY_MEMBERS = 10;

describe('moving a group to another instance', function () {
  this.timeout(600_000);
  let oldGuild: TestGuild;
  let newGuild: TestGuild;
  let movers: MovePeer[] = [];
  let fedify: FedifyPeer[] = [];
  let newcomer: FedifyPeer;
  let oldGroup: string;
  let newGroup: string;
  let file: GroupExport;
  let priorMembers: number;
  let moving: Promise<void> | null = null;

  /**
   * Moves the group once (each test that needs the move asks for it, so that each passes alone) and waits for
   * the members whose servers follow Move to be members of the new group, and for both queues to drain.
   */
  const moved = (): Promise<void> =>
    (moving ??= (async () => {
      const handle = `@club@${new URL(newGuild.origin).host}`;
      const r = await oldGuild.guild.services.moves.move('club', handle, 'admin');
      if (!r.ok) throw new Error(JSON.stringify(r.error));
      expect(r.value.target).to.equal(newGroup);
      const n = MOVING_SERVERS * USERS_PER_SERVER;
      await waitUntil(async () => movers.every((m) => m.followersOf(newGroup).length === USERS_PER_SERVER), {
        what: `the new group to accept ${n} users`,
        timeoutMs: 120_000,
      });
      await drained(oldGuild);
      await drained(newGuild);
    })());
  const moderator = 'https://mods.example/users/mod';
  const banned = 'https://spam.example/users/spammer';

  before(async function () {
    [oldGuild, newGuild] = await Promise.all([startTestGuild(), startTestGuild()]);
    oldGroup = await oldGuild.createGroup('club', { title: 'The Club', summary: 'All about **clubs**' });
    movers = await Promise.all(
      Array.from({ length: MOVING_SERVERS }, (_, i) =>
        startMovePeer({ users: USERS_PER_SERVER, prefix: `m${i}u` }),
      ),
    );
    fedify = await Promise.all(
      Array.from({ length: FEDIFY_MEMBERS }, (_, i) => startFedifyPeer({ username: `f${i}` })),
    );
    newcomer = await startFedifyPeer({ username: 'newcomer' });
    for (const m of movers) for (let i = 0; i < USERS_PER_SERVER; i++) await m.follow(i, oldGroup);
    for (const f of fedify) await f.follow(oldGroup);
    await waitUntil(async () => (await oldGuild.store.members.countMembers('club', 'accepted')) === 100, {
      what: '100 members of the old group',
      timeoutMs: 60_000,
    });
    const s = oldGuild.guild.services;
    await s.moderation.changeSettings(
      'club',
      { membershipPolicy: 'approval', rules: 'Be kind' },
      { by: 'admin' },
    );
    await oldGuild.store.moderators.addModerator({
      groupName: 'club',
      actorId: moderator,
      addedBy: 'admin',
      addedAt: 1,
    });
    await oldGuild.store.bans.putBan({
      groupName: 'club',
      actorId: banned,
      reason: 'spam',
      by: 'admin',
      createdAt: 1,
      expiresAt: null,
    });
    const author = fedify[0] as FedifyPeer;
    const { noteId } = await author.post({ to: [oldGroup], content: '<p>Welcome to the club</p>' });
    await waitUntil(async () => (await oldGuild.store.posts.getPost('club', noteId)) !== null, {
      what: 'the post',
    });
    const pinned = await s.moderation.setPinned('club', noteId, true, { by: 'admin' });
    expect(pinned.ok).to.equal(true);
    await drained(oldGuild);
    const exported = await oldGuild.guild.services.moves.exportGroup('club');
    if (!exported.ok) throw new Error('export failed');
    // What a file holds is read back through the same check an import makes.
    const decoded = decodeGroupExport(JSON.parse(JSON.stringify(exported.value)));
    if (!decoded.ok) throw new Error(JSON.stringify(decoded.error));
    file = decoded.value;
    const imported = await newGuild.guild.services.moves.importGroup(file);
    if (!imported.ok) throw new Error(JSON.stringify(imported.error));
    priorMembers = imported.value.priorMembers;
    newGroup = newGuild.groupUrl('club');
  });
  afterEach(function () {
    printLogsOnFailure(this, [oldGuild, newGuild]);
  });
  after(async function () {
    await Promise.all([...movers.map((m) => m.close()), ...fedify.map((f) => f.close()), newcomer?.close()]);
    await Promise.all([oldGuild?.close(), newGuild?.close()]);
  });

  it('exports the group and imports it on the other instance, listing the old one in alsoKnownAs', async function () {
    expect(file.members).to.have.length(100);
    expect(file.moderators.map((m) => m.actorId)).to.deep.equal([moderator]);
    expect(file.bans.map((b) => b.actorId)).to.deep.equal([banned]);
    expect(file.pinned).to.have.length(1);
    expect(priorMembers).to.equal(100);
    const g = await newGuild.store.groups.getGroup('club');
    expect(g?.title).to.equal('The Club');
    expect(g?.settings.membershipPolicy).to.equal('approval');
    expect(g?.settings.rules).to.equal('Be kind');
    expect(await newGuild.store.moderators.isModerator('club', moderator)).to.equal(true);
    expect(await newGuild.store.bans.getActiveBan('club', banned, Date.now())).to.not.equal(null);
    const actor = (await (
      await fetch(newGroup, { headers: { accept: 'application/activity+json' } })
    ).json()) as {
      alsoKnownAs?: string[];
      featured: string;
    };
    expect(actor.alsoKnownAs).to.deep.equal([oldGroup]);
    const featured = (await (
      await fetch(actor.featured, { headers: { accept: 'application/activity+json' } })
    ).json()) as {
      orderedItems: Array<{ content?: string }>;
    };
    expect(featured.orderedItems.map((o) => o.content)).to.deep.equal(['<p>Welcome to the club</p>']);
  });

  it('refuses to move to a group that does not list the old one', async function () {
    await oldGuild.createGroup('lonely');
    const other = await newGuild.createGroup('other');
    const r = await oldGuild.guild.services.moves.move('lonely', other, 'admin');
    expect(r.ok).to.equal(false);
    expect(!r.ok && r.error.type).to.equal('target-refused');
    expect((await oldGuild.store.moves.getMoveState('lonely')).movedTo).to.equal(null);
  });

  it('moves: the members whose servers follow Move end up members of the new group, without approval', async function () {
    await moved();
    // Every user of a server that follows Move is an accepted member of the new group, none left pending.
    for (const m of movers)
      for (const u of m.users)
        expect((await newGuild.store.members.getMember('club', u))?.state, u).to.equal('accepted');
    // Each user was accepted once by the new group, and left the old one (their server's Undo{Follow}).
    for (const m of movers) {
      await waitUntil(() => m.followersOf(newGroup).length === USERS_PER_SERVER, {
        what: 'Accepts at a server',
      });
      const accepts = m.received.filter((a) => a.json.type === 'Accept' && a.signer === newGroup);
      expect(accepts).to.have.length(USERS_PER_SERVER);
      expect(new Set(accepts.map((a) => a.inbox)).size).to.equal(USERS_PER_SERVER);
      expect(m.movesFollowed).to.deep.equal([{ origin: oldGroup, target: newGroup }]);
      expect(m.refused).to.deep.equal([]);
    }
    await waitUntil(
      async () => (await oldGuild.store.members.countMembers('club', 'accepted')) === FEDIFY_MEMBERS,
      {
        what: 'the old group left with the members whose servers do not follow Move',
      },
    );
    await drained(oldGuild);
    await drained(newGuild);
    // One Move per server (shared inboxes), none twice.
    for (const m of movers) expect(m.received.filter((a) => a.json.type === 'Move')).to.have.length(1);
    for (const f of fedify) expect(f.received.filter((a) => a.type === 'Move')).to.have.length(1);
  });

  it('sends Move as Mastodon and GoToSocial take it: from the old group about itself, to a target that lists it', async function () {
    // mastodon/mastodon app/lib/activitypub/activity/move.rb: the Move's object must be its actor (the signer);
    // the target, fetched, must list the origin in `alsoKnownAs`. superseriousbusiness/gotosocial
    // internal/processing/workers/fromfediapi_move.go: the target must be aliased back to the origin
    // (IsAliasedTo) and must not have moved itself (MovedToURI empty).
    await moved();
    const f = fedify[0] as FedifyPeer;
    const move = await f.waitFor((a) => a.type === 'Move', { what: 'the Move' });
    expect(move.actorId).to.equal(oldGroup);
    expect(move.json).to.deep.include({ type: 'Move', actor: oldGroup, object: oldGroup, target: newGroup });
    const target = (await (
      await fetch(newGroup, { headers: { accept: 'application/activity+json' } })
    ).json()) as { alsoKnownAs?: string[]; movedTo?: string };
    expect(target.alsoKnownAs).to.include(oldGroup);
    expect(target.movedTo).to.equal(undefined);
  });

  it('serves the move: movedTo on the old actor, a notice on its page', async function () {
    await moved();
    const actor = (await (
      await fetch(oldGroup, { headers: { accept: 'application/activity+json' } })
    ).json()) as {
      movedTo?: string;
    };
    expect(actor.movedTo).to.equal(newGroup);
    const page = await (await fetch(oldGroup)).text();
    expect(page).to.contain('id="moved"').and.contain(newGroup);
  });

  it('moving again to the same target sends nothing new', async function () {
    await moved();
    for (const m of movers)
      await waitUntil(() => m.received.some((a) => a.json.type === 'Move'), { what: 'the Move at a server' });
    const r = await oldGuild.guild.services.moves.move('club', newGroup, 'admin');
    expect(r.ok).to.equal(true);
    await drained(oldGuild);
    for (const m of movers) expect(m.received.filter((a) => a.json.type === 'Move')).to.have.length(1);
  });

  it('takes a former member who follows by hand at once, and keeps a newcomer waiting for approval', async function () {
    const former = fedify[1] as FedifyPeer;
    await former.follow(newGroup);
    await former.waitFor((a) => a.type === 'Accept' && a.actorId === newGroup, {
      what: 'Accept by the new group',
    });
    await newcomer.follow(newGroup);
    await waitUntil(
      async () => (await newGuild.store.members.getMember('club', newcomer.actorId))?.state === 'pending',
      {
        what: 'the pending request of the newcomer',
      },
    );
  });

  it('shares a post to the new group once per member server; the old group only points there', async function () {
    await moved();
    const former = fedify[1] as FedifyPeer;
    if ((await newGuild.store.members.getMember('club', former.actorId))?.state !== 'accepted') {
      await former.follow(newGroup);
      await waitUntil(
        async () => (await newGuild.store.members.getMember('club', former.actorId))?.state === 'accepted',
        { what: 'a former member in the new group' },
      );
    }
    const { createId } = await former.post({ to: [newGroup], content: '<p>Hello from the new place</p>' });
    const announced = (j: Record<string, unknown>) =>
      j.type === 'Announce' && (j.object as { id?: unknown } | undefined)?.id === createId;
    for (const m of movers)
      await waitUntil(() => m.received.some((a) => announced(a.json)), { what: 'the Announce at a server' });
    await drained(newGuild);
    for (const m of movers) expect(m.received.filter((a) => announced(a.json))).to.have.length(1);

    const stay = fedify[2] as FedifyPeer;
    const { noteId } = await stay.post({ to: [oldGroup], content: '<p>Anyone here?</p>' });
    const pointer = await stay.waitFor(
      (a) => a.type === 'Create' && a.actorId === oldGroup && JSON.stringify(a.json).includes(newGroup),
      { what: 'the pointer to the new group' },
    );
    expect(JSON.stringify(pointer.json)).to.contain('has moved');
    await drained(oldGuild);
    expect(await oldGuild.store.posts.getPost('club', noteId)).to.equal(null);
    const others = fedify.filter((f) => f !== stay);
    for (const f of others)
      expect(
        f.received.filter((a) => a.type === 'Announce' && JSON.stringify(a.json).includes(noteId)),
      ).to.deep.equal([]);
  });
});
