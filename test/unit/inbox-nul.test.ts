/**
 * The inbox refuses activities carrying U+0000: no real activity has it, and stores on PostgreSQL (FerretDB's
 * backend in the MongoDB test run) cannot hold the character, so an accepted one could never be processed.
 */
import { expect } from 'chai';
import { hasNulEscape } from '../../src/federation/inbox.receiver.ts';

describe('inbox: the character U+0000', function () {
  it('is found in any string or key of the JSON text, escaped as JSON escapes it', function () {
    expect(hasNulEscape(JSON.stringify({ content: 'a\u0000b' }))).to.equal(true);
    expect(hasNulEscape(JSON.stringify({ 'key\u0000': 1 }))).to.equal(true);
    expect(hasNulEscape(JSON.stringify({ content: 'a backslash, then the character\\\u0000' }))).to.equal(
      true,
    );
    expect(hasNulEscape('{"a":"\\u0000"}')).to.equal(true);
  });

  it('is not mistaken in text that only spells its escape out', function () {
    expect(hasNulEscape(JSON.stringify({ content: 'JSON writes it \\u0000' }))).to.equal(false);
    expect(hasNulEscape('{"a":"\\\\u0000"}')).to.equal(false);
    expect(hasNulEscape(JSON.stringify({ content: 'nothing here' }))).to.equal(false);
  });
});
