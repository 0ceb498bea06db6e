/** One CSV line, quoting fields as RFC 4180 asks (comma, quote or line break inside). */
export function formatCsvRow(fields: readonly (string | number)[]): string {
  return fields
    .map((field) => {
      const text = String(field);
      return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
    })
    .join(',');
}
