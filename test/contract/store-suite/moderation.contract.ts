import { expect } from 'chai';
import type {
  Ban,
  DomainPolicy,
  HeldPost,
  Moderator,
  Report,
} from '../../../src/storage/moderation.store.ts';
import { type StoreProvider, readAllPages } from './fixtures.ts';
import { describeAudit } from './audit.contract.ts';
import { describePostFlags } from './post-flags.contract.ts';

/** Rounds of the concurrency tests. */
const ROUNDS = 10;

const user = (n: number): string => `https://remote.example/users/u${String(n).padStart(3, '0')}`;

function moderator(groupName: string, actorId: string, addedAt = 1_000): Moderator {
  return { groupName, actorId, addedBy: 'admin', addedAt };
}

function ban(groupName: string, actorId: string, overrides: Partial<Ban> = {}): Ban {
  return { groupName, actorId, reason: 'spam', by: 'admin', createdAt: 1_000, expiresAt: null, ...overrides };
}

function policy(domain: string, kind: DomainPolicy['policy'] = 'block'): DomainPolicy {
  return { domain, policy: kind, reason: `policy of ${domain}`, createdAt: 1_000 };
}

function report(id: string, overrides: Partial<Report> = {}): Report {
  return {
    id,
    groupName: 'cats',
    reporterId: user(1),
    targetActorId: user(2),
    objectIds: [`https://remote.example/notes/${id}`, 'https://remote.example/notes/x'],
    reason: 'rude',
    flagId: `https://remote.example/flags/${id}`,
    state: 'open',
    createdAt: 1_000,
    resolvedAt: null,
    resolvedBy: null,
    ...overrides,
  };
}

function held(groupName: string, objectId: string, createdAt = 1_000): HeldPost {
  return {
    groupName,
    objectId,
    authorId: user(1),
    activityJson: JSON.stringify({ type: 'Create', object: { id: objectId, content: 'é "quoted"' } }),
    reason: 'first post',
    createdAt,
  };
}

/** The moderation part of the port: every repository of ModerationStore. */
export function describeModeration(store: StoreProvider): void {
  describe('moderators', () => {
    it('adds a moderator once, per group, and removes them once', async () => {
      const first = moderator('cats', user(1));
      expect(await store().moderators.addModerator(first)).to.equal(true);
      expect(await store().moderators.addModerator({ ...first, addedBy: user(9), addedAt: 5_000 })).to.equal(
        false,
      );
      expect(await store().moderators.listModerators('cats', null, 10)).to.deep.equal([first]);
      expect(await store().moderators.isModerator('cats', user(1))).to.equal(true);
      expect(await store().moderators.isModerator('dogs', user(1))).to.equal(false);
      expect(await store().moderators.isModerator('cats', user(2))).to.equal(false);
      expect(await store().moderators.removeModerator('cats', user(1))).to.equal(true);
      expect(await store().moderators.removeModerator('cats', user(1))).to.equal(false);
      expect(await store().moderators.isModerator('cats', user(1))).to.equal(false);
      expect(await store().moderators.countModerators('cats')).to.equal(0);
    });

    it('lists and counts moderators by addedAt then actorId, in pages of any size', async () => {
      const addedAt = [300, 100, 200, 100, 300, 100, 200];
      const all = addedAt.map((at, n) => moderator('cats', user(n), at));
      for (const m of all) await store().moderators.addModerator(m);
      await store().moderators.addModerator(moderator('dogs', user(50), 150));
      const expected = [...all].sort((a, b) => a.addedAt - b.addedAt || (a.actorId < b.actorId ? -1 : 1));
      expect(await store().moderators.countModerators('cats')).to.equal(all.length);
      expect(await store().moderators.countModerators('birds')).to.equal(0);
      for (const size of [1, 2, 100]) {
        const pages = await readAllPages<Moderator, { addedAt: number; actorId: string }>(
          size,
          (after, limit) => store().moderators.listModerators('cats', after, limit),
          (m) => ({ addedAt: m.addedAt, actorId: m.actorId }),
        );
        expect(pages, `pages of ${size}`).to.deep.equal(expected);
      }
    });
  });

  describe('bans', () => {
    it('puts, replaces and removes a ban', async () => {
      expect(await store().bans.getActiveBan('cats', user(1), 0)).to.equal(null);
      const first = ban('cats', user(1));
      await store().bans.putBan(first);
      expect(await store().bans.getActiveBan('cats', user(1), 2_000)).to.deep.equal(first);
      expect(await store().bans.getActiveBan('dogs', user(1), 2_000)).to.equal(null);
      const replaced = ban('cats', user(1), {
        reason: 'again',
        by: user(7),
        createdAt: 3_000,
        expiresAt: 9_000,
      });
      await store().bans.putBan(replaced);
      expect(await store().bans.listBans('cats', null, 10)).to.deep.equal([replaced]);
      expect(await store().bans.removeBan('cats', user(1))).to.equal(true);
      expect(await store().bans.removeBan('cats', user(1))).to.equal(false);
      expect(await store().bans.getActiveBan('cats', user(1), 3_000)).to.equal(null);
    });

    it('ends a ban at its expiresAt; a permanent ban never ends', async () => {
      const timed = ban('cats', user(1), { expiresAt: 5_000 });
      const permanent = ban('cats', user(2));
      await store().bans.putBan(timed);
      await store().bans.putBan(permanent);
      expect(await store().bans.getActiveBan('cats', user(1), 4_999)).to.deep.equal(timed);
      expect(await store().bans.getActiveBan('cats', user(1), 5_000)).to.equal(null);
      expect(await store().bans.getActiveBan('cats', user(1), 6_000)).to.equal(null);
      expect(await store().bans.getActiveBan('cats', user(2), 8_000_000_000_000)).to.deep.equal(permanent);
      // Expired bans are still listed until removed.
      expect((await store().bans.listBans('cats', null, 10)).map((b) => b.actorId)).to.deep.equal([
        user(1),
        user(2),
      ]);
    });

    it('tells whether an actor is banned from any group at a time', async () => {
      expect(await store().bans.hasActiveBan(user(1), 0)).to.equal(false);
      await store().bans.putBan(ban('dogs', user(2)));
      await store().bans.putBan(ban('cats', user(1), { expiresAt: 5_000 }));
      expect(await store().bans.hasActiveBan(user(1), 4_999)).to.equal(true);
      expect(await store().bans.hasActiveBan(user(1), 5_000)).to.equal(false);
      expect(await store().bans.hasActiveBan(user(3), 0)).to.equal(false);
      await store().bans.putBan(ban('dogs', user(1)));
      expect(await store().bans.hasActiveBan(user(1), 9_000_000)).to.equal(true);
      expect(await store().bans.removeBan('dogs', user(1))).to.equal(true);
      expect(await store().bans.hasActiveBan(user(1), 9_000_000)).to.equal(false);
      expect(await store().bans.hasActiveBan(user(2), 9_000_000)).to.equal(true);
    });

    it('lists the bans of a group by actorId, expired ones included, in pages of any size', async () => {
      const bans = [5, 1, 4, 2, 3].map((n) => ban('cats', user(n), { expiresAt: n % 2 === 0 ? 10 : null }));
      for (const b of bans) await store().bans.putBan(b);
      await store().bans.putBan(ban('dogs', user(0)));
      const expected = [...bans].sort((a, b) => (a.actorId < b.actorId ? -1 : 1));
      for (const size of [1, 2, 100]) {
        const pages = await readAllPages<Ban, string>(
          size,
          (after, limit) => store().bans.listBans('cats', after, limit),
          (b) => b.actorId,
        );
        expect(pages, `pages of ${size}`).to.deep.equal(expected);
      }
    });
  });

  describe('domain policies', () => {
    it('puts, replaces, reads and removes the policy of a domain', async () => {
      expect(await store().domains.getDomainPolicy('evil.example')).to.equal(null);
      await store().domains.putDomainPolicy(policy('evil.example', 'limit'));
      const replaced = { ...policy('evil.example', 'block'), reason: 'worse', createdAt: 2_000 };
      await store().domains.putDomainPolicy(replaced);
      expect(await store().domains.getDomainPolicy('evil.example')).to.deep.equal(replaced);
      expect(await store().domains.countDomainPolicies('limit')).to.equal(0);
      expect(await store().domains.countDomainPolicies('block')).to.equal(1);
      expect(await store().domains.removeDomainPolicy('evil.example')).to.equal(true);
      expect(await store().domains.removeDomainPolicy('evil.example')).to.equal(false);
      expect(await store().domains.getDomainPolicy('evil.example')).to.equal(null);
    });

    it('stores IP addresses and CIDR ranges as entries too', async () => {
      for (const domain of ['2001:db8::1', '2001:db8::/32', '10.0.0.0/8', '192.0.2.7']) {
        await store().domains.putDomainPolicy(policy(domain));
        expect(await store().domains.getDomainPolicy(domain)).to.deep.equal(policy(domain));
      }
      expect(await store().domains.countDomainPolicies('block')).to.equal(4);
    });

    it('lists policies by domain, of one kind or all, in pages of any size, and counts them', async () => {
      const kinds = ['block', 'limit', 'block', 'allow', 'block', 'limit'] as const;
      const all = kinds.map((kind, n) => policy(`d${(n * 7) % 6}.example`, kind));
      for (const p of all) await store().domains.putDomainPolicy(p);
      const byDomain = [...all].sort((a, b) => (a.domain < b.domain ? -1 : 1));
      for (const kind of [null, 'block', 'limit', 'allow'] as const) {
        const expected = byDomain.filter((p) => kind === null || p.policy === kind);
        if (kind !== null) expect(await store().domains.countDomainPolicies(kind)).to.equal(expected.length);
        for (const size of [1, 2, 100]) {
          const pages = await readAllPages<DomainPolicy, string>(
            size,
            (after, limit) => store().domains.listDomainPolicies(kind, after, limit),
            (p) => p.domain,
          );
          expect(pages, `${kind ?? 'all'} in pages of ${size}`).to.deep.equal(expected);
        }
      }
    });
  });

  describe('reports', () => {
    it('stores a report once and reads it back', async () => {
      const first = report('r1');
      const dm = report('r2', { targetActorId: null, objectIds: [], flagId: null });
      expect(await store().reports.putReport(first)).to.equal(true);
      expect(await store().reports.putReport({ ...first, reason: 'changed' })).to.equal(false);
      expect(await store().reports.putReport(dm)).to.equal(true);
      expect(await store().reports.getReport('r1')).to.deep.equal(first);
      expect(await store().reports.getReport('r2')).to.deep.equal(dm);
      expect(await store().reports.getReport('r3')).to.equal(null);
    });

    it('resolves an open report once, and moves it to the resolved list', async () => {
      await store().reports.putReport(report('r1'));
      expect(await store().reports.resolveReport('nope', user(5), 2_000)).to.equal(false);
      expect(await store().reports.resolveReport('r1', user(5), 2_000)).to.equal(true);
      expect(await store().reports.resolveReport('r1', user(6), 3_000)).to.equal(false);
      const resolved = { ...report('r1'), state: 'resolved', resolvedAt: 2_000, resolvedBy: user(5) };
      expect(await store().reports.getReport('r1')).to.deep.equal(resolved);
      expect(await store().reports.listReports('cats', 'open', null, 10)).to.deep.equal([]);
      expect(await store().reports.listReports('cats', 'resolved', null, 10)).to.deep.equal([resolved]);
    });

    it('lets exactly one of several concurrent resolutions win', async () => {
      // Several rounds: the first ones open the connections that let the later ones really run at once.
      for (let round = 0; round < ROUNDS; round++) {
        const id = `r${round}`;
        await store().reports.putReport(report(id));
        const results = await Promise.all(
          [1, 2, 3, 4, 5].map((n) => store().reports.resolveReport(id, user(n), 2_000 + n)),
        );
        expect(
          results.filter((won) => won),
          `winners of round ${round}`,
        ).to.have.length(1);
        const winner = results.indexOf(true) + 1;
        const stored = await store().reports.getReport(id);
        expect([stored?.state, stored?.resolvedBy, stored?.resolvedAt]).to.deep.equal([
          'resolved',
          user(winner),
          2_000 + winner,
        ]);
      }
    });

    it('lists the reports of a group in a state newest first, in pages of any size', async () => {
      const createdAt = [10, 30, 20, 30, 10, 30, 40];
      const open = createdAt.map((at, n) => report(`r${n}`, { createdAt: at }));
      for (const r of open) await store().reports.putReport(r);
      await store().reports.putReport(
        report('closed', { state: 'resolved', resolvedAt: 50, resolvedBy: 'admin' }),
      );
      await store().reports.putReport(report('other', { groupName: 'dogs' }));
      const expected = [...open].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
      for (const size of [1, 2, 100]) {
        const pages = await readAllPages<Report, { createdAt: number; id: string }>(
          size,
          (before, limit) => store().reports.listReports('cats', 'open', before, limit),
          (r) => ({ createdAt: r.createdAt, id: r.id }),
        );
        expect(pages, `pages of ${size}`).to.deep.equal(expected);
      }
      const resolved = await store().reports.listReports('cats', 'resolved', null, 10);
      expect(resolved.map((r) => r.id)).to.deep.equal(['closed']);
    });
  });

  describe('held posts', () => {
    it('holds a post once, and take returns it then removes it', async () => {
      const p = held('cats', 'https://remote.example/notes/1');
      expect(await store().held.holdPost(p)).to.equal(true);
      expect(await store().held.holdPost({ ...p, reason: 'changed' })).to.equal(false);
      expect(await store().held.holdPost({ ...p, groupName: 'dogs' })).to.equal(true);
      expect(await store().held.getHeldPost('cats', p.objectId)).to.deep.equal(p);
      expect(await store().held.takeHeldPost('cats', p.objectId)).to.deep.equal(p);
      expect(await store().held.takeHeldPost('cats', p.objectId)).to.equal(null);
      expect(await store().held.getHeldPost('cats', p.objectId)).to.equal(null);
      expect(await store().held.getHeldPost('dogs', p.objectId)).to.deep.equal({ ...p, groupName: 'dogs' });
      expect(await store().held.holdPost(p)).to.equal(true);
    });

    it('gives a held post to only one of several concurrent takes', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const p = held('cats', `https://remote.example/notes/${round}`);
        await store().held.holdPost(p);
        const taken = await Promise.all(
          [1, 2, 3, 4, 5].map(() => store().held.takeHeldPost('cats', p.objectId)),
        );
        expect(
          taken.filter((t) => t !== null),
          `takers of round ${round}`,
        ).to.deep.equal([p]);
      }
    });

    it('lists the held posts of a group oldest first, in pages of any size', async () => {
      const createdAt = [30, 10, 20, 10, 30, 10];
      const all = createdAt.map((at, n) => held('cats', `https://remote.example/notes/${n}`, at));
      for (const p of all) await store().held.holdPost(p);
      await store().held.holdPost(held('dogs', 'https://remote.example/notes/d', 15));
      const expected = [...all].sort(
        (a, b) => a.createdAt - b.createdAt || (a.objectId < b.objectId ? -1 : 1),
      );
      for (const size of [1, 2, 100]) {
        const pages = await readAllPages<HeldPost, { createdAt: number; objectId: string }>(
          size,
          (after, limit) => store().held.listHeldPosts('cats', after, limit),
          (p) => ({ createdAt: p.createdAt, objectId: p.objectId }),
        );
        expect(pages, `pages of ${size}`).to.deep.equal(expected);
      }
    });
  });

  describeAudit(store);
  describePostFlags(store);
}
