/** Plain-text tables for the command line: columns padded to their widest cell. */

/**
 * `align` gives each column's side ('l' or 'r', default 'l'); the last column is never
 * padded, so lines carry no trailing spaces.
 */
export function formatTable(header: string[], rows: string[][], align: string = ''): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        if (align[i] === 'r') return cell.padStart(width);
        return i === cells.length - 1 ? cell : cell.padEnd(width);
      })
      .join('  ');
  return [header, ...rows].map(line).join('\n');
}
