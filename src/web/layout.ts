/** The HTML frame shared by every page: plain, accessible markup and one small stylesheet. */
import { escapeHtml } from '../groups/markdown.ts';

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/static/guild.css">
</head>
<body>
<header class="site"><a href="/" class="brand">Guild</a></header>
<main>
${body}
</main>
</body>
</html>
`;
}
