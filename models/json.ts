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
  return JSON.stringify(sortKeys(value)) ?? 'undefined';
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    // defineProperty keeps a "__proto__" key a plain field.
    for (const k of Object.keys(v).sort()) Object.defineProperty(out, k, { value: sortKeys(v[k]), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
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
