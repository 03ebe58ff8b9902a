/**
 * End to end on loopback: Guild and independent fediverse users (fedify peers) with real HTTP and real
 * signatures. Peers join a group by actor URL, post to it, and receive the group's Announces, which fedify
 * accepts only after verifying Guild's signatures.
 */
import { expect } from 'chai';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startFedifyPeer, type FedifyPeer } from '../support/fedify-peer.ts';
import { waitUntil } from '../support/net.ts';

const AP = { accept: 'application/activity+json' };

function announcesOf(peer: FedifyPeer, objectId: string) {
  return peer.received.filter((a) => a.type === 'Announce' && JSON.stringify(a.json).includes(objectId));
}

describe('federation with independent peers', function () {
  this.timeout(60_000);
  let g: TestGuild;
  let alice: FedifyPeer;
  let bob: FedifyPeer;
  let carol: FedifyPeer;
  let group: string;

  /** A new group of this instance that the given peers have joined (each Accept received). */
  async function groupWith(name: string, ...peers: FedifyPeer[]): Promise<string> {
    const id = await g.createGroup(name);
    for (const peer of peers) {
      const followId = await peer.follow(id);
      await peer.waitFor(
        (a) => a.type === 'Accept' && a.actorId === id && JSON.stringify(a.json).includes(followId),
        {
          what: `Accept of ${peer.actorId} by ${name}`,
        },
      );
    }
    return id;
  }

  before(async function () {
    g = await startTestGuild();
    group = await g.createGroup('rust', { title: 'Rustaceans', summary: 'All about **Rust**' });
    [alice, bob, carol] = await Promise.all([
      startFedifyPeer({ username: 'alice' }),
      startFedifyPeer({ username: 'bob' }),
      startFedifyPeer({ username: 'carol' }),
    ]);
  });
  afterEach(function () {
    printLogsOnFailure(this, [g]);
  });
  after(async function () {
    await Promise.all([alice?.close(), bob?.close(), carol?.close()]);
    await g?.close();
  });

  it('is discoverable: WebFinger, host-meta, NodeInfo and the Group actor', async function () {
    const host = new URL(g.origin).host;
    const wf = await fetch(`${g.origin}/.well-known/webfinger?resource=acct:rust@${host}`);
    expect(wf.status).to.equal(200);
    const jrd = (await wf.json()) as {
      subject: string;
      links: Array<{ rel: string; type?: string; href: string }>;
    };
    expect(jrd.subject).to.equal(`acct:rust@${host}`);
    const self = jrd.links.filter((l) => l.rel === 'self');
    expect(self).to.deep.equal([{ rel: 'self', type: 'application/activity+json', href: group }]);

    const actorRes = await fetch(group, { headers: AP });
    expect(actorRes.headers.get('content-type')).to.match(/application\/activity\+json/);
    const actor = (await actorRes.json()) as Record<string, unknown>;
    expect(actor).to.include({
      id: group,
      type: 'Group',
      preferredUsername: 'rust',
      name: 'Rustaceans',
      manuallyApprovesFollowers: false,
      discoverable: true,
    });
    expect(actor.summary).to.contain('<strong>Rust</strong>');
    expect((actor.endpoints as Record<string, string>).sharedInbox).to.equal(`${g.origin}/inbox`);
    const pk = actor.publicKey as Record<string, string>;
    expect(pk.owner).to.equal(group);
    expect(pk.publicKeyPem).to.contain('BEGIN PUBLIC KEY');
    expect(JSON.stringify(actor)).not.to.contain('PRIVATE');

    const ld = await fetch(group, {
      headers: { accept: 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"' },
    });
    expect(((await ld.json()) as { type: string }).type).to.equal('Group');
    const html = await fetch(group, { headers: { accept: 'text/html' } });
    expect(html.headers.get('content-type')).to.match(/text\/html/);
    expect(await html.text()).to.contain(`@rust@${host}`);

    const ni = (await (await fetch(`${g.origin}/.well-known/nodeinfo`)).json()) as {
      links: Array<{ href: string }>;
    };
    const info = (await (await fetch(ni.links[0]!.href)).json()) as {
      software: { name: string; version: string };
      metadata: { localGroups: number };
    };
    expect(info.software.name).to.equal('guild');
    expect(info.metadata.localGroups).to.equal(await g.store.groups.countGroups());

    const hm = await fetch(`${g.origin}/.well-known/host-meta`);
    expect(await hm.text()).to.contain('/.well-known/webfinger?resource={uri}');
    const hmj = (await (
      await fetch(`${g.origin}/.well-known/host-meta`, { headers: { accept: 'application/json' } })
    ).json()) as { links: unknown[] };
    expect(hmj.links).to.have.length(1);
  });

  it('accepts Follows from peers, who become members', async function () {
    const joined = await g.createGroup('joined');
    await alice.follow(joined);
    await bob.follow(joined);
    await alice.waitFor((a) => a.type === 'Accept' && a.actorId === joined, { what: 'Accept to alice' });
    await bob.waitFor((a) => a.type === 'Accept' && a.actorId === joined, { what: 'Accept to bob' });
    expect(await g.store.members.countMembers('joined', 'accepted')).to.equal(2);
    const followers = (await (await fetch(`${joined}/followers`, { headers: AP })).json()) as {
      totalItems: number;
    };
    expect(followers.totalItems).to.equal(2);
  });

  it("announces a member's post to the other members, signed so that fedify accepts it", async function () {
    const group = await groupWith('posts', alice, bob);
    const { createId, noteId } = await alice.post({ to: [group], content: '<p>Hello Rustaceans</p>' });
    const wrapped = await bob.waitFor(
      (a) => a.type === 'Announce' && JSON.stringify(a.json).includes(createId),
      {
        what: 'Announce{Create} at bob',
      },
    );
    expect(wrapped.actorId).to.equal(group);
    const plain = await bob.waitFor(
      (a) =>
        a.type === 'Announce' &&
        (a.json.object === noteId || (a.json.object as { id?: string })?.id === noteId),
      {
        what: 'plain Announce{Note} at bob',
      },
    );
    expect(plain.actorId).to.equal(group);
    // The announced activity and the outbox can be fetched.
    const outbox = (await (await fetch(`${group}/outbox`, { headers: AP })).json()) as {
      totalItems: number;
      first: string;
    };
    expect(outbox.totalItems).to.equal(1);
    const page = (await (await fetch(outbox.first, { headers: AP })).json()) as {
      orderedItems: Array<{ id: string; object: { id: string } }>;
    };
    expect(page.orderedItems[0]?.object.id).to.equal(createId);
    const announceDoc = await fetch(page.orderedItems[0]!.id, { headers: AP });
    expect(announceDoc.status).to.equal(200);
  });

  it("does not announce a non-member's post, and tells its author by direct message", async function () {
    const group = await groupWith('closed', bob);
    const { createId, noteId } = await carol.post({ to: [group], content: '<p>spam</p>' });
    await g.processed(createId);
    expect(await g.store.activities.countOutbox('closed')).to.equal(0);
    expect(g.logs.some((l) => l.includes('not a member') && l.includes(carol.actorId))).to.equal(true);
    expect(announcesOf(bob, createId)).to.deep.equal([]);
    // Nobody acts on a Reject of a post (mastodon/mastodon app/lib/activitypub/activity/reject.rb and
    // superseriousbusiness/gotosocial internal/federation/federatingdb/reject.go take Follows only; grunfink/snac2
    // activitypub.c drops every Reject): a direct message from the group, in reply to the post, says why.
    const notice = await carol.waitFor(
      (a) =>
        a.type === 'Create' && (a.json.object as { inReplyTo?: string } | undefined)?.inReplyTo === noteId,
      { what: 'the notice of the refused post' },
    );
    expect(notice.actorId).to.equal(group);
    const object = notice.json.object as { to: unknown; content: string };
    expect([object.to].flat()).to.deep.equal([carol.actorId]);
    expect(object.content).to.contain('only members');
  });

  it('refuses unsigned and tampered deliveries with 401', async function () {
    const activity = {
      '@context': 'https://www.w3.org/ns/activitystreams',
      id: `${alice.actorId}/raw/1`,
      type: 'Create',
      actor: alice.actorId,
      object: {
        id: `${alice.actorId}/raw/1/note`,
        type: 'Note',
        attributedTo: alice.actorId,
        content: 'x',
        to: ['https://www.w3.org/ns/activitystreams#Public'],
        cc: [group],
      },
    };
    const unsigned = await alice.sendRaw(`${group}/inbox`, activity, { sign: false });
    expect(unsigned.status).to.equal(401);
    const tampered = await alice.sendRaw(`${group}/inbox`, activity, {
      tamperBody: (body: string) => body.replace('"x"', '"y"'),
    });
    expect(tampered.status).to.equal(401);
  });

  it('ends membership on Undo{Follow}', async function () {
    const group = await groupWith('leaving', alice);
    const carolFollow = await carol.follow(group);
    await carol.waitFor((a) => a.type === 'Accept' && a.actorId === group, { what: 'Accept to carol' });
    expect(await g.store.members.countMembers('leaving', 'accepted')).to.equal(2);
    await carol.unfollow(group, carolFollow);
    await waitUntil(async () => (await g.store.members.getMember('leaving', carol.actorId)) === null, {
      what: 'carol to leave',
    });
    expect(await g.store.members.countMembers('leaving', 'accepted')).to.equal(1);
  });
});
