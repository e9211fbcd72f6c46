/**
 * The tables every human-readable report shows, as plain rows, so markdown
 * and HTML render the same figures. `strong` marks rows to emphasise.
 */
import { DASH, fmtInt, fmtMiB, fmtMs, fmtNum, fmtPct } from './format';
import type { ReportPercentiles, RunReport } from './runReport';
import { describeThreshold } from './thresholds';

export interface Table {
  header: string[];
  rows: string[][];
  strong?: number[];
  /** Column 0 holds a pass/fail mark (✅ / ❌), which HTML draws as a badge. */
  markColumn?: boolean;
}

const share = (n: number, d: number): string => (d > 0 ? fmtPct(n / d) : DASH);
const sumOf = (rec: Record<string, number>): number => Object.values(rec).reduce((a, b) => a + b, 0);

function byKey(rec: Record<string, number>): string {
  const parts = Object.entries(rec).filter(([, v]) => v > 0).map(([k, v]) => `${k}: ${v}`);
  return parts.length > 0 ? parts.join(', ') : '0';
}

export function summaryTable(r: RunReport): Table {
  const t = r.totals;
  const non2xx = sumOf(t.non2xxByStatus);
  const errors = sumOf(t.errorsByClass);
  return {
    header: ['Metric', 'Value'],
    rows: [
      ['Intended sends', fmtInt(t.intended)],
      ['Sent', `${fmtInt(t.sent)} (${share(t.sent, t.intended)})`],
      ['Acknowledged (2xx)', `${fmtInt(t.acknowledged)} (${share(t.acknowledged, t.sent)} of sent)`],
      ['Non-2xx replies', `${non2xx}${non2xx > 0 ? ` (${byKey(t.non2xxByStatus)})` : ''}`],
      ['Request errors (no status)', `${errors}${errors > 0 ? ` (${byKey(t.errorsByClass)})` : ''}`],
      ['Validation rejections (400)', fmtInt(t.validationRejections)],
      ['Stored', t.stored.count === null ? 'not measured' : `${fmtInt(t.stored.count)} (${share(t.stored.count, t.intended)} of intended)`],
      ['Lost (intended − stored)', r.loss ? `${fmtInt(r.loss.total)} (${fmtPct(r.loss.rate)})` : 'not measured'],
      ['Storage probe', t.stored.probe],
    ],
    strong: [7],
  };
}

export function lossTable(r: RunReport): Table | null {
  if (!r.loss) return null;
  const s = r.loss.byStage;
  const n = r.totals.intended;
  return {
    header: ['Stage', 'Samples lost', 'Share of intended'],
    rows: [
      ['Never sent (load tool)', fmtInt(s.neverSent), share(s.neverSent, n)],
      ['Rejected (non-2xx)', fmtInt(s.rejected), share(s.rejected, n)],
      ['Failed at HTTP (timeout, refused, reset…)', fmtInt(s.failedHttp), share(s.failedHttp, n)],
      ['Acknowledged but not stored', fmtInt(s.acknowledgedNotStored), share(s.acknowledgedNotStored, n)],
      ['Total', fmtInt(r.loss.total), fmtPct(r.loss.rate)],
    ],
    strong: [3, 4],
  };
}

function pctRow(label: string, p: ReportPercentiles | null): string[] {
  if (!p || p.count === 0) return [label, DASH, DASH, DASH, DASH, DASH, p ? '0' : 'not measured'];
  return [label, fmtMs(p.p50), fmtMs(p.p90), fmtMs(p.p99), fmtMs(p.p999), fmtMs(p.max), fmtInt(p.count)];
}

const PCT_HEADER = ['', 'p50', 'p90', 'p99', 'p99.9', 'max', 'count'];

export function latencyTable(r: RunReport): Table {
  return { header: PCT_HEADER, rows: [
    pctRow('Corrected (from intended send time)', r.latency.corrected),
    pctRow('Uncorrected (from actual send time)', r.latency.uncorrected),
  ] };
}

export function lagTable(r: RunReport): Table {
  return { header: PCT_HEADER, rows: [pctRow('Send → stored', r.lag.sendToStored), pctRow('Send → SSE', r.lag.sendToSse)] };
}

export function thresholdsTable(r: RunReport): Table | null {
  if (r.thresholds.length === 0) return null;
  return {
    header: ['', 'Threshold', 'Actual', 'Result'],
    rows: r.thresholds.map((th) => [
      th.pass ? '✅' : '❌',
      `${describeThreshold(th)}${th.description ? ` — ${th.description}` : ''}`,
      th.actual === null ? 'not measured' : fmtNum(th.actual, 3),
      th.pass ? 'pass' : `FAIL: ${th.message}`,
    ]),
    strong: r.thresholds.flatMap((th, i) => (th.pass ? [] : [i])),
    markColumn: true,
  };
}

export function publisherTable(r: RunReport): Table {
  const p = r.publisher;
  return {
    header: ['Metric', 'Value'],
    rows: [
      [`Dropped iterations (late > ${p.lateThresholdMs} ms or skipped)`, fmtInt(p.droppedIterations)],
      ['Event-loop delay p99 / max (ms)', `${fmtMs(p.eventLoopDelayP99Ms)} / ${fmtMs(p.eventLoopDelayMaxMs)}`],
      ['Max requests in flight', fmtInt(p.maxInFlight)],
      ['Verdict', p.bottleneck ? `the load tool may have been the bottleneck: ${p.reasons.join('; ')}` : 'the load tool kept its schedule'],
    ],
    strong: p.bottleneck ? [3] : [],
  };
}

export function backendTable(r: RunReport): Table {
  const b = r.backend;
  return {
    header: ['CPU max %', 'CPU mean %', 'RSS max', 'RSS slope (MiB/min)', 'InfluxDB write errors'],
    rows: [[
      fmtNum(b.cpuMaxPct), fmtNum(b.cpuMeanPct), fmtMiB(b.rssMaxBytes),
      b.rssSlopeBytesPerMin === null ? DASH : (b.rssSlopeBytesPerMin / 1048576).toFixed(3), fmtInt(b.influxWriteErrors),
    ]],
  };
}

export function faultsTable(r: RunReport): Table | null {
  if (r.faults.length === 0) return null;
  return {
    header: ['Kind', 'Start (s into run)', 'End (s)', 'Duration (s)', 'Detail'],
    rows: r.faults.map((f) => [
      f.kind, ((f.startMs - r.startedAtMs) / 1000).toFixed(1), ((f.endMs - r.startedAtMs) / 1000).toFixed(1),
      ((f.endMs - f.startMs) / 1000).toFixed(1), f.detail ?? '',
    ]),
  };
}

/** Per-second rows, evenly sampled down to at most `maxRows`. */
export function timelineTable(r: RunReport, maxRows: number): (Table & { step: number }) | null {
  if (r.series.length === 0) return null;
  const step = Math.max(1, Math.ceil(r.series.length / maxRows));
  return {
    step,
    header: ['t (s)', 'sent', 'acked', 'stored', 'p99 ms', 'lag p99 ms', 'errors', 'CPU %', 'RSS MiB', 'influx errors'],
    rows: r.series.filter((_, i) => i % step === 0).map((s) => [
      ((s.tMs - r.startedAtMs) / 1000).toFixed(0), fmtInt(s.sent), fmtInt(s.acked), fmtInt(s.stored),
      fmtMs(s.latencyP99Ms), fmtMs(s.lagP99Ms), fmtInt(s.errors), fmtNum(s.backendCpuPct),
      s.backendRssBytes === null ? DASH : (s.backendRssBytes / 1048576).toFixed(1), fmtInt(s.influxWriteErrors),
    ]),
  };
}

export function environmentTable(r: RunReport): Table | null {
  const e = r.environment;
  if (!e) return null;
  const la = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(' / ');
  return {
    header: ['Item', 'Value'],
    rows: [
      ['Machine', `${e.platform}, ${e.cpus} CPU (${e.cpuModel}), ${fmtMiB(e.totalMemBytes)}`],
      ['Node', e.node],
      ['InfluxDB', e.influxVersion ?? DASH],
      ['Load average 1/5/15 min at start', la(e.loadAvgStart)],
      ['Load average 1/5/15 min at end', la(e.loadAvgEnd)],
      ['Whole machine during the run: CPU busy / stolen by the hypervisor', `${e.machineBusyPct == null ? DASH : `${e.machineBusyPct}%`} / ${e.stealPct == null ? DASH : `${e.stealPct}%`}`],
      ['Git commit', e.gitCommit ?? DASH],
      ['Load generator priority (nice)', e.nice === undefined ? DASH : String(e.nice)],
    ],
  };
}

export function influxdTable(r: RunReport): Table | null {
  const d = r.influxd;
  if (!d) return null;
  return { header: ['influxd CPU max %', 'influxd CPU mean %', 'influxd RSS max'], rows: [[fmtNum(d.cpuMaxPct), fmtNum(d.cpuMeanPct), fmtMiB(d.rssMaxBytes)]] };
}

export function sseTable(r: RunReport): Table | null {
  const s = r.sse;
  if (!s || s.clients === 0) return null;
  return {
    header: ['Clients', 'Reader', 'Connected', 'Events received', 'Bytes read', 'Acknowledged samples seen on SSE'],
    rows: [[fmtInt(s.clients), s.reader, fmtInt(s.connected), fmtInt(s.events), fmtInt(s.bytes), s.deliveredShare === null ? DASH : fmtPct(s.deliveredShare)]],
  };
}

export function backendMetricsTable(r: RunReport): Table | null {
  const m = r.backendMetrics;
  if (!m) return null;
  const rows: string[][] = [
    ['Scrapes (failed)', `${m.scrapes} (${m.failedScrapes})`],
    ['Requests by outcome', Object.entries(m.requestsByOutcome).filter(([, v]) => v > 0).map(([k, v]) => `${k}: ${v}`).join(', ') || '0'],
    ...Object.entries(m.counters).map(([k, v]) => [k, fmtNum(v, 0)]),
    ['Event-loop delay p99, max over scrapes (ms)', fmtMs(m.eventLoopDelayP99MaxMs)],
  ];
  return { header: ['Backend /metrics (delta over the run)', 'Value'], rows };
}
