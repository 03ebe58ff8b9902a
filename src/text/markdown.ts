/** Markdown source (group summaries and rules) to safe HTML: raw HTML in the source is escaped, links kept. */
import { Marked } from 'marked';
import { escapeHtml } from './html.ts';

const marked = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: {
    html({ text }) {
      return escapeHtml(text);
    },
    link({ href, title, tokens }) {
      const text = this.parser.parseInline(tokens);
      if (!/^https?:\/\//i.test(href)) return text;
      const t = title ? ` title="${escapeHtml(title)}"` : '';
      return `<a href="${escapeHtml(href)}"${t} rel="nofollow noopener noreferrer">${text}</a>`;
    },
    image({ href, text }) {
      return /^https?:\/\//i.test(href)
        ? `<img src="${escapeHtml(href)}" alt="${escapeHtml(text)}">`
        : escapeHtml(text);
    },
  },
});

export function markdownToHtml(source: string): string {
  return (marked.parse(source) as string).trim();
}
