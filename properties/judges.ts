/**
 * Judges that are not one of the checker's eight properties but a view of
 * them: the same violations, restricted to the requests a question is about.
 */
import type { PropertyResult, Verdict, Violation } from '../models/checker';

function result(violations: Violation[]): PropertyResult {
  return { ok: violations.length === 0, details: violations.map((x) => `${x.property} [${x.category}] ${x.message}`), violations };
}

/**
 * Auth is enforced: every request with a missing or wrong API key is refused
 * (401/403, with the contract's message), never answered 2xx or 5xx, and
 * never stored or broadcast. Any violation that names such a request fails.
 */
export function authEnforced(v: Verdict): PropertyResult {
  const unauthenticated = new Set(v.perSample.filter((s) => s.apiKey !== 'valid').map((s) => s.requestId));
  return result(v.violations.filter((x) => x.requestIds.some((id) => unauthenticated.has(id))));
}

/** Only the acknowledged samples stored under a mangled key or with other values (ack_implies_stored, corrupted). */
export function storedCorrupted(v: Verdict): PropertyResult {
  return result(v.violations.filter((x) => x.property === 'ack_implies_stored' && x.category === 'corrupted'));
}
