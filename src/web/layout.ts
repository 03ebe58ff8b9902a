/** The HTML frame shared by every page: plain, accessible markup, one small stylesheet and one small script. */
import { escapeHtml } from '../text/html.ts';

export function page(title: string, body: string, opts: { description?: string } = {}): string {
  const description = opts.description
    ? `\n<meta name="description" content="${escapeHtml(opts.description)}">`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>${description}
<link rel="stylesheet" href="/static/guild.css">
<script src="/static/guild.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site"><a href="/" class="brand">Guild</a></header>
<main id="main">
${body}
</main>
</body>
</html>
`;
}
