/**
 * Secrets (API key, InfluxDB token, SSE token) must never reach a report or
 * a log line: every string of a value is scrubbed of them before it is
 * written, and credentials inside URLs are masked.
 */

export const REDACTED = '***';

/** Secrets worth scrubbing: non-empty and long enough not to mangle ordinary words. */
export function secretsOf(values: ReadonlyArray<string | undefined | null>): string[] {
  return [...new Set(values.filter((v): v is string => typeof v === 'string' && v.length >= 4))].sort((a, b) => b.length - a.length);
}

/** `http://user:pass@host/…` → `http://***@host/…`; anything that is not a URL is returned as is. */
export function maskUrlCredentials(text: string): string {
  return text.replace(/(\bhttps?:\/\/)([^/\s@]+)@/gi, `$1${REDACTED}@`);
}

export function redactText(text: string, secrets: readonly string[]): string {
  let out = maskUrlCredentials(text);
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

/** A deep copy of `value` with every string (keys too) redacted. */
export function redactDeep<T>(value: T, secrets: readonly string[]): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redactText(v, secrets);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [redactText(k, secrets), walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}
