/** Token buckets: a burst, a steady refill, waits rounded up, refusals that take nothing, a bounded map. */
import { expect } from 'chai';
import { TokenBuckets } from '../../src/federation/token-bucket.ts';

describe('TokenBuckets', function () {
  let now: number;
  const buckets = (perSecond: number, burst: number, maxKeys?: number) =>
    new TokenBuckets({ perSecond, burst, now: () => now, ...(maxKeys ? { maxKeys } : {}) });
  beforeEach(function () {
    now = 1_000_000;
  });

  it('allows a burst, then one per refill period, and says how long to wait', function () {
    const b = buckets(2, 3);
    expect([b.tryTake('k'), b.tryTake('k'), b.tryTake('k')]).to.deep.equal([0, 0, 0]);
    expect(b.tryTake('k')).to.equal(1);
    expect(b.tryTake('other'), 'keys are apart').to.equal(0);
    now += 500;
    expect(b.tryTake('k')).to.equal(0);
    expect(b.tryTake('k')).to.equal(1);
    now += 10_000;
    expect(b.retryAfter('k')).to.equal(0);
    expect([b.tryTake('k'), b.tryTake('k'), b.tryTake('k'), b.tryTake('k')]).to.deep.equal([0, 0, 0, 1]);
  });

  it('lets take() go into debt, which lengthens the wait', function () {
    const b = buckets(1, 1);
    b.take('k');
    b.take('k');
    b.take('k');
    expect(b.retryAfter('k')).to.equal(3);
    now += 3000;
    expect(b.retryAfter('k')).to.equal(0);
  });

  it('never limits when the rate is 0', function () {
    const b = buckets(0, 0);
    for (let i = 0; i < 100; i++) expect(b.tryTake('k')).to.equal(0);
    expect(b.enabled).to.equal(false);
  });

  it('stays within its bound, forgetting full buckets first', function () {
    const b = buckets(1, 2, 10);
    b.take('busy');
    b.take('busy');
    for (let i = 0; i < 50; i++) {
      now += 5_000;
      b.take(`k${i}`);
      b.take('busy');
      b.take('busy');
    }
    expect(b.retryAfter('busy'), 'the busy key is remembered').to.be.above(0);
  });
});
