/**
 * Matching resource URIs against RFC 6570 URI templates, to route `resources/read` of a
 * templated URI to the backend that declared the template. Only matching is needed, never
 * expansion, so each template compiles to one anchored regular expression.
 */
const operatorPatterns: ReadonlyMap<string, string> = new Map([
  ['', '[^/?#,]*'], // simple string expansion: one path segment
  ['+', '.*'], // reserved expansion
  ['#', '(?:#.*)?'],
  ['.', '(?:\\.[^/?#]*)*'],
  ['/', '(?:/[^/?#]*)*'],
  [';', '(?:;[^/?#]*)*'],
  ['?', '(?:\\?[^#]*)?'],
  ['&', '(?:&[^#]*)*'],
]);

export function compileUriTemplate(template: string): RegExp {
  let pattern = '';
  let last = 0;
  for (const match of template.matchAll(/\{([+#./;?&]?)([^}]*)\}/g)) {
    pattern += escapeRegExp(template.slice(last, match.index));
    const operator = match[1] ?? '';
    const expression = operatorPatterns.get(operator) ?? '.*';
    // A simple-string variable list like {a,b} may contain commas.
    pattern += operator === '' && (match[2] ?? '').includes(',') ? '[^/?#]*' : expression;
    last = match.index + match[0].length;
  }
  pattern += escapeRegExp(template.slice(last));
  return new RegExp(`^${pattern}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
