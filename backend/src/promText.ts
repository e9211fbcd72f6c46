/**
 * Minimal Prometheus text-format helpers (exposition format 0.0.4). We only
 * need counters and gauges with a few labels; no client library needed.
 */

export type Labels = Record<string, string>;

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatLabels(labels?: Labels): string {
  if (!labels) return '';
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

export interface Sample { labels?: Labels; value: number }

/** One metric family: HELP, TYPE and its samples. */
export function promMetric(
  name: string,
  type: 'counter' | 'gauge' | 'summary',
  help: string,
  samples: Sample[] | number,
): string {
  const list: Sample[] = typeof samples === 'number' ? [{ value: samples }] : samples;
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const s of list) lines.push(`${name}${formatLabels(s.labels)} ${formatNumber(s.value)}`);
  return `${lines.join('\n')}\n`;
}

/** Raw sample line (for summary _sum/_count lines that share a family). */
export function promSample(name: string, value: number, labels?: Labels): string {
  return `${name}${formatLabels(labels)} ${formatNumber(value)}\n`;
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
