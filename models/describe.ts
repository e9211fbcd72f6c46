/**
 * Short human descriptions of a (shrunk) plan, as markdown, for issue.md.
 */
import { isPlainObject, type JsonValue } from './json';
import { vehicleIdOf, type BodySpec, type Plan, type TimestampSpec } from './plan';

const MAX_CELL = 240;

export function describePlan(plan: Plan): string {
  const lines: string[] = [];
  const span = plan.requests.reduce((m, r) => Math.max(m, r.atMs), 0);
  lines.push(`Run \`${plan.runId}\`: ${plan.vehicles.length} vehicle(s), ${plan.requests.length} request(s) over ${Math.round(span)} ms${plan.seed !== undefined ? `, seed ${plan.seed}` : ''}.`);
  if (plan.contract && Object.keys(plan.contract).length > 0) lines.push(`Contract overrides: \`${JSON.stringify(plan.contract)}\`.`);
  lines.push('', '| vehicle | id | clock offset | drift | rate | jitter |', '|---|---|---|---|---|---|');
  plan.vehicles.forEach((v, i) => {
    lines.push(row([`v${i}`, `\`${vehicleIdOf(plan.runId, i)}\``, `${signed(v.clockOffsetMs)} ms`, `${signed(v.driftMsPerSec)} ms/s`, `${v.rateHz} Hz`, `${v.jitterMs} ms`]));
  });
  lines.push('', '| # | at | vehicle | case | api key | content-type | body |', '|---|---|---|---|---|---|---|');
  plan.requests.forEach((r, i) => {
    lines.push(row([String(i), `${Math.round(r.atMs)} ms`, `v${r.vehicle}`, r.label, r.apiKey, r.contentType ?? '(none)', describeBody(r.body)]));
  });
  return lines.join('\n');
}

export function describeBody(b: BodySpec): string {
  if (b.kind === 'raw') return `raw ${b.text.length} chars: ${JSON.stringify(clip(b.text, 40))}`;
  if (b.kind === 'json') return `JSON ${Array.isArray(b.value) ? `array[${b.value.length}]` : typeof b.value}: ${clip(JSON.stringify(b.value), 40)}`;
  const parts: string[] = [];
  const p = b.payload;
  const vid = b.vehicleId;
  if (vid.kind === 'suffix') parts.push(`vehicle_id = id + ${JSON.stringify(clip(vid.suffix, 40))}${vid.suffix.length > 40 ? ` (${vid.suffix.length} chars)` : ''}`);
  else if (vid.kind === 'asIs') parts.push('vehicle_id' in p ? `vehicle_id = ${short(p['vehicle_id'])}` : 'no vehicle_id');
  parts.push(describeTimestamp(b.timestamp, p));
  // The hostile bits first: cells are clipped.
  if (b.rawNumbers?.length) parts.push(b.rawNumbers.map((r) => `${r.path.join('.')} = ${r.literal}`).join(', '));
  if (b.padChars) parts.push(`_pad ${b.padChars} chars`);
  const fields = Object.entries(p).filter(([k]) => k !== 'vehicle_id' && k !== 'timestamp');
  for (const [k, v] of fields) parts.push(`${k} ${describeField(k, v)}`);
  if (fields.length === 0) parts.push('no other fields');
  return parts.join('; ');
}

function describeTimestamp(t: TimestampSpec, p: Record<string, JsonValue>): string {
  switch (t.kind) {
    case 'device': return `ts device clock${t.extraOffsetMs ? ` ${signed(t.extraOffsetMs)} ms` : ''}${t.unit === 'ms' ? ' in ms' : ''}`;
    case 'sameAs': return t.subMsUs === undefined ? `ts = #${t.request}'s` : `ts = #${t.request}'s ms + ${t.subMsUs} µs`;
    case 'asIs': return 'timestamp' in p ? `timestamp = ${short(p['timestamp'])}` : 'no timestamp';
  }
}

function describeField(key: string, v: JsonValue): string {
  if ((key === 'trajectory') && Array.isArray(v)) return `${v.length} pts`;
  if (key === 'track' && isPlainObject(v)) {
    return Object.entries(v).map(([s, pts]) => `${s} ${Array.isArray(pts) ? `${pts.length} pts` : short(pts as JsonValue)}`).join(', ') || '{}';
  }
  return short(v);
}

function short(v: JsonValue | undefined): string {
  const s = JSON.stringify(v) ?? 'undefined';
  return clip(s, 60);
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

function row(cells: string[]): string {
  const esc = (c: string) => clip(c, MAX_CELL).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '\\n');
  return `| ${cells.map(esc).join(' | ')} |`;
}
