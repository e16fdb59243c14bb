/**
 * What a caller typed is shown to operators, stored in PostgreSQL (which
 * rejects NUL) and written to logs. Control characters, bidirectional
 * overrides and zero-width characters are removed; nothing else is changed.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF\uFFFD]/g;

export function sanitizeText(raw: string): string {
  return raw.replace(UNSAFE, '').replace(/[\r\n\t]+/g, ' ');
}
