import { expect } from 'chai';
import { clientKey } from '../../src/http/connection-limits.ts';

describe('clientKey', function () {
  it('is the IPv4 address, IPv4-mapped IPv6 included', function () {
    expect(clientKey('203.0.113.7')).to.equal('203.0.113.7');
    expect(clientKey('::ffff:203.0.113.7')).to.equal('203.0.113.7');
    expect(clientKey('::FFFF:203.0.113.7')).to.equal('203.0.113.7');
  });

  it('is the /64 network of an IPv6 address, whatever its spelling', function () {
    const key = '2001:db8:0:1::/64';
    expect(clientKey('2001:db8:0:1::1')).to.equal(key);
    expect(clientKey('2001:0db8:0000:0001:ffff:0:0:9')).to.equal(key);
    expect(clientKey('2001:DB8:0:1:abcd::1')).to.equal(key);
    expect(clientKey('fe80::1%eth0')).to.equal('fe80:0:0:0::/64');
    expect(clientKey('::1')).to.equal('0:0:0:0::/64');
    expect(clientKey('2001:db8:0:2::1')).not.to.equal(key);
  });
});
