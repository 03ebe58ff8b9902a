/** Small HTML builders of the dashboard's forms and messages: every form carries its CSRF token. */
import { escapeHtml } from '../../text/html.ts';

/** A form posting to `action` with the CSRF token; `inner` is its fields and button (already HTML). */
export function postForm(
  action: string,
  csrf: string,
  inner: string,
  o: { cls?: string; multipart?: boolean; label?: string } = {},
): string {
  const enc = o.multipart ? ' enctype="multipart/form-data"' : '';
  const cls = o.cls ? ` class="${o.cls}"` : '';
  const label = o.label ? ` aria-label="${escapeHtml(o.label)}"` : '';
  return `<form method="post" action="${escapeHtml(action)}"${enc}${cls}${label}>
<input type="hidden" name="_csrf" value="${escapeHtml(csrf)}">
${inner}
</form>`;
}

/** A one-button form (an action on one row), with hidden fields. */
export function buttonForm(
  action: string,
  csrf: string,
  label: string,
  hidden: Record<string, string>,
  danger = false,
): string {
  const fields = Object.entries(hidden)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('');
  return postForm(
    action,
    csrf,
    `${fields}<button type="submit"${danger ? ' class="danger"' : ''}>${escapeHtml(label)}</button>`,
    { cls: 'inline' },
  );
}

/** A labelled text input; `o.id` tells apart two fields of one name on a page (their labels need distinct ids). */
export function textField(
  name: string,
  label: string,
  value: string,
  o: { hint?: string; required?: boolean; max?: number; type?: string; id?: string } = {},
): string {
  const id = `f-${o.id ?? name}`;
  const hint = o.hint ? `<span class="hint" id="${id}-hint">${escapeHtml(o.hint)}</span>` : '';
  const described = o.hint ? ` aria-describedby="${id}-hint"` : '';
  return `<p class="field"><label for="${id}">${escapeHtml(label)}</label>
<input id="${id}" name="${escapeHtml(name)}" type="${o.type ?? 'text'}" value="${escapeHtml(value)}"${o.required ? ' required' : ''}${o.max ? ` maxlength="${o.max}"` : ''}${described}>${hint}</p>`;
}

/** A labelled textarea. */
export function textArea(name: string, label: string, value: string, max: number): string {
  const id = `f-${name}`;
  return `<p class="field"><label for="${id}">${escapeHtml(label)}</label>
<textarea id="${id}" name="${escapeHtml(name)}" rows="5" maxlength="${max}">${escapeHtml(value)}</textarea></p>`;
}

/** A labelled select of fixed options. */
export function selectField(
  name: string,
  label: string,
  value: string,
  options: Array<[string, string]>,
): string {
  const id = `f-${name}`;
  const opts = options
    .map(
      ([v, text]) =>
        `<option value="${escapeHtml(v)}"${v === value ? ' selected' : ''}>${escapeHtml(text)}</option>`,
    )
    .join('');
  return `<p class="field"><label for="${id}">${escapeHtml(label)}</label>
<select id="${id}" name="${escapeHtml(name)}">${opts}</select></p>`;
}

/** A checkbox, with a hidden `0` so that unchecking is sent too. */
export function checkField(name: string, label: string, checked: boolean): string {
  const id = `f-${name}`;
  return `<p class="field check"><input type="hidden" name="${escapeHtml(name)}" value="0">
<input id="${id}" name="${escapeHtml(name)}" type="checkbox" value="1"${checked ? ' checked' : ''}>
<label for="${id}">${escapeHtml(label)}</label></p>`;
}

/** A message at the top of a page: what was done, or what was wrong (announced to screen readers). */
export function notice(kind: 'done' | 'error', text: string): string {
  return kind === 'error'
    ? `<div class="notice error" role="alert" id="notice">${escapeHtml(text)}</div>`
    : `<div class="notice done" role="status" id="notice">${escapeHtml(text)}</div>`;
}
