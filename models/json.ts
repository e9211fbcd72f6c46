/**
 * JSON helpers shared by the plan, the model and the checker. Pure.
 */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Bytes the string takes in UTF-8, as on the wire (what Content-Length and
 * body-parser's `limit` count). A lone surrogate is encoded as U+FFFD (3 bytes),
 * as Node's encoder does.
 */
export function utf8ByteLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) { n += 4; i++; } else n += 3;
    } else n += 3;
  }
  return n;
}

/**
 * JSON text with object keys sorted at every depth, so two values that differ
 * only in key order compare equal. Non-finite numbers become `null`, -0 becomes
 * `0`, exactly as JSON.stringify does (and as an SSE broadcast would show them).
 */
export function canonicalJson(value: unknown): string {
  // Iterative, with an explicit stack: hostile bodies nest thousands deep and
  // must not exhaust the call stack (JSON.stringify itself gives up near 10k).
  const out: string[] = [];
  type Frame = { kind: 'value'; v: unknown } | { kind: 'text'; s: string };
  const stack: Frame[] = [{ kind: 'value', v: value }];
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (f.kind === 'text') { out.push(f.s); continue; }
    const v = f.v;
    if (Array.isArray(v)) {
      const parts: Frame[] = [{ kind: 'text', s: '[' }];
      v.forEach((x, i) => {
        if (i > 0) parts.push({ kind: 'text', s: ',' });
        parts.push(x === undefined || typeof x === 'function' ? { kind: 'text', s: 'null' } : { kind: 'value', v: x });
      });
      parts.push({ kind: 'text', s: ']' });
      for (let i = parts.length - 1; i >= 0; i--) stack.push(parts[i]!);
    } else if (isPlainObject(v)) {
      const keys = Object.keys(v).sort().filter((k) => v[k] !== undefined && typeof v[k] !== 'function');
      const parts: Frame[] = [{ kind: 'text', s: '{' }];
      keys.forEach((k, i) => {
        parts.push({ kind: 'text', s: `${i > 0 ? ',' : ''}${JSON.stringify(k)}:` }, { kind: 'value', v: v[k] });
      });
      parts.push({ kind: 'text', s: '}' });
      for (let i = parts.length - 1; i >= 0; i--) stack.push(parts[i]!);
    } else {
      // Primitives as JSON.stringify writes them (-0 as 0, non-finite as null).
      out.push(JSON.stringify(v) ?? 'undefined');
    }
  }
  return out.join('');
}

export type BodyParse =
  | { ok: true; value: unknown }
  | { ok: false; error: string };

/**
 * Parse a request body the way Express's `express.json()` (body-parser, strict
 * mode) does: an empty body is `{}`; otherwise the first non-blank character
 * must be `{` or `[`; then plain JSON.parse (so `1e309` becomes Infinity).
 */
export function parseJsonBodyStrict(text: string): BodyParse {
  if (text.length === 0) return { ok: true, value: {} };
  const first = /^[\x20\x09\x0a\x0d]*(.)/s.exec(text)?.[1];
  if (first !== '{' && first !== '[') {
    return { ok: false, error: `strict JSON body must start with { or [ (got ${JSON.stringify(first ?? '')})` };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/** JSON.parse that never throws. */
export function tryParseJson(text: string): BodyParse {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}
