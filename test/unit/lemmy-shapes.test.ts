/**
 * The Lemmy test reader (test/support/lemmy-reader.ts) against Lemmy's own documents and the shapes Guild
 * served before, and Guild's filters (src/activitypub/lemmy-shapes.ts) against that reader: an item Guild
 * lists where Lemmy reads a whole `Vec` must be one the reader accepts.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { LemmyParseError, lemmyReads } from '../support/lemmy-reader.ts';
import {
  backfillableByLemmy,
  readableAsLemmyAnnounce,
  readableAsLemmyPage,
} from '../../src/activitypub/lemmy-shapes.ts';
import { toApLanguages } from '../../src/activitypub/group.serializer.ts';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../fixtures/lemmy/${name}.json`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;

const PUBLIC = 'https://www.w3.org/ns/activitystreams#Public';
const GROUP = 'https://guild.example/groups/rust';
const note = (extra: Record<string, unknown> = {}) => ({
  id: 'https://remote.example/notes/1',
  type: 'Note',
  attributedTo: 'https://remote.example/users/alice',
  to: [PUBLIC],
  cc: [GROUP],
  content: '<p>hello</p>',
  published: '2026-11-30T10:00:00Z',
  ...extra,
});
const announce = (object: unknown) => ({
  id: `${GROUP}/activities/1`,
  type: 'Announce',
  actor: GROUP,
  to: [PUBLIC],
  cc: [`${GROUP}/followers`],
  object,
});
const create = (object: unknown, extra: Record<string, unknown> = {}) => ({
  id: 'https://remote.example/activities/1',
  type: 'Create',
  actor: 'https://remote.example/users/alice',
  to: [PUBLIC],
  cc: [GROUP],
  object,
  ...extra,
});

describe('how Lemmy 0.19 reads a group (test reader)', function () {
  it("reads Lemmy's own Group and collections", function () {
    expect(lemmyReads.group(fixture('group')).languages).to.deep.equal(['fr', 'de']);
    expect(lemmyReads.outbox(fixture('group_outbox')).backfilledPostIds).to.have.length(2);
    expect(lemmyReads.featured(fixture('group_featured_posts')).postIds).to.deep.equal([
      'https://ds9.lemmy.ml/post/2',
      'https://ds9.lemmy.ml/post/1',
    ]);
    expect(lemmyReads.followers(fixture('group_followers')).subscribers).to.equal(3);
    expect(lemmyReads.moderators(fixture('group_moderators')).moderatorIds).to.deep.equal([
      'https://enterprise.lemmy.ml/u/picard',
    ]);
  });

  it('refuses the shapes Guild served before', function () {
    const group = { ...fixture('group'), language: { identifier: 'en', name: 'en' } };
    expect(() => lemmyReads.group(group)).to.throw(LemmyParseError, 'language');
    const orderedFollowers = { id: `${GROUP}/followers`, type: 'OrderedCollection', totalItems: 2 };
    expect(() => lemmyReads.followers(orderedFollowers)).to.throw(LemmyParseError);
    const listedFollowers = { ...fixture('group_followers'), items: ['https://remote.example/users/a'] };
    expect(() => lemmyReads.followers(listedFollowers)).to.throw(LemmyParseError, 'items');
    const pagedOutbox = { id: `${GROUP}/outbox`, type: 'OrderedCollection', totalItems: 1, first: 'x' };
    expect(() => lemmyReads.outbox(pagedOutbox)).to.throw(LemmyParseError, 'orderedItems');
    const featuredIds = {
      id: `${GROUP}/featured`,
      type: 'OrderedCollection',
      totalItems: 1,
      orderedItems: [note().id],
    };
    expect(() => lemmyReads.featured(featuredIds)).to.throw(LemmyParseError);
    const emptyWithoutItems = { id: `${GROUP}/moderators`, type: 'OrderedCollection', totalItems: 0 };
    expect(() => lemmyReads.moderators(emptyWithoutItems)).to.throw(LemmyParseError, 'orderedItems');
  });

  it('fails a whole featured collection for one reply in it, and skips an outbox item it cannot use', function () {
    const featured = (items: unknown[]) => ({
      id: `${GROUP}/featured`,
      type: 'OrderedCollection',
      totalItems: items.length,
      orderedItems: items,
    });
    expect(lemmyReads.featured(featured([note()])).postIds).to.deep.equal([note().id]);
    expect(() =>
      lemmyReads.featured(featured([note(), note({ inReplyTo: 'https://x.example/1' })])),
    ).to.throw(LemmyParseError, 'inReplyTo');
    const outbox = {
      id: `${GROUP}/outbox`,
      type: 'OrderedCollection',
      totalItems: 3,
      orderedItems: [
        announce(create(note())),
        announce(create(note({ id: 'https://remote.example/notes/2', inReplyTo: note().id }))),
        announce(note().id),
      ],
    };
    expect(lemmyReads.outbox(outbox).backfilledPostIds).to.deep.equal([note().id]);
  });
});

describe("Guild's Lemmy filters agree with the reader", function () {
  const pages: Array<[string, Record<string, unknown>]> = [
    ['a Mastodon-style note', note()],
    ['a Lemmy page', { ...note(), type: 'Page', name: 'Title', mediaType: 'text/html', attachment: [] }],
    ['a reply', note({ inReplyTo: 'https://remote.example/notes/0' })],
    ['a poll', note({ type: 'Question' })],
    ['a lone attachment object', note({ attachment: { type: 'Document', url: 'https://x.example/a.png' } })],
    ['an attachment list', note({ attachment: [{ type: 'Document', url: 'https://x.example/a.png' }] })],
    ['an attachment without url', note({ attachment: [{ type: 'Document', name: 'x' }] })],
    ['a Misskey media type', note({ mediaType: 'text/x.misskeymarkdown' })],
    ['a title that is not text', note({ name: ['a'] })],
    ['a language string', note({ language: 'en' })],
    ['an image without type', note({ image: { url: 'https://x.example/a.png' } })],
    ['a date that is not one', note({ published: 'yesterday' })],
    ['no author', note({ attributedTo: undefined })],
  ];
  const accepts = (read: () => unknown): boolean => {
    try {
      read();
      return true;
    } catch (e) {
      if (e instanceof LemmyParseError) return false;
      throw e;
    }
  };

  for (const [what, page] of pages) {
    it(`featured: ${what}`, function () {
      const doc = { id: `${GROUP}/featured`, type: 'OrderedCollection', totalItems: 1, orderedItems: [page] };
      expect(readableAsLemmyPage(page)).to.equal(accepts(() => lemmyReads.featured(doc)));
    });
    it(`outbox: an Announce{Create} of ${what}`, function () {
      const item = announce(create(page));
      const doc = { id: `${GROUP}/outbox`, type: 'OrderedCollection', totalItems: 1, orderedItems: [item] };
      expect(readableAsLemmyAnnounce(item)).to.equal(true);
      expect(backfillableByLemmy(item)).to.equal(lemmyReads.outbox(doc).backfilledPostIds.length === 1);
    });
  }

  it('outbox: an Announce the reader refuses is never listed', function () {
    for (const item of [
      announce(create(note(), { actor: { id: 'https://remote.example/users/alice' } })),
      { ...announce(note().id), cc: undefined },
      announce({ id: 'https://remote.example/activities/1', type: 'Like' }),
    ]) {
      const doc = { id: `${GROUP}/outbox`, type: 'OrderedCollection', totalItems: 1, orderedItems: [item] };
      expect(
        accepts(() => lemmyReads.outbox(doc)),
        JSON.stringify(item),
      ).to.equal(false);
      expect(readableAsLemmyAnnounce(item), JSON.stringify(item)).to.equal(false);
    }
  });

  it('an Update backfills like a Create; one without cc does not', function () {
    expect(backfillableByLemmy(announce(create(note(), { type: 'Update' })))).to.equal(true);
    expect(backfillableByLemmy(announce(create(note(), { cc: undefined })))).to.equal(false);
  });

  it('sends the language as Lemmy reads it: an array, ISO 639-1 code', function () {
    expect(toApLanguages('pt-BR')).to.deep.equal([{ identifier: 'pt', name: 'Portuguese' }]);
    expect(toApLanguages('en')).to.deep.equal([{ identifier: 'en', name: 'English' }]);
    const group = { ...fixture('group'), language: toApLanguages('de') };
    expect(lemmyReads.group(group).languages).to.deep.equal(['de']);
  });
});
