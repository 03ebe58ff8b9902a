/**
 * Moderators' activities and DM commands, run by the real intake job and queue on the store under test, with a
 * failure at each store write in turn (before the store took it, and after) and at each read: the job fails,
 * runs again, and ends with exactly the rows, queued jobs and stored activities of one clean run (the answer
 * to a command included). See handler-faults.test.ts for membership, posts and votes.
 */
import { createHash } from 'node:crypto';
import { ScenarioRunner, type Scenario, type World } from '../support/fault-world.ts';
import {
  ALICE,
  BOB,
  CAROL,
  DAVE,
  MOD,
  MOD2,
  POST,
  REPLY,
  act,
  club,
  command,
  createNote,
  expectResumable,
} from '../support/fault-scenarios.ts';

const clubSetup = (w: World): Promise<void> => club(w).then(() => undefined);

/** The club with Carol and Dave asking to join (approval). */
async function withRequests(w: World): Promise<void> {
  await club(w, { membershipPolicy: 'approval' });
  await w.member('club', CAROL, 'pending');
  await w.member('club', DAVE, 'pending');
}

/** The club with Alice's post removed by a moderator (Lemmy's removal: a Delete with a summary). */
const removal = (group: string) =>
  act(MOD, 'Delete', 'removal', { object: POST, summary: 'off topic', cc: [group] });

/** The club with Dave's first post held for approval. */
async function withHeldPost(w: World): Promise<void> {
  await club(w, { premoderateFirstPosts: 1 });
  await w.member('club', DAVE);
  await w.deliver(createNote(DAVE, w.groupId('club'), '1'));
}

const activities: Scenario[] = [
  {
    name: 'a moderator’s Delete of a post (a removal)',
    setup: clubSetup,
    activity: (w) => removal(w.groupId('club')),
  },
  {
    name: 'a moderator’s Remove of a post (target: the group)',
    setup: clubSetup,
    activity: (w) =>
      act(MOD, 'Remove', 'remove-post', { object: POST, target: w.groupId('club'), summary: 'spam' }),
  },
  {
    name: 'a moderator’s Undo{Delete} of a removal (a restore)',
    setup: async (w) => {
      await club(w);
      await w.deliver(removal(w.groupId('club')));
    },
    activity: (w) => {
      const { '@context': _context, ...inner } = removal(w.groupId('club'));
      return act(MOD, 'Undo', 'restore', { object: inner, cc: [w.groupId('club')] });
    },
  },
  {
    name: 'a Flag addressed to nobody (Mastodon), both moderators told',
    setup: clubSetup,
    activity: () => act(CAROL, 'Flag', 'flag', { object: [ALICE, POST], content: 'rude' }),
  },
  {
    name: 'a moderator’s Block of a member with removeData (a ban removing two posts)',
    setup: async (w) => {
      await club(w);
      await w.deliver(createNote(BOB, w.groupId('club'), '3'));
    },
    activity: (w) =>
      act(MOD, 'Block', 'ban', {
        object: BOB,
        target: w.groupId('club'),
        summary: 'spam',
        endTime: '2026-02-01T00:00:00Z',
        removeData: true,
        cc: [w.groupId('club')],
      }),
  },
  {
    name: 'a moderator’s Undo{Block}',
    setup: async (w) => {
      await club(w);
      await w.deliver(
        act(MOD, 'Block', 'ban', { object: BOB, target: w.groupId('club'), cc: [w.groupId('club')] }),
      );
    },
    activity: (w) =>
      act(MOD, 'Undo', 'unban', {
        object: {
          id: `${MOD}/activities/ban`,
          type: 'Block',
          actor: MOD,
          object: BOB,
          target: w.groupId('club'),
        },
        cc: [w.groupId('club')],
      }),
  },
  {
    name: 'a moderator’s Add of a moderator',
    setup: async (w) => {
      await club(w);
    },
    activity: (w) => act(MOD, 'Add', 'add-mod', { object: ALICE, target: `${w.groupId('club')}/moderators` }),
  },
  {
    name: 'a moderator’s Remove of a moderator',
    setup: clubSetup,
    activity: (w) => act(MOD, 'Remove', 'unmod', { object: MOD2, target: `${w.groupId('club')}/moderators` }),
  },
  {
    name: 'a moderator’s Add to the featured collection (a pin)',
    setup: clubSetup,
    activity: (w) => act(MOD, 'Add', 'pin', { object: POST, target: `${w.groupId('club')}/featured` }),
  },
  {
    name: 'a moderator’s Remove from the featured collection',
    setup: async (w) => {
      await club(w);
      await w.deliver(act(MOD, 'Add', 'pin', { object: POST, target: `${w.groupId('club')}/featured` }));
    },
    activity: (w) => act(MOD, 'Remove', 'unpin', { object: POST, target: `${w.groupId('club')}/featured` }),
  },
  {
    name: 'a moderator’s Lock of a thread',
    setup: clubSetup,
    activity: (w) => act(MOD, 'Lock', 'lock', { object: POST, cc: [w.groupId('club')] }),
  },
  {
    name: 'a moderator’s Undo{Lock}',
    setup: async (w) => {
      await club(w);
      await w.deliver(act(MOD, 'Lock', 'lock', { object: POST, cc: [w.groupId('club')] }));
    },
    activity: (w) =>
      act(MOD, 'Undo', 'unlock', {
        object: { id: `${MOD}/activities/lock`, type: 'Lock', actor: MOD, object: POST },
        cc: [w.groupId('club')],
      }),
  },
  {
    name: 'a moderator’s Update{Group} of title and posting policy',
    setup: clubSetup,
    activity: (w) =>
      act(MOD, 'Update', 'update-group', {
        object: { id: w.groupId('club'), type: 'Group', name: 'The Club', postingRestrictedToMods: true },
        cc: [w.groupId('club')],
      }),
  },
  {
    name: 'a moderator’s Update{Group} that opens membership (two pending requests accepted)',
    setup: withRequests,
    activity: (w) =>
      act(MOD, 'Update', 'open-group', {
        object: { id: w.groupId('club'), type: 'Group', manuallyApprovesFollowers: false },
        cc: [w.groupId('club')],
      }),
  },
  {
    name: 'a moderator’s Accept{Follow} of a request',
    setup: withRequests,
    activity: (w) =>
      act(MOD, 'Accept', 'accept', { object: { type: 'Follow', actor: CAROL, object: w.groupId('club') } }),
  },
  {
    name: 'a moderator’s Reject{Follow} of a request',
    setup: withRequests,
    activity: (w) =>
      act(MOD, 'Reject', 'reject', { object: { type: 'Follow', actor: CAROL, object: w.groupId('club') } }),
  },
];

/** The id of the report a Flag with this id files in the club (moderation.report). */
const reportId = (flagId: string) =>
  createHash('sha256').update(`club\n${flagId}`).digest('hex').slice(0, 12);

const dm = (text: string, setup: (w: World) => Promise<void> = clubSetup, sender = MOD): Scenario => ({
  name: `the DM command “${text}”${sender === MOD ? '' : ` from ${sender}`}`,
  setup,
  activity: (w) => command(sender, w.groupId('club'), text.replace(/\W+/g, '-'), text),
});

const commands: Scenario[] = [
  dm(`ban ${ALICE} spam`),
  dm(`ban ${BOB} 7d`),
  dm(`unban ${BOB}`, async (w) => {
    await club(w);
    await w.deliver(
      act(MOD, 'Block', 'ban', { object: BOB, target: w.groupId('club'), cc: [w.groupId('club')] }),
    );
  }),
  dm(`remove ${POST} off topic`),
  dm(`restore ${POST}`, async (w) => {
    await club(w);
    await w.deliver(removal(w.groupId('club')));
  }),
  dm(`approve ${CAROL}`, withRequests),
  dm(`reject ${CAROL}`, withRequests),
  dm(`kick ${BOB}`),
  dm(`approve-post ${DAVE}/notes/1`, withHeldPost),
  dm(`reject-post ${DAVE}/notes/1`, withHeldPost),
  dm(`pin ${POST}`),
  dm(`unpin ${POST}`, async (w) => {
    await club(w);
    await w.deliver(act(MOD, 'Add', 'pin', { object: POST, target: `${w.groupId('club')}/featured` }));
  }),
  dm(`lock ${REPLY}`),
  dm(`unlock ${POST}`, async (w) => {
    await club(w);
    await w.deliver(act(MOD, 'Lock', 'lock', { object: POST, cc: [w.groupId('club')] }));
  }),
  dm(`mod ${ALICE}`),
  dm(`unmod ${MOD2}`),
  dm(`resolve ${reportId(`${CAROL}/activities/flag`)}`, async (w) => {
    await club(w);
    await w.actor(CAROL);
    await w.deliver(act(CAROL, 'Flag', 'flag', { object: [ALICE, POST], content: 'rude' }));
  }),
  dm('set title The Club'),
  dm('set membership open', withRequests),
  dm(`report ${POST} rude`, clubSetup, BOB),
  dm(`ban ${ALICE}`, clubSetup, BOB),
  dm('help'),
];

/** A direct message to the instance's Service actor (`@guild@HOST`) from `sender` with the command `text`. */
const toService = (text: string, setup: (w: World) => Promise<void> = clubSetup, sender = MOD): Scenario => ({
  name: `the Service actor's command “${text}”${sender === MOD ? '' : ` from ${sender}`}`,
  setup,
  activity: (w) => {
    const service = w.services.urls.instanceActor();
    const note = createNote(sender, service, `svc-${text.replace(/\W+/g, '-')}`, {
      to: [service],
      cc: [],
      content: `<p><span class="h-card"><a href="${service}">@guild</a></span> ${text}</p>`,
    });
    return note;
  },
});

const serviceCommands: Scenario[] = [
  toService(`ban !club@guild.example ${ALICE} spam`),
  toService(`remove !club@guild.example ${POST} off topic`),
  toService('create newclub The New Club', clubSetup, CAROL),
  toService('groups'),
];

describe('moderators’ activities and DM commands, each store call failed in turn, then the intake job retried', function () {
  this.timeout(300_000);
  let runner: ScenarioRunner;
  before(async () => {
    runner = await ScenarioRunner.open();
  });
  after(() => runner?.close());

  for (const s of [...activities, ...commands, ...serviceCommands]) {
    it(`${s.name} ends as one clean run`, async function () {
      await expectResumable(s, runner);
    });
  }
});
