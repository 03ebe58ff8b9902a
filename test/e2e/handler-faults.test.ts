/**
 * Each inbound kind's handler, run by the real intake job and queue on the store under test, with a failure at
 * each of its store writes in turn (before the store took it, and after), and at each of its reads: the job
 * fails, runs again, and ends with exactly the rows, queued jobs and stored activities of one clean run.
 * Membership, posts and votes here; moderation and DM commands in moderation-faults.test.ts.
 */
import { ScenarioRunner, T0, type Scenario } from '../support/fault-world.ts';
import {
  ALICE,
  BOB,
  CAROL,
  DAVE,
  POST,
  REPLY,
  act,
  club,
  createNote,
  expectResumable,
} from '../support/fault-scenarios.ts';

/** Alice's Delete of her post, as the undo scenario's setup sends it first. */
const aliceDelete = (group: string) => act(ALICE, 'Delete', 'delete', { object: POST, cc: [group] });

const scenarios: Scenario[] = [
  {
    name: 'a Follow of an open group',
    setup: async (w) => {
      await club(w);
      await w.actor(CAROL);
    },
    activity: (w) => act(CAROL, 'Follow', 'follow', { object: w.groupId('club') }),
  },
  {
    name: 'a Follow of an approval group (the request kept pending)',
    setup: async (w) => {
      await club(w, { membershipPolicy: 'approval' });
      await w.actor(CAROL);
    },
    activity: (w) => act(CAROL, 'Follow', 'follow', { object: w.groupId('club') }),
  },
  {
    name: 'a member’s second Follow',
    setup: (w) => club(w).then(() => undefined),
    activity: (w) => act(ALICE, 'Follow', 'follow-again', { object: w.groupId('club') }),
  },
  {
    name: 'a banned actor’s Follow (refused with Reject)',
    setup: async (w) => {
      await club(w);
      await w.actor(CAROL);
      await w.raw.bans.putBan({
        groupName: 'club',
        actorId: CAROL,
        reason: 'spam',
        by: 'admin',
        createdAt: T0,
        expiresAt: null,
      });
    },
    activity: (w) => act(CAROL, 'Follow', 'follow', { object: w.groupId('club') }),
  },
  {
    name: 'a member’s Undo{Follow}',
    setup: (w) => club(w).then(() => undefined),
    activity: (w) =>
      act(BOB, 'Undo', 'leave', { object: { type: 'Follow', actor: BOB, object: w.groupId('club') } }),
  },
  {
    name: 'a member’s Block of the group',
    setup: (w) => club(w).then(() => undefined),
    activity: (w) => act(BOB, 'Block', 'block-group', { object: w.groupId('club') }),
  },
  {
    name: 'an account’s Delete of itself (member of two groups)',
    setup: async (w) => {
      await club(w);
      await w.group('other');
      await w.member('other', ALICE);
    },
    activity: () => act(ALICE, 'Delete', 'gone', { object: ALICE }),
  },
  {
    name: 'a member’s top-level post',
    setup: (w) => club(w).then(() => undefined),
    activity: (w) => createNote(ALICE, w.groupId('club'), '3'),
  },
  {
    name: 'a member’s reply',
    setup: (w) => club(w).then(() => undefined),
    activity: (w) => createNote(ALICE, w.groupId('club'), '3', { inReplyTo: REPLY }),
  },
  {
    name: 'a new member’s first post (held, both moderators told)',
    setup: async (w) => {
      await club(w, { premoderateFirstPosts: 1 });
      await w.member('club', DAVE);
    },
    activity: (w) => createNote(DAVE, w.groupId('club'), '1'),
  },
  {
    name: 'an author’s Update of their post',
    setup: (w) => club(w).then(() => undefined),
    activity: (w) =>
      act(ALICE, 'Update', 'edit', {
        object: { id: POST, type: 'Note', attributedTo: ALICE, content: '<p>edited</p>' },
        cc: [w.groupId('club')],
      }),
  },
  {
    name: 'a Like',
    setup: (w) => club(w).then(() => undefined),
    activity: (w) => act(BOB, 'Like', 'like', { object: POST, cc: [w.groupId('club')] }),
  },
  {
    name: 'a Dislike',
    setup: (w) => club(w).then(() => undefined),
    activity: (w) => act(BOB, 'Dislike', 'dislike', { object: POST, cc: [w.groupId('club')] }),
  },
  {
    name: 'an Undo{Like}',
    setup: async (w) => {
      await club(w);
      await w.deliver(act(BOB, 'Like', 'like', { object: POST, cc: [w.groupId('club')] }));
    },
    activity: (w) =>
      act(BOB, 'Undo', 'unlike', {
        object: { id: `${BOB}/activities/like`, type: 'Like', actor: BOB, object: POST },
        cc: [w.groupId('club')],
      }),
  },
  {
    name: 'an author’s Delete of a top-level post (the boost undone)',
    setup: (w) => club(w).then(() => undefined),
    activity: (w) => aliceDelete(w.groupId('club')),
  },
  {
    name: 'an author’s Delete of a reply, addressed to nobody (Mastodon)',
    setup: (w) => club(w).then(() => undefined),
    activity: () =>
      act(BOB, 'Delete', 'delete', {
        object: REPLY,
        to: [`${'https://www.w3.org/ns/activitystreams'}#Public`],
      }),
  },
  {
    name: 'an author’s Undo{Delete} (boosted again)',
    setup: async (w) => {
      await club(w);
      await w.deliver(aliceDelete(w.groupId('club')));
    },
    activity: (w) =>
      act(ALICE, 'Undo', 'undelete', {
        object: { id: `${ALICE}/activities/delete`, type: 'Delete', actor: ALICE, object: POST },
        cc: [w.groupId('club')],
      }),
  },
];

describe('inbound handlers (membership, posts, votes), each store call failed in turn, then the intake job retried', function () {
  this.timeout(300_000);
  let runner: ScenarioRunner;
  before(async () => {
    runner = await ScenarioRunner.open();
  });
  after(() => runner?.close());

  for (const s of scenarios) {
    it(`${s.name} ends as one clean run`, async function () {
      await expectResumable(s, runner);
    });
  }
});
