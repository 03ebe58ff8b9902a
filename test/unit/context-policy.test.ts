/**
 * The `@context` rules of inbound documents: real peers' payloads pass, redefinitions of the vocabulary do not.
 * The corpus is `test/fixtures/interop` (real payloads of Lemmy, Mastodon, Mbin, Pleroma, Friendica and NodeBB;
 * see its SOURCE.md).
 */
import { expect } from 'chai';
import { checkContexts } from '../../src/activitypub/context-policy.ts';
import { idOf, type ApObject } from '../../src/activitypub/vocab.ts';
import { interopFixturesDir, loadInteropCorpus, LEMMY_CONTEXT } from '../support/interop-fixtures.ts';

const AS = 'https://www.w3.org/ns/activitystreams';
const SENDER = 'https://social.example';
const CORPUS = interopFixturesDir();

const create = (context: unknown): ApObject => ({
  '@context': context,
  id: `${SENDER}/notes/1/activity`,
  type: 'Create',
  actor: `${SENDER}/users/alice`,
  object: { id: `${SENDER}/notes/1`, type: 'Note', attributedTo: `${SENDER}/users/alice`, content: 'hi' },
});

const verdict = (context: unknown, doc = create(context)) => checkContexts(doc, { senderOrigin: SENDER });

describe('inbound @context rules', function () {
  it('accepts every activity and object of the interop corpus', function () {
    const corpus = loadInteropCorpus(CORPUS);
    expect(corpus.length).to.be.above(80);
    const refused: string[] = [];
    for (const f of corpus) {
      // Lemmy's test assets leave out the context Lemmy always sends (see interop-fixtures.ts).
      const doc = f.json['@context'] === undefined ? { ...f.json, '@context': LEMMY_CONTEXT } : f.json;
      const sender = idOf(doc.actor) ?? idOf(doc.id);
      const v = checkContexts(doc, {
        senderOrigin: sender ? new URL(sender).origin : null,
        // Activities arrive at the inbox; objects (actors, posts) are what peers serve when fetched.
        requireActivityStreams: f.kind === 'activity',
      });
      if (!v.ok) refused.push(`${f.name}: ${v.reason}`);
    }
    expect(refused).to.deep.equal([]);
  });

  it('accepts the contexts of GoToSocial, Misskey-style inline terms and fedify', function () {
    // GoToSocial: internal/typeutils/internaltoas_test.go (superseriousbusiness/gotosocial).
    expect(verdict(['https://gotosocial.org/ns', AS, { sensitive: 'as:sensitive' }]).ok).to.equal(true);
    expect(
      verdict([
        AS,
        'https://w3id.org/security/v1',
        { Key: 'sec:Key', misskey: 'https://misskey-hub.net/ns#', _misskey_quote: 'misskey:_misskey_quote' },
      ]).ok,
    ).to.equal(true);
    // fedify puts identity/v1 first (it redefines name, url and image), as its LD signatures need it.
    expect(
      verdict(['https://w3id.org/identity/v1', AS, 'https://w3id.org/security/data-integrity/v1']).ok,
    ).to.equal(true);
    expect(verdict([AS, `${SENDER}/schemas/litepub-0.1.jsonld`, { '@language': 'und' }]).ok).to.equal(true);
  });

  it('refuses a document whose @context lacks the ActivityStreams context', function () {
    for (const context of ['https://w3id.org/security/v1', [{ '@version': 1.1 }], []]) {
      const v = verdict(context);
      expect(v.ok, JSON.stringify(context)).to.equal(false);
      expect(!v.ok && v.reason).to.match(/ActivityStreams context/);
    }
    // AS2 Core 2.1: without any @context, the ActivityStreams context applies.
    const bare = create(undefined);
    delete bare['@context'];
    expect(verdict(undefined, bare).ok).to.equal(true);
  });

  it('refuses unknown context URLs, and per-server ones on another origin', function () {
    expect(verdict([AS, 'https://evil.example/context.jsonld']).ok).to.equal(false);
    expect(verdict([AS, 'https://evil.example/schemas/litepub-0.1.jsonld']).ok).to.equal(false);
    expect(verdict([AS, `${SENDER}/schemas/litepub-0.1.jsonld?x=1`]).ok).to.equal(false);
  });

  it('refuses an inline context that redefines attributedTo and aliases @id', function () {
    const v = verdict([AS, { attributedTo: 'as:actor', url: '@id' }]);
    expect(v.ok).to.equal(false);
    expect(!v.ok && v.reason).to.contain('attributedTo');
    const alias = verdict([AS, { ident: '@id' }]);
    expect(!alias.ok && alias.reason).to.contain('alias of the keyword @id');
  });

  it('refuses the other ways of changing what a standard term means', function () {
    const cases: Array<[unknown, RegExp]> = [
      [[AS, { as: 'https://evil.example/ns#' }], /redefines the term as/],
      [[AS, { attributedTo: { '@id': 'as:attributedTo', '@type': 'xsd:string' } }], /changes the type/],
      [[AS, { content: { '@id': 'as:content', '@container': '@language' } }], /changes the container/],
      [[AS, { attributedTo: null }], /removes the term attributedTo/],
      [[AS, { author: 'as:attributedTo' }], /another name for/],
      [[AS, { author: 'attributedTo' }], /another name for/],
      [[AS, { ev: 'https://www.w3.org/ns/activitystreams#', author: 'ev:attributedTo' }], /another name for/],
      [[AS, { Note: { '@id': 'as:Note', '@context': { content: '@id' } } }], /@context/],
      [[AS, { inbox: { '@reverse': 'as:actor' } }], /@reverse/],
      [[AS, { '@vocab': 'https://evil.example/#' }], /@vocab/],
      [[AS, { '@import': 'https://evil.example/c.jsonld' }], /@import/],
      [[AS, { 'as:actor': 'as:attributedTo' }], /IRI-like/],
      [[AS, null], /null/],
      [[AS, 42], /neither a URL nor an object/],
      [[AS, 'https://w3id.org/identity/v1'], /must come before/],
      [[AS, { publicKeyPem: 'https://evil.example/pem' }], /redefines the term publicKeyPem/],
    ];
    for (const [context, reason] of cases) {
      const v = verdict(context);
      expect(v.ok, JSON.stringify(context)).to.equal(false);
      expect(!v.ok && v.reason, JSON.stringify(context)).to.match(reason);
    }
  });

  it('checks a nested @context too, and keywords that add statements', function () {
    const nested = create(AS);
    nested.object = { ...(nested.object as ApObject), '@context': { attributedTo: 'as:actor' } };
    expect(checkContexts(nested, { senderOrigin: SENDER }).ok).to.equal(false);
    const identity = create(AS);
    identity.object = { ...(identity.object as ApObject), '@context': 'https://w3id.org/identity/v1' };
    expect(checkContexts(identity, { senderOrigin: SENDER }).ok).to.equal(false);
    const signed = create(['https://w3id.org/identity/v1', AS]);
    signed['signature'] = {
      '@context': 'https://w3id.org/identity/v1',
      type: 'RsaSignature2017',
      creator: `${SENDER}/users/alice#main-key`,
      signatureValue: 'x',
    };
    expect(checkContexts(signed, { senderOrigin: SENDER }).ok, 'fedify LD signature').to.equal(true);
    const reverse = create(AS);
    reverse['@reverse'] = { attributedTo: `${SENDER}/notes/2` };
    const v = checkContexts(reverse, { senderOrigin: SENDER });
    expect(!v.ok && v.reason).to.contain('@reverse');
  });

  it('accepts terms that restate the standard definitions', function () {
    expect(
      verdict([
        AS,
        {
          id: '@id',
          type: '@type',
          alsoKnownAs: { '@id': 'as:alsoKnownAs', '@type': '@id' },
          Hashtag: 'as:Hashtag',
          vcard: 'http://www.w3.org/2006/vcard/ns#',
        },
      ]).ok,
    ).to.equal(true);
  });
});
