import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, parseJsonBodyStrict, utf8ByteLength } from './json';

describe('utf8ByteLength', () => {
  it('matches Buffer.byteLength for any string, lone surrogates included', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
      expect(utf8ByteLength(s)).toBe(Buffer.byteLength(s, 'utf8'));
    }));
    expect(utf8ByteLength('\ud800x')).toBe(Buffer.byteLength('\ud800x', 'utf8'));
    expect(utf8ByteLength('🚗')).toBe(4);
    expect(utf8ByteLength('é')).toBe(2);
  });
});

describe('canonicalJson', () => {
  it('ignores key order at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } }))
      .toBe(canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }));
  });
  it('writes -0 as 0 and non-finite numbers as null, like JSON.stringify', () => {
    expect(canonicalJson({ a: -0, b: Infinity })).toBe('{"a":0,"b":null}');
  });
  it('keeps a "__proto__" key as a plain field', () => {
    const v = JSON.parse('{"__proto__":{"x":1},"a":1}');
    expect(canonicalJson(v)).toBe('{"__proto__":{"x":1},"a":1}');
  });
  it('survives hostile nesting far deeper than the call stack (deepNesting bodies)', () => {
    const text = `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    expect(canonicalJson(JSON.parse(text))).toBe(text);
  });
  it('is valid JSON for the same value, and sorted keys make it canonical', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      const text = canonicalJson(v);
      expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(v)));
      const reversed = JSON.parse(JSON.stringify(v), (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x)
        ? Object.fromEntries(Object.entries(x).reverse()) : x));
      expect(canonicalJson(reversed)).toBe(text);
    }), { numRuns: 300, seed: 5 });
  });
});

describe('parseJsonBodyStrict (express.json strict mode)', () => {
  it('parses objects and arrays, 1e309 as Infinity', () => {
    expect(parseJsonBodyStrict('{"a":1e309}')).toEqual({ ok: true, value: { a: Infinity } });
    expect(parseJsonBodyStrict(' [1]')).toEqual({ ok: true, value: [1] });
  });
  it('treats an empty body as {}', () => {
    expect(parseJsonBodyStrict('')).toEqual({ ok: true, value: {} });
  });
  it('refuses scalars, blanks and broken JSON', () => {
    for (const t of ['42', '"s"', 'null', 'true', '   ', '{"a":', 'not json', '{"a":NaN}']) {
      expect(parseJsonBodyStrict(t).ok, t).toBe(false);
    }
  });
});
