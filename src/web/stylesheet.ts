/** The one stylesheet: readable defaults, visible focus, no framework. */
export const STYLESHEET = `
:root { color-scheme: light dark; --accent: #3b5bdb; }
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; }
header.site { padding: .75rem 1rem; border-bottom: 1px solid #8884; }
.brand { font-weight: 700; text-decoration: none; color: var(--accent); }
main { max-width: 48rem; margin: 0 auto; padding: 1rem; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
form.search, form.join { display: flex; gap: .5rem; flex-wrap: wrap; align-items: center; margin: 1rem 0; }
input { font: inherit; padding: .4rem .6rem; }
button { font: inherit; padding: .4rem .9rem; cursor: pointer; }
ul.groups { list-style: none; padding: 0; }
ul.groups li { border: 1px solid #8884; border-radius: .5rem; padding: .75rem 1rem; margin: .75rem 0; }
ul.groups h2 { margin: 0; font-size: 1.2rem; }
.handle code, code { background: #8882; padding: .1rem .3rem; border-radius: .25rem; }
.muted, .stats { color: #888; }
.tags span { margin-right: .5rem; }
`;
