/** The handler table has exactly one handler per kind of inbound activity, checked by TypeScript and here. */
import { expect } from 'chai';
import { INBOUND_KINDS } from '../../src/activitypub/inbound.parser.ts';
import type { HandlerTable } from '../../src/groups/handlers/handler.ts';
import { startHarness, type Harness } from '../support/domain-harness.ts';
import { handlerTable } from '../../src/groups/handlers/handler-table.ts';

/** Type checks only (never called): `npm run check` fails if a table without a kind's handler type-checks. */
export function aTableMissingAKindDoesNotTypeCheck(table: HandlerTable): void {
  const { follow: _follow, ...withoutFollow } = table;
  // @ts-expect-error a table without the `follow` handler is not a HandlerTable
  const incomplete: HandlerTable = withoutFollow;
  // @ts-expect-error nor one whose `like` entry handles another kind
  const mixed: HandlerTable = { ...table, like: table.block };
  void incomplete;
  void mixed;
}

describe('handler table', function () {
  let h: Harness;
  before(async function () {
    h = await startHarness();
  });
  after(async function () {
    await h?.close();
  });

  it('has one handler, with verify apart from apply, for each kind the parse gives', function () {
    const table = handlerTable({
      store: h.store,
      urls: h.urls,
      actors: h.actors,
      events: h.events,
      posting: h.posting,
      moderation: h.moderation,
      membership: h.membership,
      notices: h.notices,
      commands: h.commands,
      budget: h.budget,
      reports: h.reports,
      answers: h.answers,
      groupFollows: h.groupFollows,
      now: () => h.clock.now,
    });
    expect(Object.keys(table).sort()).to.deep.equal([...INBOUND_KINDS].sort());
    for (const [kind, handler] of Object.entries(table)) {
      for (const step of ['groups', 'verify', 'apply'] as const)
        expect(handler[step], `${kind}.${step}`).to.be.a('function');
    }
  });
});
