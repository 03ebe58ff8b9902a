import { expect } from 'chai';
import type { HostStatus } from '../../../src/storage/moderation.store.ts';
import { type StoreProvider, readAllPages } from './fixtures.ts';

const DAY_MS = 86_400_000;
/** Noon UTC on 2026-01-01. */
const T0 = Date.UTC(2026, 0, 1, 12);
/** Rounds of the concurrency test. */
const ROUNDS = 10;

/** Noon UTC, `n` days after 2026-01-01 (negative: before). */
const day = (n: number): number => T0 + n * DAY_MS;
/** The UTC date of {@link day}(n). */
const date = (n: number): string => new Date(day(n)).toISOString().slice(0, 10);

/** Delivery health per host (HostRepository). */
export function describeHosts(store: StoreProvider): void {
  describe('host delivery health', () => {
    it('records the first failure of a host, and getHost reads what it returned', async () => {
      const first = await store().hosts.recordFailure('a.example', T0);
      const expected: HostStatus = {
        host: 'a.example',
        firstFailureAt: T0,
        lastFailureAt: T0,
        consecutiveFailures: 1,
        failureDays: ['2026-01-01'],
      };
      expect(first).to.deep.equal(expected);
      expect(await store().hosts.getHost('a.example')).to.deep.equal(expected);
      expect(await store().hosts.getHost('b.example')).to.equal(null);
      expect(await store().hosts.getHost('A.example')).to.equal(null);
    });

    it('counts every failure and each UTC day with failures once', async () => {
      const times = [
        Date.UTC(2026, 0, 1, 0, 0, 0, 0),
        Date.UTC(2026, 0, 1, 23, 59, 59, 999),
        Date.UTC(2026, 0, 2, 0, 0, 0, 0),
        Date.UTC(2026, 0, 2, 8),
        Date.UTC(2026, 0, 4, 23),
      ];
      let last: HostStatus | undefined;
      for (const at of times) last = await store().hosts.recordFailure('a.example', at);
      const expected: HostStatus = {
        host: 'a.example',
        firstFailureAt: times[0] ?? 0,
        lastFailureAt: times[4] ?? 0,
        consecutiveFailures: 5,
        failureDays: ['2026-01-01', '2026-01-02', '2026-01-04'],
      };
      expect(last).to.deep.equal(expected);
      expect(await store().hosts.getHost('a.example')).to.deep.equal(expected);
      await store().hosts.recordFailure('b.example', T0);
      expect(await store().hosts.getHost('a.example')).to.deep.equal(expected);
    });

    it('keeps the failure days of the last 14 days only, and counts failures reported late', async () => {
      for (let n = 0; n < 20; n++) if (n !== 12) await store().hosts.recordFailure('a.example', day(n));
      const window = (days: number[]): string[] => days.map(date);
      const kept = [6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19];
      expect(await store().hosts.getHost('a.example')).to.deep.equal({
        host: 'a.example',
        firstFailureAt: day(0),
        lastFailureAt: day(19),
        consecutiveFailures: 19,
        failureDays: window(kept),
      });
      // A late failure inside the window fills its day in; the latest failure stays the latest.
      const late = await store().hosts.recordFailure('a.example', day(12));
      expect(late.failureDays).to.deep.equal(window([...kept, 12].sort((a, b) => a - b)));
      expect(late.lastFailureAt).to.equal(day(19));
      expect(late.consecutiveFailures).to.equal(20);
      // One older than the window counts, but its day is not kept; one before the first moves firstFailureAt.
      const older = await store().hosts.recordFailure('a.example', day(-3));
      expect(older).to.deep.equal({ ...late, firstFailureAt: day(-3), consecutiveFailures: 21 });
      // A newer failure moves the window on.
      const newer = await store().hosts.recordFailure('a.example', day(21));
      expect(newer.failureDays).to.deep.equal(window([8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 21]));
      expect(await store().hosts.getHost('a.example')).to.deep.equal(newer);
    });

    it('forgets the failures before a success, not a host that failed again after it', async () => {
      await store().hosts.recordFailure('a.example', day(0));
      await store().hosts.recordFailure('a.example', day(1));
      await store().hosts.recordFailure('b.example', day(0));
      await store().hosts.recordSuccess('a.example', day(1) - 1);
      expect((await store().hosts.getHost('a.example'))?.consecutiveFailures).to.equal(2);
      await store().hosts.recordSuccess('a.example', day(1));
      expect(await store().hosts.getHost('a.example')).to.equal(null);
      await store().hosts.recordSuccess('a.example', day(2));
      await store().hosts.recordSuccess('never.example', day(2));
      expect(await store().hosts.getHost('never.example')).to.equal(null);
      expect((await store().hosts.getHost('b.example'))?.consecutiveFailures).to.equal(1);
      // The next failure starts afresh.
      expect(await store().hosts.recordFailure('a.example', day(3))).to.deep.equal({
        host: 'a.example',
        firstFailureAt: day(3),
        lastFailureAt: day(3),
        consecutiveFailures: 1,
        failureDays: [date(3)],
      });
    });

    it('lists the hosts with at least N failure days by host, in pages of any size', async () => {
      const distinctDays: [string, number][] = [
        ['c.example', 3],
        ['a.example', 1],
        ['e.example', 7],
        ['b.example', 7],
        ['d.example', 8],
        ['f.example', 2],
        ['healthy.example', 9],
      ];
      for (const [host, days] of distinctDays) {
        // Two failures a day, so that failures and days differ.
        for (let n = 0; n < days; n++) {
          await store().hosts.recordFailure(host, day(n));
          await store().hosts.recordFailure(host, day(n) + 1_000);
        }
      }
      await store().hosts.recordSuccess('healthy.example', day(100));
      const statuses: HostStatus[] = [];
      for (const [host] of distinctDays) {
        const status = await store().hosts.getHost(host);
        if (status) statuses.push(status);
      }
      statuses.sort((a, b) => (a.host < b.host ? -1 : 1));
      expect(statuses.map((s) => s.host)).to.deep.equal([
        'a.example',
        'b.example',
        'c.example',
        'd.example',
        'e.example',
        'f.example',
      ]);
      for (const min of [0, 1, 3, 7, 8, 9]) {
        const expected = statuses.filter((s) => s.failureDays.length >= min);
        for (const size of [1, 2, 100]) {
          const pages = await readAllPages<HostStatus, string>(
            size,
            (after, limit) => store().hosts.listFailingHosts(min, after, limit),
            (s) => s.host,
          );
          expect(pages, `at least ${min} days in pages of ${size}`).to.deep.equal(expected);
        }
      }
      const afterC = await store().hosts.listFailingHosts(7, 'c.example', 10);
      expect(afterC.map((s) => s.host)).to.deep.equal(['d.example', 'e.example']);
      expect(await store().hosts.listFailingHosts(1, 'f.example', 10)).to.deep.equal([]);
      expect(await store().hosts.listFailingHosts(1, null, 0)).to.deep.equal([]);
    });

    it('never fails when several workers record failures of one host at once', async () => {
      const workers = [0, 1, 2, 3, 4, 5];
      // Several rounds: the first ones open the connections that let the later ones really run at once.
      for (let round = 0; round < ROUNDS; round++) {
        const host = `r${round}.example`;
        // The first batch races to insert the host, the second to change it.
        for (const batch of [0, 1]) {
          const results = await Promise.all(
            workers.map((n) => store().hosts.recordFailure(host, T0 + batch * 100 + n)),
          );
          for (const result of results) expect(result.host).to.equal(host);
        }
        const stored = await store().hosts.getHost(host);
        expect(stored?.failureDays, `days of round ${round}`).to.deep.equal(['2026-01-01']);
        const count = stored?.consecutiveFailures ?? 0;
        if (store().kind === 'sqlite') {
          expect(stored, `round ${round}`).to.deep.equal({
            host,
            firstFailureAt: T0,
            lastFailureAt: T0 + 105,
            consecutiveFailures: 12,
            failureDays: ['2026-01-01'],
          });
        } else {
          // FerretDB may lose concurrent increments (the port allows it); each batch leaves at least one.
          expect(count, `failures of round ${round}`).to.be.within(2, 12);
        }
      }
    });
  });
}
