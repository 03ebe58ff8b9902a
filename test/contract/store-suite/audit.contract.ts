import { expect } from 'chai';
import type { AuditEntry, AuditScope } from '../../../src/storage/moderation.store.ts';
import { type StoreProvider, readAllPages } from './fixtures.ts';

const user = (n: number): string => `https://remote.example/users/u${String(n).padStart(3, '0')}`;

function entry(id: string, groupName: string | null, at: number): AuditEntry {
  return { id, groupName, actorId: 'admin', action: 'ban', target: user(1), reason: 'spam', at };
}

/** The moderation audit log (AuditRepository). */
export function describeAudit(store: StoreProvider): void {
  describe('audit log', () => {
    it('records an id once', async () => {
      const first = entry('a1', 'cats', 1_000);
      expect(await store().audit.appendAudit(first)).to.equal(true);
      expect(await store().audit.appendAudit({ ...first, reason: 'again', at: 2_000 })).to.equal(false);
      expect(await store().audit.listAudit({ all: true }, null, 10)).to.deep.equal([first]);
    });

    it('gives an entry by its id, null for an id never recorded', async () => {
      const e = entry('g1', null, 5_000);
      expect(await store().audit.getAudit('g1')).to.equal(null);
      await store().audit.appendAudit(e);
      await store().audit.appendAudit(entry('g2', 'cats', 6_000));
      expect(await store().audit.getAudit('g1')).to.deep.equal(e);
      expect(await store().audit.getAudit('g3')).to.equal(null);
    });

    it('lists the entries of a group, of the instance or of everything newest first, in pages', async () => {
      const at = [10, 30, 20, 30, 10, 40, 30, 20];
      const groups = ['cats', null, 'cats', 'dogs', null, 'cats', 'cats', null];
      const all = at.map((t, n) => entry(`e${n}`, groups[n] ?? null, t));
      for (const e of all) await store().audit.appendAudit(e);
      const newestFirst = [...all].sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1));
      const cases: [AuditScope, AuditEntry[]][] = [
        [{ group: 'cats' }, newestFirst.filter((e) => e.groupName === 'cats')],
        [{ instance: true }, newestFirst.filter((e) => e.groupName === null)],
        [{ all: true }, newestFirst],
        [{ group: 'birds' }, []],
      ];
      for (const [scope, expected] of cases) {
        for (const size of [1, 2, 100]) {
          const pages = await readAllPages<AuditEntry, { at: number; id: string }>(
            size,
            (before, limit) => store().audit.listAudit(scope, before, limit),
            (e) => ({ at: e.at, id: e.id }),
          );
          expect(pages, `${JSON.stringify(scope)} in pages of ${size}`).to.deep.equal(expected);
        }
      }
    });

    it('tells a group named all (or instance) apart from every entry and from the instance', async () => {
      const all = [
        entry('e1', 'all', 10),
        entry('e2', 'cats', 20),
        entry('e3', null, 30),
        entry('e4', 'instance', 40),
      ];
      for (const e of all) await store().audit.appendAudit(e);
      const ids = async (scope: AuditScope): Promise<string[]> =>
        (await store().audit.listAudit(scope, null, 10)).map((e) => e.id);
      expect(await ids({ group: 'all' })).to.deep.equal(['e1']);
      expect(await ids({ group: 'instance' })).to.deep.equal(['e4']);
      expect(await ids({ instance: true })).to.deep.equal(['e3']);
      expect(await ids({ all: true })).to.deep.equal(['e4', 'e3', 'e2', 'e1']);
    });
  });
}
