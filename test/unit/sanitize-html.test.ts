import { expect } from 'chai';
import { htmlToText, sanitizeHtml } from '../../src/web/sanitize-html.ts';
import { Parser } from 'htmlparser2';

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
    // Character references are decoded by the parser and escaped again: they cannot form markup.
    expect(sanitizeHtml('caf&eacute; &#60;b&#62;')).to.equal('café &lt;b&gt;');
  });

  it('turns HTML into plain text', function () {
    expect(htmlToText('<p>Hello <b>wor</b>ld</p><p>&lt;tag&gt;&nbsp;&amp; more</p>')).to.equal(
      'Hello world <tag> & more',
    );
  });
});

/**
 * What a browser-like HTML parser makes of the output: every element and attribute in it. The output must hold
 * nothing but the allow-list, and sanitising it again must change nothing (no markup that reparses otherwise).
 */
function parsedShape(html: string): { tags: string[]; attributes: string[]; hrefs: string[] } {
  const shape = { tags: [] as string[], attributes: [] as string[], hrefs: [] as string[] };
  const parser = new Parser({
    onopentag(name, attribs) {
      shape.tags.push(name);
      for (const [k, v] of Object.entries(attribs)) {
        shape.attributes.push(`${name}.${k}`);
        if (k === 'href') shape.hrefs.push(v);
      }
    },
  });
  parser.write(html);
  parser.end();
  return shape;
}

const ALLOWED_TAGS = ['p', 'br', 'a', 'strong', 'em', 'code', 'pre', 'ul', 'ol', 'li', 'blockquote'];

describe('sanitizeHtml against XSS', function () {
  // Payloads from the OWASP XSS filter evasion cheat sheet and the mutation-XSS literature.
  const payloads = [
    '<img src=x onerror=alert(1)>',
    '<svg onload=alert(1)><script>alert(1)</script></svg>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href=" &#14; javascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="https://x.example/&quot;onmouseover=&quot;alert(1)">x</a>',
    `<a href='https://x.example/"onmouseover="alert(1)'>x</a>`,
    '<a href="https://user:pw@x.example/">x</a>',
    '<scr<script>ipt>alert(1)</script>',
    '<<script>script>alert(1)<</script>/script>',
    '<!--<script>-->alert(1)<!--</script>-->',
    '<p title="</p><script>alert(1)</script>">x</p>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    '<xmp><p title="</xmp><img src=x onerror=alert(1)>"></xmp>',
    '<textarea><img src=x onerror=alert(1)></textarea>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>',
    '<svg><style><img src=x onerror=alert(1)></style></svg>',
    '<form><button formaction=javascript:alert(1)>x</button></form>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object><embed src="javascript:alert(1)">',
    '<base href="javascript:/"><meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<p style="background:url(javascript:alert(1))" onclick="alert(1)">x</p>',
    '<a href="https://ok.example/" style="position:fixed" target="_top" onmouseover="alert(1)">x</a>',
    '<blockquote cite="javascript:alert(1)"><p>x</p></blockquote>',
    '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>',
    '<IMG SRC="jav\tascript:alert(1);">',
    '<scr\u0000ipt>alert(1)</scr\u0000ipt>',
    '<p title="x',
    `${'<em>'.repeat(200)}deep${'</em>'.repeat(200)}`,
  ];
  for (const payload of payloads) {
    it(`makes ${JSON.stringify(payload.slice(0, 60))} harmless`, function () {
      const out = sanitizeHtml(payload);
      const shape = parsedShape(out);
      expect(shape.tags.filter((t) => !ALLOWED_TAGS.includes(t))).to.deep.equal([]);
      expect(shape.attributes.filter((a) => a !== 'a.href' && a !== 'a.rel')).to.deep.equal([]);
      for (const href of shape.hrefs) expect(href).to.match(/^https?:\/\/[^\s"'<>@]+$/);
      expect(out).not.to.match(/<script|<img|<svg|<iframe|onerror\s*=|onload\s*=|javascript:/i);
      expect(sanitizeHtml(out), 'sanitising again changes nothing').to.equal(out);
    });
  }

  it('keeps text that only looks like markup as text', function () {
    expect(sanitizeHtml('<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>')).to.equal(
      '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>',
    );
    expect(htmlToText('<p>&lt;script&gt;</p><script>alert(1)</script>')).to.equal('<script>');
  });

  it('renders Mastodon link markup as one link with its whole text', function () {
    // The shape Mastodon gives links in statuses (app/lib/text_formatter.rb: invisible and ellipsis spans).
    const mastodon =
      '<p>see <a href="https://example.com/some/long/path" rel="nofollow noopener" target="_blank">' +
      '<span class="invisible">https://</span><span class="ellipsis">example.com/some/lo</span>' +
      '<span class="invisible">ng/path</span></a></p>';
    expect(sanitizeHtml(mastodon)).to.equal(
      '<p>see <a href="https://example.com/some/long/path" rel="nofollow noopener noreferrer ugc">' +
        'https://example.com/some/long/path</a></p>',
    );
  });
});
