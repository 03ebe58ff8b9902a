import { expect } from 'chai';
import { htmlToText, sanitizeHtml } from '../../src/web/sanitize-html.ts';

describe('sanitizeHtml', function () {
  it('keeps the allowed formatting and drops attributes', function () {
    expect(
      sanitizeHtml('<p class="x" style="color:red">Hi <strong>there</strong> <em>you</em></p>'),
    ).to.equal('<p>Hi <strong>there</strong> <em>you</em></p>');
    expect(sanitizeHtml('<ul><li>a</li><li>b<br/>c</li></ul><pre><code>x &lt; y</code></pre>')).to.equal(
      '<ul><li>a</li><li>b<br>c</li></ul><pre><code>x &lt; y</code></pre>',
    );
    expect(sanitizeHtml('<b>bold</b> <i>it</i>')).to.equal('<strong>bold</strong> <em>it</em>');
  });

  it('keeps http(s) links only, with rel=nofollow', function () {
    expect(sanitizeHtml('<a href="https://x.example/a?b=1&amp;c=2" onclick="evil()">x</a>')).to.equal(
      '<a href="https://x.example/a?b=1&amp;c=2" rel="nofollow noopener noreferrer ugc">x</a>',
    );
    for (const href of [
      'javascript:alert(1)',
      'java&#115;cript:alert(1)',
      ' JAVASCRIPT:x',
      'data:text/html,x',
      '//x',
    ]) {
      expect(sanitizeHtml(`<a href="${href}">x</a>`)).to.equal('x');
    }
  });

  it('removes scripts, styles, event handlers, comments and unknown tags', function () {
    const out = sanitizeHtml(
      '<script>alert(1)</script><style>p{}</style><img src=x onerror=alert(1)><!-- <p>hidden</p> -->' +
        '<div onmouseover="x">text</div><iframe src="https://e.example"></iframe><SCRIPT >bad()</SCRIPT >ok',
    );
    expect(out).to.not.match(/script|style|onerror|onmouseover|iframe|img|alert|bad\(\)|hidden/i);
    expect(out).to.contain('text');
    expect(out).to.match(/ok$/);
  });

  it('escapes text and balances tags', function () {
    expect(sanitizeHtml('1 < 2 & "3" > 0')).to.equal('1 &lt; 2 &amp; "3" &gt; 0');
    expect(sanitizeHtml('<p><strong>open')).to.equal('<p><strong>open</strong></p>');
    expect(sanitizeHtml('</p>text</em>')).to.equal('text');
    expect(sanitizeHtml('<p title="a>b">x</p>')).to.equal('<p>x</p>');
    expect(sanitizeHtml('caf&eacute; &#60;b&#62;')).to.equal('caf&eacute; &#60;b&#62;');
  });

  it('turns HTML into plain text', function () {
    expect(htmlToText('<p>Hello <b>wor</b>ld</p><p>&lt;tag&gt;&nbsp;&amp; more</p>')).to.equal(
      'Hello world <tag> & more',
    );
  });
});
