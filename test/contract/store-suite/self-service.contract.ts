import { expect } from 'chai';
import type { GroupRequest, OneTimeCode, Session } from '../../../src/storage/self-service.store.ts';
import type { StoreProvider } from './fixtures.ts';

const alice = 'https://a.example/users/alice';
const bob = 'https://b.example/users/bob';

function request(id: string, overrides: Partial<GroupRequest> = {}): GroupRequest {
  return {
    id,
    name: `name_${id}`,
    title: `Title ${id}`,
    requesterId: alice,
    requesterHost: 'a.example',
    state: 'pending',
    createdAt: 1_000,
    decidedAt: null,
    decidedBy: null,
    reason: '',
    ...overrides,
  };
}

function code(hash: string, overrides: Partial<OneTimeCode> = {}): OneTimeCode {
  return {
    hash,
    purpose: 'sign-in',
    actorId: alice,
    subject: '',
    createdAt: 1_000,
    expiresAt: 2_000,
    usedAt: null,
    ...overrides,
  };
}

function session(hash: string, overrides: Partial<Session> = {}): Session {
  return { hash, actorId: alice, createdAt: 1_000, expiresAt: 10_000, ...overrides };
}

export function describeSelfService(store: StoreProvider): void {
  describe('owners', () => {
    it('sets, replaces, reads and clears the owner of a group', async () => {
      const s = store();
      expect(await s.owners.getOwner('cats')).to.equal(null);
      await s.owners.setOwner({ groupName: 'cats', actorId: alice, since: 1 });
      await s.owners.setOwner({ groupName: 'dogs', actorId: alice, since: 2 });
      expect(await s.owners.getOwner('cats')).to.deep.equal({ groupName: 'cats', actorId: alice, since: 1 });
      await s.owners.setOwner({ groupName: 'cats', actorId: bob, since: 3 });
      expect(await s.owners.getOwner('cats')).to.deep.equal({ groupName: 'cats', actorId: bob, since: 3 });
      expect(await s.owners.clearOwner('cats')).to.equal(true);
      expect(await s.owners.clearOwner('cats')).to.equal(false);
      expect(await s.owners.getOwner('cats')).to.equal(null);
      expect((await s.owners.getOwner('dogs'))?.actorId).to.equal(alice);
    });

    it('lists the groups an actor moderates, by name, paged', async () => {
      const s = store();
      for (const g of ['c', 'a', 'b', 'd'])
        await s.moderators.addModerator({ groupName: g, actorId: alice, addedBy: 'admin', addedAt: 1 });
      await s.moderators.addModerator({ groupName: 'e', actorId: bob, addedBy: 'admin', addedAt: 1 });
      expect(await s.moderators.listGroupsOfModerator(alice, null, 3)).to.deep.equal(['a', 'b', 'c']);
      expect(await s.moderators.listGroupsOfModerator(alice, 'c', 3)).to.deep.equal(['d']);
      expect(await s.moderators.listGroupsOfModerator(bob, null, 10)).to.deep.equal(['e']);
      expect(await s.moderators.listGroupsOfModerator('https://x.example/nobody', null, 10)).to.deep.equal(
        [],
      );
    });
  });

  describe('group requests', () => {
    it('stores a request once and reads it back', async () => {
      const s = store();
      expect(await s.groupRequests.putGroupRequest(request('r1'))).to.equal(true);
      expect(await s.groupRequests.putGroupRequest(request('r1', { title: 'other' }))).to.equal(false);
      expect(await s.groupRequests.getGroupRequest('r1')).to.deep.equal(request('r1'));
      expect(await s.groupRequests.getGroupRequest('nope')).to.equal(null);
    });

    it('finds the pending request of a name, and lists a state oldest first, paged', async () => {
      const s = store();
      await s.groupRequests.putGroupRequest(request('r3', { name: 'rust', createdAt: 3_000 }));
      await s.groupRequests.putGroupRequest(
        request('r1', { name: 'rust', createdAt: 1_000, state: 'created' }),
      );
      await s.groupRequests.putGroupRequest(request('r2', { createdAt: 2_000 }));
      await s.groupRequests.putGroupRequest(request('r4', { createdAt: 2_000 }));
      expect((await s.groupRequests.getPendingByName('rust'))?.id).to.equal('r3');
      expect(await s.groupRequests.getPendingByName('go')).to.equal(null);
      const first = await s.groupRequests.listGroupRequests('pending', null, 2);
      expect(first.map((r) => r.id)).to.deep.equal(['r2', 'r4']);
      const last = first[1]!;
      const next = await s.groupRequests.listGroupRequests(
        'pending',
        { createdAt: last.createdAt, id: last.id },
        2,
      );
      expect(next.map((r) => r.id)).to.deep.equal(['r3']);
      expect((await s.groupRequests.listGroupRequests('created', null, 10)).map((r) => r.id)).to.deep.equal([
        'r1',
      ]);
    });

    it('decides a pending request once; a decided or absent one is left as it is', async () => {
      const s = store();
      await s.groupRequests.putGroupRequest(request('r1'));
      await s.groupRequests.putGroupRequest(request('r2', { state: 'created' }));
      const d = { state: 'approved' as const, by: 'admin', at: 5_000, reason: 'ok' };
      const both = await Promise.all([
        s.groupRequests.decideGroupRequest('r1', d),
        s.groupRequests.decideGroupRequest('r1', { ...d, state: 'rejected' }),
      ]);
      expect(both.filter(Boolean)).to.have.length(1);
      const decided = await s.groupRequests.getGroupRequest('r1');
      expect(decided?.decidedAt).to.equal(5_000);
      expect(decided?.decidedBy).to.equal('admin');
      expect(decided?.state).to.equal(both[0] ? 'approved' : 'rejected');
      expect(await s.groupRequests.decideGroupRequest('r2', d)).to.equal(false);
      expect((await s.groupRequests.getGroupRequest('r2'))?.state).to.equal('created');
      expect(await s.groupRequests.decideGroupRequest('absent', d)).to.equal(false);
    });

    it('counts the requests of a requester and of a host since a time', async () => {
      const s = store();
      await s.groupRequests.putGroupRequest(request('r1', { createdAt: 1_000 }));
      await s.groupRequests.putGroupRequest(request('r2', { createdAt: 2_000, state: 'rejected' }));
      await s.groupRequests.putGroupRequest(
        request('r3', { createdAt: 3_000, requesterId: 'https://a.example/users/carol' }),
      );
      await s.groupRequests.putGroupRequest(
        request('r4', { createdAt: 3_000, requesterId: bob, requesterHost: 'b.example' }),
      );
      expect(await s.groupRequests.countGroupRequestsSince({ requesterId: alice }, 0)).to.equal(2);
      expect(await s.groupRequests.countGroupRequestsSince({ requesterId: alice }, 2_000)).to.equal(1);
      expect(await s.groupRequests.countGroupRequestsSince({ requesterHost: 'a.example' }, 2_000)).to.equal(
        2,
      );
      expect(await s.groupRequests.countGroupRequestsSince({ requesterHost: 'b.example' }, 0)).to.equal(1);
    });
  });

  describe('one-time codes', () => {
    it('uses a code once, before it expires', async () => {
      const s = store();
      expect(await s.codes.putCode(code('h1'))).to.equal(true);
      expect(await s.codes.putCode(code('h1'))).to.equal(false);
      const used = await s.codes.useCode('h1', 1_500);
      expect(used).to.deep.equal({ ...code('h1'), usedAt: 1_500 });
      expect(await s.codes.useCode('h1', 1_600)).to.equal(null);
      await s.codes.putCode(code('h2'));
      expect(await s.codes.useCode('h2', 2_000)).to.equal(null);
      expect(await s.codes.useCode('absent', 1_000)).to.equal(null);
    });

    it('gives a code to exactly one of concurrent uses', async () => {
      const s = store();
      await s.codes.putCode(code('h1', { purpose: 'delete-group', subject: 'cats' }));
      const uses = await Promise.all(Array.from({ length: 5 }, () => s.codes.useCode('h1', 1_100)));
      const won = uses.filter((u) => u !== null);
      expect(won).to.have.length(1);
      expect(won[0]?.subject).to.equal('cats');
      expect(won[0]?.purpose).to.equal('delete-group');
    });

    it('purges expired codes, used or not, in batches', async () => {
      const s = store();
      await s.codes.putCode(code('old1', { expiresAt: 100 }));
      await s.codes.putCode(code('old2', { expiresAt: 200, usedAt: 150 }));
      await s.codes.putCode(code('live', { expiresAt: 5_000 }));
      expect(await s.codes.purgeCodes(1_000, 1)).to.equal(1);
      expect(await s.codes.purgeCodes(1_000, 10)).to.equal(1);
      expect(await s.codes.purgeCodes(1_000, 10)).to.equal(0);
      expect(await s.codes.useCode('live', 1_000)).to.not.equal(null);
    });
  });

  describe('sessions', () => {
    it('keeps a session until it expires or ends', async () => {
      const s = store();
      await s.sessions.putSession(session('s1'));
      expect(await s.sessions.getSession('s1', 5_000)).to.deep.equal(session('s1'));
      expect(await s.sessions.getSession('s1', 10_000)).to.equal(null);
      expect(await s.sessions.deleteSession('s1')).to.equal(true);
      expect(await s.sessions.deleteSession('s1')).to.equal(false);
      expect(await s.sessions.getSession('s1', 5_000)).to.equal(null);
    });

    it("ends every session of one actor and none of another's", async () => {
      const s = store();
      await s.sessions.putSession(session('s1'));
      await s.sessions.putSession(session('s2'));
      await s.sessions.putSession(session('s3', { actorId: bob }));
      expect(await s.sessions.deleteSessionsOf(alice)).to.equal(2);
      expect(await s.sessions.getSession('s1', 5_000)).to.equal(null);
      expect(await s.sessions.getSession('s3', 5_000)).to.not.equal(null);
    });

    it('purges expired sessions in batches', async () => {
      const s = store();
      await s.sessions.putSession(session('s1', { expiresAt: 100 }));
      await s.sessions.putSession(session('s2', { expiresAt: 200 }));
      await s.sessions.putSession(session('s3', { expiresAt: 5_000 }));
      expect(await s.sessions.purgeSessions(1_000, 1)).to.equal(1);
      expect(await s.sessions.purgeSessions(1_000, 10)).to.equal(1);
      expect(await s.sessions.getSession('s3', 1_000)).to.not.equal(null);
    });
  });
}
