import { expect } from 'chai';
import type { PeerSoftware } from '../../../src/storage/peer-software.repository.ts';
import type { StoreProvider } from './fixtures.ts';

const A = 'https://a.example';
const B = 'https://b.example';
const C = 'http://c.example:8080';

const byOrigin = (list: PeerSoftware[]): PeerSoftware[] =>
  [...list].sort((x, y) => (x.origin < y.origin ? -1 : x.origin > y.origin ? 1 : 0));

/** The software of other servers (PeerSoftwareRepository). */
export function describePeerSoftware(store: StoreProvider): void {
  describe('peer software', () => {
    it('notes new origins as unknown and due, and leaves known ones as they are', async () => {
      expect(await store().peers.noteOrigins([A, B, A], 100)).to.equal(2);
      const learned: PeerSoftware = {
        origin: A,
        name: 'lemmy',
        version: '0.19.20',
        learnedAt: 150,
        refreshAt: 900,
      };
      await store().peers.putSoftware(learned);
      expect(await store().peers.noteOrigins([A, B, C], 200)).to.equal(1);
      expect(byOrigin(await store().peers.getSoftware([A, B, C, 'https://never.example']))).to.deep.equal(
        byOrigin([
          learned,
          { origin: B, name: null, version: null, learnedAt: null, refreshAt: 100 },
          { origin: C, name: null, version: null, learnedAt: null, refreshAt: 200 },
        ]),
      );
      expect(await store().peers.noteOrigins([], 300)).to.equal(0);
      expect(await store().peers.getSoftware([])).to.deep.equal([]);
    });

    it('replaces a record, a failed read keeping the name learned before', async () => {
      await store().peers.putSoftware({
        origin: A,
        name: 'mastodon',
        version: '4.5.0',
        learnedAt: 10,
        refreshAt: 20,
      });
      const next: PeerSoftware = {
        origin: A,
        name: 'mastodon',
        version: '4.5.0',
        learnedAt: 10,
        refreshAt: 99,
      };
      await store().peers.putSoftware(next);
      expect(await store().peers.getSoftware([A])).to.deep.equal([next]);
    });

    it('lists the records due, the longest due first, up to the limit', async () => {
      await store().peers.putSoftware({
        origin: A,
        name: 'snac',
        version: null,
        learnedAt: 1,
        refreshAt: 50,
      });
      await store().peers.noteOrigins([B, C], 30);
      await store().peers.putSoftware({
        origin: 'https://d.example',
        name: 'x',
        version: null,
        learnedAt: 1,
        refreshAt: 500,
      });
      const due = await store().peers.listDue(100, 10);
      expect(due.map((s) => s.origin)).to.deep.equal([C, B, A]);
      expect((await store().peers.listDue(100, 2)).map((s) => s.origin)).to.deep.equal([C, B]);
      expect(await store().peers.listDue(29, 10)).to.deep.equal([]);
      expect(await store().peers.listDue(100, 0)).to.deep.equal([]);
    });

    it('reads many origins at once', async () => {
      const origins = Array.from({ length: 1000 }, (_, i) => `https://h${i}.example`);
      expect(await store().peers.noteOrigins(origins, 5)).to.equal(1000);
      const got = await store().peers.getSoftware(origins);
      expect(got).to.have.length(1000);
      expect(new Set(got.map((s) => s.origin))).to.deep.equal(new Set(origins));
    });
  });
}
