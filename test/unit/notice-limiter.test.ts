/** How often non-members are answered: per sender and group, per sender, per group, in fixed windows. */
import { expect } from 'chai';
import { WindowNoticeLimiter } from '../../src/groups/notice-limiter.ts';

const HOUR = 3_600_000;
const T = Date.UTC(2026, 0, 1);

describe('notice limiter', function () {
  it('allows one notice per sender and group a day', function () {
    const l = new WindowNoticeLimiter();
    expect(l.allow('g', 'a', T)).to.equal(true);
    expect(l.allow('g', 'a', T + HOUR)).to.equal(false);
    expect(l.allow('g', 'a', T + 24 * HOUR)).to.equal(true);
  });

  it('allows a few notices an hour per sender over all groups, and per group over all senders', function () {
    const l = new WindowNoticeLimiter({
      perSenderAndGroup: 10,
      pairWindowMs: HOUR,
      perSenderPerHour: 2,
      perGroupPerHour: 3,
    });
    expect([l.allow('g1', 'a', T), l.allow('g2', 'a', T), l.allow('g3', 'a', T)]).to.deep.equal([
      true,
      true,
      false,
    ]);
    // g1 has one notice; two more senders fill its hour.
    expect([l.allow('g1', 'b', T), l.allow('g1', 'c', T), l.allow('g1', 'd', T)]).to.deep.equal([
      true,
      true,
      false,
    ]);
    // A refused notice is not counted: the next hour starts afresh.
    expect(l.allow('g1', 'd', T + HOUR)).to.equal(true);
    expect(l.allow('g3', 'a', T + HOUR)).to.equal(true);
  });
});
