/**
 * GoToSocial's key documents (superseriousbusiness/gotosocial internal/processing/fedi/user.go): its `keyId`
 * (`…/users/NAME/main-key`) answers with a minimal actor whose `id` is the actor, and the actor needs a
 * signed GET. Guild follows the actor's id, signed, and takes the key the actor lists (as mastodon/mastodon
 * app/services/activitypub/fetch_remote_key_service.rb does), so a GoToSocial user can join.
 */
import { expect } from 'chai';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startGoToSocialPeer, type GoToSocialPeer } from '../support/gotosocial-peer.ts';
import { waitUntil } from '../support/net.ts';

describe('GoToSocial key documents', function () {
  this.timeout(30_000);
  let g: TestGuild;
  let gts: GoToSocialPeer;
  let group: string;

  before(async function () {
    g = await startTestGuild();
    group = await g.createGroup('gts');
    gts = await startGoToSocialPeer('zork');
  });
  afterEach(function () {
    printLogsOnFailure(this, [g]);
  });
  after(async function () {
    await g?.close();
    await gts?.close();
  });

  it('serves its actor only to signed GETs, and a minimal actor at its key path to anyone', async function () {
    const accept = { accept: 'application/activity+json' };
    expect((await fetch(gts.actorId, { headers: accept })).status).to.equal(401);
    const minimal = (await (await fetch(gts.keyId, { headers: accept })).json()) as Record<string, unknown>;
    expect(minimal['id']).to.equal(gts.actorId);
    expect(minimal['inbox']).to.equal(undefined);
  });

  it('names a featured collection on the Service actor, which GoToSocial reads from every actor it meets', async function () {
    // GoToSocial parses an actor's `featured` as a URL and fetches it, logging an error when there is none
    // (internal/federation/dereferencing/account.go, dereferenceAccountFeatured); it meets Guild's Service actor
    // as the signer of Guild's fetches.
    const accept = { accept: 'application/activity+json' };
    const actor = (await (await fetch(`${g.origin}/actor`, { headers: accept })).json()) as Record<
      string,
      unknown
    >;
    expect(actor['featured']).to.equal(`${g.origin}/actor/featured`);
    const res = await fetch(`${g.origin}/actor/featured`, { headers: accept });
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.include({
      id: `${g.origin}/actor/featured`,
      type: 'OrderedCollection',
      totalItems: 0,
      orderedItems: [],
    });
  });

  it('verifies a POST signed with a /main-key keyId, and the GoToSocial user joins', async function () {
    const follow = {
      '@context': ['https://gotosocial.org/ns', 'https://www.w3.org/ns/activitystreams'],
      id: `${gts.actorId}/follow/01JTESTFOLLOW`,
      type: 'Follow',
      actor: gts.actorId,
      object: group,
      to: group,
    };
    const res = await gts.post(`${group}/inbox`, follow);
    expect(res.status, res.text).to.equal(202);
    await g.processed(follow.id);
    expect((await g.store.members.getMember('gts', gts.actorId))?.state).to.equal('accepted');
    // The key path was read, then the actor by its id, with a signature it accepted.
    const gets = gts.requests.filter((r) => r.method === 'GET' && r.signed);
    expect(gets.slice(0, 2).map((r) => [r.path, r.signed, r.status])).to.deep.equal([
      ['/users/zork/main-key', true, 200],
      ['/users/zork', true, 200],
    ]);
    await waitUntil(
      () =>
        gts.inbox.some(
          (a) => typeof a === 'object' && a !== null && (a as { type?: unknown }).type === 'Accept',
        ),
      { what: 'the Accept at the GoToSocial peer' },
    );
  });
});
