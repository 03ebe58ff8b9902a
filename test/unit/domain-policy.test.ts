/**
 * One canonical form per host and one matcher for every domain policy check: sub-domains, trailing dots, IDNA,
 * IPv4-mapped IPv6, IPv6 literals and CIDR ranges cannot sidestep a block.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomainPolicies } from '../../src/federation/domain-policy.ts';
import { DomainRules, canonicalAuthority, canonicalHost } from '../../src/activitypub/hosts.ts';
import { canonicalIp, inIpRange, parseIpRange } from '../../src/activitypub/ip-address.ts';
import { InstanceService, normalizeDomain } from '../../src/groups/instance.service.ts';
import type { DomainPolicy, DomainPolicyKind } from '../../src/storage/moderation.store.ts';
import { openStore } from '../../src/storage/open-store.ts';
import type { Store } from '../../src/storage/store.ts';

const entry = (domain: string, policy: DomainPolicyKind = 'block'): DomainPolicy => ({
  domain,
  policy,
  reason: '',
  createdAt: 1,
});

describe('host canonical form', function () {
  it('lowercases, applies IDNA, drops the port and trailing dots', function () {
    expect(canonicalHost('https://EVIL.Example./users/a')).to.equal('evil.example');
    expect(canonicalHost('evil.example.:8443')).to.equal('evil.example');
    expect(canonicalHost('Bücher.Example')).to.equal('xn--bcher-kva.example');
    expect(canonicalHost('a\u3002b.example')).to.equal('a.b.example');
    expect(canonicalHost('http:// bad')).to.equal(null);
  });

  it('writes every IP address one way', function () {
    expect(canonicalHost('http://[::ffff:127.0.0.2]:8080/x')).to.equal('127.0.0.2');
    expect(canonicalHost('[::ffff:7f00:2]')).to.equal('127.0.0.2');
    expect(canonicalHost('http://[::203.0.113.9]/')).to.equal('203.0.113.9');
    expect(canonicalHost('http://0x7f.1/')).to.equal('127.0.0.1');
    expect(canonicalHost('http://[2001:DB8:0:0:0:0:0:1]/')).to.equal('2001:db8::1');
    expect(canonicalHost('2001:0db8::0001')).to.equal('2001:db8::1');
    expect(canonicalIp('::1')).to.equal('::1');
    expect(canonicalIp('1:0:0:1:0:0:0:1')).to.equal('1:0:0:1::1');
    expect(canonicalIp('fe80::1%eth0')).to.equal(null);
    expect(canonicalAuthority(new URL('http://[::ffff:127.0.0.2]:81/'))).to.equal('127.0.0.2:81');
    expect(canonicalAuthority(new URL('http://[2001:db8::1]:81/'))).to.equal('[2001:db8::1]:81');
  });

  it('parses CIDR ranges to their network address', function () {
    const v4 = parseIpRange('10.1.2.3/8');
    expect(v4 && inIpRange('10.200.0.1', v4)).to.equal(true);
    expect(v4 && inIpRange('11.0.0.1', v4)).to.equal(false);
    expect(v4 && inIpRange('::ffff:10.0.0.1', v4)).to.equal(true);
    const v6 = parseIpRange('2001:db8::/32');
    expect(v6 && inIpRange('2001:db8:ffff::1', v6)).to.equal(true);
    expect(v6 && inIpRange('2001:db9::1', v6)).to.equal(false);
    expect(parseIpRange('10.0.0.0/33')).to.equal(null);
    expect(parseIpRange('::ffff:10.0.0.0/104')?.family).to.equal(4);
  });
});

describe('policy entries typed by the admin', function () {
  const norm = (text: string) => {
    const r = normalizeDomain(text);
    return r.ok ? r.value : `invalid: ${r.error.type}`;
  };

  it('keeps one canonical form of names, addresses and ranges', function () {
    expect(norm(' Blocked.Example. ')).to.equal('blocked.example');
    expect(norm('bücher.example')).to.equal('xn--bcher-kva.example');
    expect(norm('[::ffff:127.0.0.2]')).to.equal('127.0.0.2');
    expect(norm('2001:DB8::1')).to.equal('2001:db8::1');
    expect(norm('10.9.8.7/8')).to.equal('10.0.0.0/8');
    expect(norm('2001:db8:1::/32')).to.equal('2001:db8::/32');
    expect(norm('192.0.2.1/32')).to.equal('192.0.2.1');
  });

  it('still refuses schemes, ports, paths, handles and wildcards', function () {
    for (const bad of ['https://x.example', 'x.example:443', 'x.example/path', 'a@x.example', '*.x.example'])
      expect(norm(bad), bad).to.equal('invalid: invalid-domain');
    expect(norm('10.0.0.0/40')).to.equal('invalid: invalid-domain');
  });
});

describe('the domain matcher', function () {
  const rules = new DomainRules([
    entry('blocked.example'),
    entry('good.blocked.example', 'limit'),
    entry('127.0.0.2'),
    entry('10.0.0.0/8', 'limit'),
    entry('10.1.0.0/16'),
    entry('2001:db8::/32'),
    entry('allowed.example', 'allow'),
  ]);
  const restriction = (host: string) => rules.ruleFor(host).restriction?.domain ?? null;

  it('covers sub-domains, trailing dots and any case of a blocked domain', function () {
    for (const host of [
      'blocked.example',
      'sub.blocked.example',
      'a.b.sub.blocked.example:8443',
      'blocked.example.',
      'https://BLOCKED.example./users/x',
    ])
      expect(restriction(host), host).to.equal('blocked.example');
    expect(restriction('notblocked.example')).to.equal(null);
    expect(restriction('blocked.example.org')).to.equal(null);
  });

  it('lets the most specific entry win, as Mastodon does', function () {
    expect(rules.ruleFor('x.good.blocked.example').restriction?.policy).to.equal('limit');
    expect(rules.ruleFor('10.2.3.4').restriction?.policy).to.equal('limit');
    expect(rules.ruleFor('10.1.3.4').restriction?.policy).to.equal('block');
  });

  it('matches IP literals in every form, and ranges', function () {
    expect(restriction('http://[::ffff:127.0.0.2]:9000/')).to.equal('127.0.0.2');
    expect(restriction('[::ffff:7f00:2]')).to.equal('127.0.0.2');
    expect(restriction('http://[2001:db8:1::5]/')).to.equal('2001:db8::/32');
    expect(restriction('127.0.0.3')).to.equal(null);
  });

  it('reads allow entries for sub-domains too, and treats unreadable hosts as blocked', function () {
    expect(rules.ruleFor('www.allowed.example').allowed?.domain).to.equal('allowed.example');
    expect(rules.ruleFor('http://[bad').restriction?.policy).to.equal('block');
  });
});

describe('domain policies over the store', function () {
  let dir: string;
  let store: Store;
  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'guild-domains-'));
    store = await openStore({ kind: 'sqlite', path: join(dir, 'guild.sqlite') });
  });
  after(async function () {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers blocks and allow-list mode with the matcher, and sees changes after invalidate()', async function () {
    const open = new DomainPolicies(store.domains, 'open', 60_000);
    const allowlist = new DomainPolicies(store.domains, 'allowlist', 60_000);
    expect(await open.isBlocked('sub.evil.example')).to.equal(false);
    await store.domains.putDomainPolicy(entry('evil.example'));
    await store.domains.putDomainPolicy(entry('friends.example', 'allow'));
    expect(await open.isBlocked('sub.evil.example'), 'cached until invalidated').to.equal(false);
    open.invalidate();
    expect(await open.isBlocked('sub.evil.example')).to.equal(true);
    expect(await open.isBlocked('[::ffff:1.2.3.4]')).to.equal(false);
    expect(await allowlist.isBlocked('www.friends.example')).to.equal(false);
    expect(await allowlist.isBlocked('strangers.example')).to.equal(true);
  });

  it('purges, on a block, the members of sub-domains and of every form of a blocked address', async function () {
    const members = [
      'https://sub.spam.example/users/a',
      'https://SPAM.example./users/b',
      'http://[::ffff:192.0.2.9]:8080/users/c',
      'https://ok.example/users/d',
      'https://spam.example.org/users/e',
    ];
    for (const [i, actorId] of members.entries()) {
      for (const group of ['cats', 'dogs']) {
        await store.members.upsertMember({
          groupName: group,
          actorId,
          inbox: `${actorId}/inbox`,
          sharedInbox: null,
          deliveryInbox: `${actorId}/inbox`,
          state: i % 2 === 0 ? 'accepted' : 'pending',
          followId: null,
          createdAt: 1,
          updatedAt: 1,
        });
      }
    }
    const policies = new DomainPolicies(store.domains, 'open');
    const instance = new InstanceService({
      store,
      policies,
      localDomain: 'guild.example',
      federationMode: 'open',
    });
    const spam = await instance.blockDomain('spam.example');
    expect(spam.ok && spam.value.removedMembers).to.equal(4);
    const range = await instance.blockDomain('192.0.2.0/24');
    expect(range.ok && range.value.domain).to.equal('192.0.2.0/24');
    expect(range.ok && range.value.removedMembers).to.equal(2);
    const left = await store.members.listMemberActors(null, 100);
    expect(left).to.deep.equal(['https://ok.example/users/d', 'https://spam.example.org/users/e']);
    expect(await policies.isBlocked('[::ffff:192.0.2.200]')).to.equal(true);
    const own = await instance.blockDomain('example');
    expect(own.ok ? 'ok' : own.error.type, 'a parent of this server').to.equal('own-domain');
  });
});
