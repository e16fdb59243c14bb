/**
 * CSV for spreadsheets. Every cell is quoted (so a `;` inside text stays in
 * its cell whatever delimiter a French-locale spreadsheet assumes), and a
 * cell whose first visible character a spreadsheet would read as a formula
 * (= + - @, tab, CR, LF, also in their full-width forms) gets a leading
 * quote, so text a caller typed can never run as a formula (OWASP CSV
 * injection).
 */
const FORMULA_START = /^[=+\-@\t\r\n]/;

export function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? '' : value instanceof Date ? value.toISOString() : String(value);
  if (FORMULA_START.test(text.normalize('NFKC').trimStart())) text = `'${text}`;
  return `"${text.replace(/"/g, '""')}"`;
}

export function csvRow(values: readonly unknown[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}
