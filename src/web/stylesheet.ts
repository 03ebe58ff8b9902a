/** The one stylesheet: readable defaults, visible focus, light and dark, no framework. */
export const STYLESHEET = `
:root { color-scheme: light dark; --accent: #3b5bdb; --line: #8884; --muted: #6b6f76; --card: #8881; }
@media (prefers-color-scheme: dark) { :root { --accent: #91a7ff; --muted: #a0a4ab; } }
* { box-sizing: border-box; }
body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: .5rem; background: Canvas; padding: .25rem .5rem; z-index: 1; }
header.site { padding: .75rem 1rem; border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; font-size: 1.1rem; text-decoration: none; color: var(--accent); }
main { max-width: 48rem; margin: 0 auto; padding: 1rem; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
h1 { margin: .25rem 0; line-height: 1.2; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
form.search, form.join { display: flex; gap: .5rem; flex-wrap: wrap; align-items: center; margin: 1rem 0; }
form.search input { flex: 1 1 14rem; }
input { font: inherit; padding: .45rem .6rem; border: 1px solid var(--line); border-radius: .375rem; }
button { font: inherit; padding: .45rem .9rem; cursor: pointer; border-radius: .375rem;
  border: 1px solid var(--accent); background: var(--accent); color: #fff; }
@media (prefers-color-scheme: dark) { button { color: #111; } }
button.copy { padding: .1rem .6rem; font-size: .875rem; background: transparent; color: var(--accent); }
code { background: var(--card); padding: .1rem .3rem; border-radius: .25rem; overflow-wrap: anywhere; }
#handle { user-select: all; }
.muted, .stats { color: var(--muted); }
.notice { border: 1px solid var(--accent); border-radius: .5rem; padding: .75rem 1rem; }
.peer { color: var(--muted); font-size: .9em; }
.count { color: var(--muted); margin: 0; }
ul.groups, ol.posts { list-style: none; padding: 0; }
ul.groups li.group-card { display: flex; gap: .9rem; border: 1px solid var(--line); border-radius: .5rem;
  padding: .75rem 1rem; margin: .75rem 0; }
ul.groups h2 { margin: 0; font-size: 1.15rem; }
ul.groups p { margin: .2rem 0; }
.icon { width: 96px; height: 96px; border-radius: 50%; object-fit: cover; flex: none; background: var(--card); }
ul.groups .icon { width: 48px; height: 48px; }
.icon.placeholder { display: inline-flex; align-items: center; justify-content: center; font-weight: 700;
  font-size: 2.5rem; color: var(--accent); }
ul.groups .icon.placeholder { font-size: 1.4rem; }
.banner { display: block; width: 100%; max-height: 14rem; object-fit: cover; border-radius: .5rem; }
.profile .identity { display: flex; gap: 1rem; align-items: center; margin-top: .75rem; }
.profile .banner + .identity { margin-top: .5rem; padding-left: 1rem; align-items: flex-start; }
.profile .banner + .identity .icon { margin-top: -3.5rem; border: 4px solid Canvas; }
.handle { margin: .25rem 0; display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; }
.handle .label { color: var(--muted); }
.copy-status { color: var(--muted); font-size: .875rem; }
ul.tags { list-style: none; padding: 0; margin: .5rem 0; display: flex; flex-wrap: wrap; gap: .4rem; }
ul.tags li, p.tags a { background: var(--card); border-radius: 1rem; padding: .05rem .6rem; font-size: .9rem; }
p.tags a { text-decoration: none; margin-right: .3rem; }
ul.tags a { text-decoration: none; }
.join-box { border: 1px solid var(--line); border-radius: .5rem; padding: .25rem 1rem; margin: 1rem 0; }
.join-box h2 { margin-top: .75rem; }
ol.posts li.post { border-top: 1px solid var(--line); padding: .75rem 0; }
.byline { margin: 0 0 .25rem; font-size: .9rem; }
.post h3 { margin: .25rem 0; font-size: 1.05rem; }
.post .content { overflow-wrap: anywhere; }
.post .content p { margin: .25rem 0; }
.post blockquote { border-left: 3px solid var(--line); margin: .5rem 0; padding-left: .75rem; }
.post pre { overflow-x: auto; background: var(--card); padding: .5rem; }
nav.pager { margin: 1rem 0; }
/* The dashboard: forms, rows of actions, sections. */
.account { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; justify-content: flex-end; font-size: .95rem; }
form.inline { display: inline; margin: 0 .25rem 0 0; }
form.stack { display: grid; gap: .25rem; max-width: 36rem; margin: .5rem 0 1rem; }
.field { margin: .35rem 0; display: grid; gap: .2rem; }
.field.check { display: flex; gap: .5rem; align-items: center; }
.field label { font-weight: 600; }
.hint { color: var(--muted); font-size: .875rem; }
textarea, select { font: inherit; padding: .45rem .6rem; border: 1px solid var(--line); border-radius: .375rem; }
button.danger { background: #b42318; border-color: #b42318; color: #fff; }
.notice { border-radius: .375rem; padding: .6rem .9rem; margin: .75rem 0; border: 2px solid; }
.notice.done { border-color: #2b8a3e; }
.notice.error { border-color: #b42318; }
nav.sections ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .4rem; }
nav.sections a { display: inline-block; padding: .2rem .7rem; border: 1px solid var(--line); border-radius: 1rem;
  text-decoration: none; }
nav.sections a[aria-current="page"] { background: var(--accent); border-color: var(--accent); color: Canvas; }
ul.rows { list-style: none; padding: 0; }
ul.rows > li { border-top: 1px solid var(--line); padding: .6rem 0; overflow-wrap: anywhere; }
ul.rows blockquote { border-left: 3px solid var(--line); margin: .5rem 0; padding-left: .75rem; }
.role { text-transform: capitalize; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; border-bottom: 1px solid var(--line); padding: .35rem .4rem; vertical-align: top;
  overflow-wrap: anywhere; }
caption { text-align: left; color: var(--muted); }
`;
