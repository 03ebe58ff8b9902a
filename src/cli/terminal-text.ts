/**
 * Text from other servers (report reasons, actor ids, audit entries, held posts) made safe to print on a
 * terminal: control characters would otherwise reach it as escape sequences (retitle the window, clear the
 * screen, rewrite earlier lines, hide text, or worse on some terminals), and bidirectional overrides would make
 * the text read otherwise than it is. They are printed as visible escapes (`\x1b`, `\u202e`) instead.
 */

// Matching control characters is the point of these expressions.
/* eslint-disable no-control-regex */
/** C0 controls but tab and newline, DEL, C1 controls, line and paragraph separators, bidi controls. */
const UNSAFE_IN_OUTPUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** The same, and tab and newline: a value printed inside a line cannot start a column or a line. */
const UNSAFE_IN_FIELD = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/* eslint-enable no-control-regex */

const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escape(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** A line (or lines) to print, control characters escaped; tabs and newlines are kept as the layout. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE_IN_OUTPUT, escape);
}

/** A value from outside, to print within a line: tabs and newlines are escaped too. */
export function field(text: string): string {
  return text.replace(UNSAFE_IN_FIELD, escape);
}
