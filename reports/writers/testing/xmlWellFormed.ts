/**
 * A small XML 1.0 well-formedness checker for tests (no XML parser is
 * installed): balanced tags, one root, quoted attributes, no duplicate
 * attributes, valid entity references, no forbidden characters.
 * Returns the problems found (empty = well-formed).
 */
const NAME = /^[A-Za-z_:][-A-Za-z0-9_.:]*/;
const ENTITY = /^&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);/;
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export function xmlProblems(xml: string): string[] {
  const problems: string[] = [];
  if (FORBIDDEN.test(xml)) problems.push('contains a character XML 1.0 forbids');
  const stack: string[] = [];
  let roots = 0;
  let i = 0;
  const checkText = (text: string, where: string): void => {
    for (let k = text.indexOf('&'); k >= 0; k = text.indexOf('&', k + 1)) {
      if (!ENTITY.test(text.slice(k))) problems.push(`bad entity reference in ${where}: ${text.slice(k, k + 12)}`);
    }
    if (text.includes('<')) problems.push(`raw < in ${where}`);
  };
  if (xml.startsWith('<?xml')) {
    const end = xml.indexOf('?>');
    if (end < 0) return [...problems, 'unterminated XML declaration'];
    i = end + 2;
  }
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt < 0 ? xml.length : lt);
    if (text.trim() !== '' && stack.length === 0) problems.push('text outside the root element');
    checkText(text, 'text');
    if (text.includes(']]>')) problems.push(']]> in text');
    if (lt < 0) break;
    i = lt;
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i + 4);
      if (end < 0) return [...problems, 'unterminated comment'];
      i = end + 3;
      continue;
    }
    if (xml.startsWith('<![CDATA[', i)) {
      const end = xml.indexOf(']]>', i);
      if (end < 0) return [...problems, 'unterminated CDATA'];
      i = end + 3;
      continue;
    }
    if (xml.startsWith('</', i)) {
      const m = NAME.exec(xml.slice(i + 2));
      const close = xml.indexOf('>', i);
      if (!m || close < 0) return [...problems, `bad end tag at ${i}`];
      const open = stack.pop();
      if (open !== m[0]) problems.push(`</${m[0]}> closes <${open ?? 'nothing'}>`);
      i = close + 1;
      continue;
    }
    const m = NAME.exec(xml.slice(i + 1));
    if (!m) return [...problems, `bad tag at ${i}: ${xml.slice(i, i + 20)}`];
    const name = m[0];
    let j = i + 1 + name.length;
    const attrs = new Set<string>();
    for (;;) {
      const ws = /^\s*/.exec(xml.slice(j))![0].length;
      j += ws;
      if (xml.startsWith('/>', j)) { j += 2; if (stack.length === 0) roots++; break; }
      if (xml[j] === '>') { j += 1; if (stack.length === 0) roots++; stack.push(name); break; }
      if (ws === 0) return [...problems, `missing space before attribute in <${name}>`];
      const an = NAME.exec(xml.slice(j));
      if (!an) return [...problems, `bad attribute in <${name}> at ${j}`];
      if (attrs.has(an[0])) problems.push(`duplicate attribute ${an[0]} in <${name}>`);
      attrs.add(an[0]);
      j += an[0].length;
      const eq = /^\s*=\s*(["'])/.exec(xml.slice(j));
      if (!eq) return [...problems, `unquoted attribute ${an[0]} in <${name}>`];
      j += eq[0].length;
      const endq = xml.indexOf(eq[1]!, j);
      if (endq < 0) return [...problems, `unterminated attribute ${an[0]}`];
      checkText(xml.slice(j, endq), `attribute ${an[0]}`);
      j = endq + 1;
    }
    i = j;
  }
  if (stack.length > 0) problems.push(`unclosed: ${stack.join(' > ')}`);
  if (roots !== 1) problems.push(`expected one root element, found ${roots}`);
  return problems;
}
