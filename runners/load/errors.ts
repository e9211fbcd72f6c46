/**
 * Classify a failed request the way the loss report needs it: what the
 * Jetson would have seen (timeout, refused, reset) versus our own shutdown.
 */

export const ERROR_CLASSES = ['timeout', 'refused', 'reset', 'aborted', 'other'] as const;
/**
 * - timeout: no complete reply within the request timeout (Jetson: 2 s);
 * - refused: nothing listening (backend down / restarting);
 * - reset: the connection broke mid-exchange (crash, proxy cut, server closed);
 * - aborted: the publisher itself cancelled the request (run aborted / drain
 *   timed out) — a tool artefact, never blamed on the backend;
 * - other: anything else (the code is kept in the record).
 */
export type ErrorClass = (typeof ERROR_CLASSES)[number];

const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const REFUSED_CODES = new Set(['ECONNREFUSED']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);
const ABORTED_CODES = new Set(['UND_ERR_ABORTED', 'UND_ERR_DESTROYED', 'UND_ERR_CLOSED', 'ABORT_ERR']);

export interface ClassifiedError {
  errorClass: ErrorClass;
  /** The most specific code found (e.g. ECONNREFUSED, UND_ERR_SOCKET) or the error name. */
  code: string;
}

export function classifyError(err: unknown): ClassifiedError {
  const codes = collectCodes(err, 0);
  const name = err instanceof Error ? err.name : typeof err;
  // The innermost OS error is the most telling (undici wraps ECONNRESET in UND_ERR_SOCKET).
  for (const c of codes) if (REFUSED_CODES.has(c)) return { errorClass: 'refused', code: c };
  for (const c of codes) if (TIMEOUT_CODES.has(c)) return { errorClass: 'timeout', code: c };
  if (name === 'TimeoutError') return { errorClass: 'timeout', code: codes[0] ?? name };
  for (const c of codes) if (RESET_CODES.has(c)) return { errorClass: 'reset', code: c };
  for (const c of codes) if (ABORTED_CODES.has(c)) return { errorClass: 'aborted', code: c };
  if (name === 'AbortError') return { errorClass: 'aborted', code: codes[0] ?? name };
  return { errorClass: 'other', code: codes[0] ?? name };
}

/** Codes of the error, its `cause` chain and AggregateError members (bounded depth). */
function collectCodes(err: unknown, depth: number): string[] {
  if (depth > 4 || err === null || typeof err !== 'object') return [];
  const out: string[] = [];
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string') out.push(e.code);
  if (Array.isArray(e.errors)) for (const inner of e.errors) out.push(...collectCodes(inner, depth + 1));
  if (e.cause !== undefined) out.push(...collectCodes(e.cause, depth + 1));
  return out;
}

/** An error our own timeout sweep raises (classified as 'timeout'). */
export class RequestTimeoutError extends Error {
  readonly code = 'TP_REQUEST_TIMEOUT';
  constructor(timeoutMs: number) {
    super(`no complete reply within ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

export function emptyErrorCounts(): Record<ErrorClass, number> {
  return { timeout: 0, refused: 0, reset: 0, aborted: 0, other: 0 };
}
