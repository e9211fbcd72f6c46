/** What backend a run measured, as data and as a short label ("legacy, flush 60000 ms"). */
import type { StackInfo } from '../stack/types';

export interface BackendDescription {
  kind: 'reference' | 'command' | 'external';
  mode: string | null;
  /** The WriteApi flush interval of the reference backend; null when unknown. */
  flushIntervalMs: number | null;
}

/** The reference backend's legacy default (the influxdb-client library default). */
export const LEGACY_DEFAULT_FLUSH_MS = 60_000;

export function describeBackend(stack: StackInfo): BackendDescription {
  const spec = stack.backend.spec;
  if (!spec) return { kind: 'external', mode: null, flushIntervalMs: null };
  if (spec.kind === 'command') return { kind: 'command', mode: null, flushIntervalMs: null };
  const flush = spec.flushIntervalMs ?? (spec.mode === 'legacy' ? LEGACY_DEFAULT_FLUSH_MS : null);
  return { kind: 'reference', mode: spec.mode, flushIntervalMs: flush };
}

export function backendLabel(d: BackendDescription): string {
  if (d.kind === 'external') return 'external backend';
  if (d.kind === 'command') return 'backend started by command';
  return d.flushIntervalMs !== null && d.mode === 'legacy' ? `${d.mode}, flush ${d.flushIntervalMs} ms` : `${d.mode}`;
}
