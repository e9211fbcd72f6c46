/** Number and text formatting shared by the human-readable writers. */

export const DASH = '–';

export function fmtInt(n: number | null | undefined): string {
  return n === null || n === undefined ? DASH : String(Math.round(n));
}

/** Milliseconds with precision that suits the magnitude (no unit). */
export function fmtMs(v: number | null | undefined): string {
  if (v === null || v === undefined) return DASH;
  if (v < 10) return v.toFixed(2);
  if (v < 1000) return v.toFixed(1);
  return String(Math.round(v));
}

/** A 0..1 share as a percentage. */
export function fmtPct(r: number | null | undefined, digits = 2): string {
  return r === null || r === undefined ? DASH : `${(r * 100).toFixed(digits)}%`;
}

export function fmtMiB(bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined ? DASH : `${(bytes / 1048576).toFixed(1)} MiB`;
}

export function fmtNum(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined ? DASH : Number.isInteger(v) ? String(v) : v.toFixed(digits);
}

export function fmtIso(ms: number): string {
  return new Date(ms).toISOString();
}

export function fmtDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m${String(sec).padStart(2, '0')}s` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

/** Escape text for HTML / XML element content and attribute values. */
export function escapeXml(s: string): string {
  return stripInvalidXmlChars(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Remove characters XML 1.0 forbids (control characters, lone surrogates, U+FFFE/FFFF). */
export function stripInvalidXmlChars(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '');
}

/** Neutralise HTML in Markdown text (renderers pass raw tags through) and drop control characters. */
export function mdText(s: string): string {
  return stripInvalidXmlChars(s).replace(/</g, '&lt;');
}

/** Escape a table cell for Markdown (pipes and newlines break a row). */
export function mdCell(s: string): string {
  return mdText(s).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
