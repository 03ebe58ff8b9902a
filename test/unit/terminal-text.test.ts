import { expect } from 'chai';
import { field, terminalSafe } from '../../src/cli/terminal-text.ts';

describe('terminal text', function () {
  it('escapes control characters but keeps tabs and newlines as the layout of a line', function () {
    expect(terminalSafe('a\tb\nc\u001b[31md\u0007\u0000\u007f\u009b')).to.equal(
      'a\tb\nc\\x1b[31md\\x07\\x00\\x7f\\x9b',
    );
    expect(terminalSafe('\u202eevil\u2066x\u2069\u2028')).to.equal('\\u202eevil\\u2066x\\u2069\\u2028');
  });

  it('escapes tabs, newlines and carriage returns in a value', function () {
    expect(field('a\tb\nc\rd')).to.equal('a\\tb\\nc\\rd');
    expect(field('plain text, émoji 🦀 and ZWJ 👩‍💻')).to.equal('plain text, émoji 🦀 and ZWJ 👩‍💻');
  });
});
