/**
 * findings.md: the seed's six questions answered, in order, from measured
 * matrices and max-rate searches (pure: data in, Markdown out). Every
 * sentence that states a figure takes it from the inputs; every
 * recommendation is emitted only when the measurement that motivates it is
 * there, and cites it.
 */
import { fmtMiB, fmtPct, mdCell } from '../../reports/writers/format';
import { jetsonPayload } from '../load/payloads';
import type { MatrixEntry, MatrixResult } from './matrix';
import type { MaxRateResult } from './findMaxRate';
import type { ScenarioSummary } from './summary';
import { DEFAULT_RATE_CRITERIA } from './verdict';

export interface FindingsInput {
  matrices: readonly MatrixResult[];
  maxRates: readonly MaxRateResult[];
  /** Commands that produced the inputs, with wall times, for the record. */
  commands?: readonly { command: string; wallTimeMs: number }[];
  generatedAt?: string;
}

const SLO = DEFAULT_RATE_CRITERIA.latencyP99Ms;
const LAG_BOUND = DEFAULT_RATE_CRITERIA.lagBoundMs;

const ms = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : v >= 100 ? `${Math.round(v)} ms` : `${v.toFixed(1)} ms`);
const n = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : String(Math.round(v)));
const pct1 = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : `${v.toFixed(1)}%`);
const rate = (v: number): string => `${+v.toFixed(1)}/s`;

/** Reliable in the find-max-rate sense, from a summary. */
export function reliable(s: ScenarioSummary): boolean {
  return s.ackedNotStored === 0 && s.non2xx === 0 && s.errors === 0 && s.latencyP99Ms <= SLO
    && s.lagP99Ms !== null && s.lagP99Ms <= LAG_BOUND && !s.publisherBottleneck && s.infraErrors.length === 0;
}

export function whyNotReliable(s: ScenarioSummary): string[] {
  const out: string[] = [];
  if (s.infraErrors.length > 0) out.push(`infrastructure error (${s.infraErrors[0]})`);
  if ((s.ackedNotStored ?? 0) > 0) out.push(`${s.ackedNotStored} of ${s.acked} acknowledged samples not stored within ${s.drainMs / 1000} s`);
  if (s.non2xx > 0) out.push(`${s.non2xx} non-2xx replies`);
  if (s.errors > 0) out.push(`${s.errors} requests without a reply (${Object.entries(s.errorsByClass).map(([k, v]) => `${k} ${v}`).join(', ')})`);
  if (s.latencyP99Ms > SLO) out.push(`p99 latency ${ms(s.latencyP99Ms)} > ${SLO} ms`);
  if (s.lagP99Ms !== null && s.lagP99Ms > LAG_BOUND) out.push(`storage lag p99 ${ms(s.lagP99Ms)} > ${LAG_BOUND / 1000} s`);
  if (s.lagP99Ms === null && s.acked > 0) out.push('nothing stored within the drain bound, so no lag could be measured');
  if (s.publisherBottleneck) out.push(`the load generator fell behind (${s.publisherReasons.join('; ')})`);
  return out;
}

/** The backend met every criterion but the generator fell behind: the run says nothing either way. */
export function inconclusive(s: ScenarioSummary): boolean {
  return s.publisherBottleneck && reliable({ ...s, publisherBottleneck: false });
}

function verdictOf(s: ScenarioSummary): string {
  if (reliable(s)) return 'reliable';
  if (inconclusive(s)) return 'inconclusive (backend met every criterion, but the load generator fell behind on this shared 2-core box)';
  return `failed (${whyNotReliable(s).join('; ')})`;
}

function entry(m: MatrixResult, name: string): MatrixEntry | undefined {
  return m.entries.find((e) => e.summary.name === name);
}

/** Baseline and rate scenarios of a matrix, by total rate (the rate ladder). */
export function rateLadder(m: MatrixResult): MatrixEntry[] {
  return m.entries
    .filter((e) => (e.summary.group === 'rate' || e.summary.group === 'baseline') && e.summary.payload === 'typical' && e.summary.network === 'loopback' && e.summary.sseClients === 0)
    .sort((a, b) => a.summary.totalRateHz - b.summary.totalRateHz);
}

function totals(m: MatrixResult): { intended: number; sent: number; acked: number; failedHttp: number; non2xx: number; validation: number; ackedNotStored: number; missingAfterSettle: number | null; influxFailures: number | null } {
  let intended = 0, sent = 0, acked = 0, failedHttp = 0, non2xx = 0, validation = 0, ackedNotStored = 0, missing = 0, influxFailures: number | null = null;
  let settleKnown = true;
  for (const e of m.entries) {
    const s = e.summary;
    intended += s.intended; sent += s.sent; acked += s.acked; failedHttp += s.failedHttp ?? 0; non2xx += s.non2xx;
    validation += s.validationRejections; ackedNotStored += s.ackedNotStored ?? 0;
    if (e.storedAfterSettle === null) settleKnown = false;
    else missing += e.ackedMissingAtDrain - e.storedAfterSettle;
    if (s.influxWriteFailures !== null) influxFailures = (influxFailures ?? 0) + s.influxWriteFailures;
  }
  return { intended, sent, acked, failedHttp, non2xx, validation, ackedNotStored, missingAfterSettle: settleKnown ? missing : null, influxFailures };
}

function label(m: MatrixResult): string {
  return m.backendLabel;
}

// ---- the six answers --------------------------------------------------------

function answerSustainableRate(i: FindingsInput): string[] {
  const out: string[] = [];
  for (const r of i.maxRates) {
    if (r.maxReliableRate === null) {
      out.push(`**${r.backendLabel}:** no rate was reliable: the lowest rate tried, ${rate(r.firstFailingRate ?? r.search.startRate)}, already failed (${r.firstFailure.join('; ')}).`);
    } else {
      const step = r.steps.find((s) => s.rate === r.maxReliableRate && s.pass && s.phase === 'confirm') ?? r.steps.find((s) => s.rate === r.maxReliableRate && s.pass);
      const sm = step?.summary;
      out.push(`**${r.backendLabel}:** the maximum reliable rate found by \`find-max-rate\` is **${rate(r.maxReliableRate)}** `
        + `(${r.base.payload} payload, ${sm ? `${sm.vehicles} vehicle${sm.vehicles > 1 ? 's' : ''} × ${+sm.rateHz.toFixed(2)} Hz` : ''}), `
        + `${r.confirmed ? `confirmed by a ${r.search.confirmHoldMs / 1000} s hold` : 'NOT confirmed by the longer hold'}`
        + (sm ? ` (p99 latency ${ms(sm.latencyP99Ms)}, storage lag p99 ${ms(sm.lagP99Ms)}, backend CPU mean ${pct1(sm.backendCpuMeanPct)} of a core, ${sm.acked} acknowledged = ${sm.stored} stored)` : '')
        + (r.ceilingReached ? `; the search stopped at its ceiling (${rate(r.search.maxRate)}), so the real limit is higher.` : '.')
        + (r.firstFailingRate !== null ? ` The first failing rate was **${rate(r.firstFailingRate)}**: ${r.firstFailure.join('; ')}.` : ''));
    }
  }
  for (const m of i.matrices) {
    const ladder = rateLadder(m);
    if (ladder.length === 0) continue;
    const ok = ladder.filter((e) => reliable(e.summary) || inconclusive(e.summary));
    const bad = ladder.filter((e) => !reliable(e.summary) && !inconclusive(e.summary));
    const highest = ok.at(-1)?.summary;
    const unsure = ladder.filter((e) => inconclusive(e.summary));
    let text = `**${label(m)}, rate ladder (${ladder.map((e) => rate(e.summary.totalRateHz)).join(', ')}, ${Math.round((ladder[0]?.summary.durationMs ?? 0) / 1000)} s each):** `;
    if (ok.length === ladder.length) text += `the backend met every criterion at every rate, up to ${rate(highest!.totalRateHz)} (p99 ${ms(highest!.latencyP99Ms)}, lag p99 ${ms(highest!.lagP99Ms)}).`;
    else if (ok.length === 0) {
      const s = bad[0]!.summary;
      text += `no rate was reliable, not even ${rate(s.totalRateHz)}: ${whyNotReliable(s).join('; ')}.`;
      const eventual = ladder.every((e) => e.storedAfterSettle !== null && e.storedAfterSettle === e.ackedMissingAtDrain);
      if (eventual && ladder.some((e) => e.ackedMissingAtDrain > 0)) text += ` Every one of those samples did reach InfluxDB later (re-read ${Math.round(m.settleMs / 1000)} s after the matrix), so the limit here is the lag, not throughput.`;
    } else {
      text += `${bad.map((e) => `${rate(e.summary.totalRateHz)} ${verdictOf(e.summary)}`).join('; ')}; the others met every criterion.`;
    }
    if (unsure.length > 0) text += ` At ${unsure.map((e) => rate(e.summary.totalRateHz)).join(', ')} the backend met every criterion but the load generator fell behind its schedule (${unsure[0]!.summary.publisherReasons[0] ?? ''}), so ${unsure.length > 1 ? 'those runs are' : 'that run is'} inconclusive rather than failed.`;
    out.push(text);
  }
  if (out.length === 0) out.push('Not measured: no rate ladder or max-rate search in the inputs.');
  return out;
}

function answerWhereFailuresStart(i: FindingsInput): string[] {
  const out: string[] = [];
  for (const m of i.matrices) {
    const ladder = rateLadder(m);
    const firstErr = ladder.find((e) => e.summary.non2xx + e.summary.errors > 0);
    const firstGap = ladder.find((e) => (e.summary.ackedNotStored ?? 0) > 0);
    const firstSlow = ladder.find((e) => e.summary.latencyP99Ms > SLO);
    const parts: string[] = [];
    parts.push(firstErr ? `request failures first appear at ${rate(firstErr.summary.totalRateHz)} (${firstErr.summary.non2xx} non-2xx, ${firstErr.summary.errors} without reply)` : `no request failed on a clean network at any rate up to ${rate(ladder.at(-1)?.summary.totalRateHz ?? 0)}`);
    parts.push(firstGap
      ? `storage gaps (acknowledged but not in InfluxDB ${LAG_BOUND / 1000} s after the last reply) appear from ${rate(firstGap.summary.totalRateHz)} on: ${firstGap.summary.ackedNotStored} of ${firstGap.summary.acked} there`
      : 'no storage gap at any rate of the ladder');
    if (firstSlow) parts.push(`p99 latency first exceeds ${SLO} ms at ${rate(firstSlow.summary.totalRateHz)} (${ms(firstSlow.summary.latencyP99Ms)}${firstSlow.summary.publisherBottleneck ? '; the load generator was also behind in that run, i.e. the machine was saturated' : ''})`);
    const burst = m.entries.find((e) => e.summary.group === 'burst')?.summary;
    if (burst) parts.push(`the burst scenario (${burst.description.replace(/\.$/, '')}) had ${burst.errors + burst.non2xx} failed requests, p99 ${ms(burst.latencyP99Ms)}, max ${ms(burst.latencyMaxMs)}, ${burst.ackedNotStored ?? '–'} acknowledged-not-stored`);
    const flaky = m.entries.find((e) => e.summary.network === 'flaky')?.summary;
    if (flaky) parts.push(`on the flaky network ${flaky.errors} of ${flaky.sent} requests (${fmtPct(flaky.sent ? flaky.errors / flaky.sent : 0, 1)}) failed at the HTTP level (${Object.entries(flaky.errorsByClass).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}): the Jetson never resends, so each is a lost sample`);
    out.push(`**${label(m)}:** ${parts.join('; ')}.`);
  }
  for (const r of i.maxRates) {
    if (r.firstFailingRate !== null) out.push(`**${r.backendLabel}, find-max-rate:** the first failing rate was ${rate(r.firstFailingRate)}: ${r.firstFailure.join('; ')}.`);
  }
  return out.length > 0 ? out : ['Not measured.'];
}

function answerWhereLoss(i: FindingsInput): string[] {
  const out: string[] = [];
  for (const m of i.matrices) {
    const t = totals(m);
    const stages = [
      `**ingestion (HTTP, before the backend answered):** ${t.failedHttp} samples (${fmtPct(t.intended ? t.failedHttp / t.intended : 0, 2)} of ${t.intended} intended), all from requests that got no reply`,
      `**validation:** ${t.validation} rejected with 400 (the publisher sent only valid payloads; ${t.non2xx - t.validation} other non-2xx)`,
      `**storage:** ${t.ackedNotStored} acknowledged samples (${fmtPct(t.acked ? t.ackedNotStored / t.acked : 0, 2)} of ${t.acked} acknowledged) were not in InfluxDB within ${LAG_BOUND / 1000} s of the run's last reply`
        + (t.missingAfterSettle === null ? '' : `, and ${t.missingAfterSettle} were still missing after the settle re-read (${Math.round(m.settleMs / 1000)} s later)`),
    ];
    if (t.influxFailures !== null) stages.push(`the backend's own counter of failed InfluxDB writes rose by ${t.influxFailures}`);
    let verdict: string;
    if (t.ackedNotStored > 0 && t.missingAfterSettle === 0) verdict = 'Loss at storage is a delay, not a drop, while the process stays up: the points sit in the WriteApi buffer until the flush — and that buffer is exactly what a crash or SIGKILL throws away (the chaos suites measure that).';
    else if ((t.missingAfterSettle ?? 0) > 0) verdict = `${t.missingAfterSettle} acknowledged samples never reached InfluxDB: silent loss at the storage stage.`;
    else if (t.failedHttp > 0) verdict = 'All loss measured here happened before the backend answered (network), none after an acknowledgement.';
    else verdict = 'No loss at any stage in these runs.';
    out.push(`**${label(m)}:** ${stages.join('; ')}. ${verdict}`);
  }
  return out.length > 0 ? out : ['Not measured.'];
}

function answerLag(i: FindingsInput): string[] {
  const out: string[] = [];
  for (const m of i.matrices) {
    const s10 = entry(m, 'sustained-10hz')?.summary;
    const withLag = m.entries.map((e) => e.summary).filter((s) => s.lagP99Ms !== null);
    const parts: string[] = [];
    if (s10) parts.push(s10.lagP99Ms === null
      ? `at 10 Hz no sample was in InfluxDB within the ${LAG_BOUND / 1000} s drain (lag > ${LAG_BOUND / 1000} s for all ${s10.acked})`
      : `at 10 Hz publish→stored lag was p50 ${ms(s10.lagP50Ms)}, p99 ${ms(s10.lagP99Ms)}, max ${ms(s10.lagMaxMs)}${s10.drainMs > LAG_BOUND ? ` (this run waited up to ${Math.round(s10.drainMs / 1000)} s for the flush, so every sample's lag was measured)` : ''}`);
    if (withLag.length > 0) {
      const p99s = withLag.map((s) => s.lagP99Ms!);
      parts.push(`across the ${withLag.length} scenarios where it could be measured, lag p99 ranged ${ms(Math.min(...p99s))}–${ms(Math.max(...p99s))}`);
    }
    const noneStored = m.entries.filter((e) => e.summary.lagP99Ms === null && e.summary.acked > 0);
    if (noneStored.length > 0) parts.push(`in ${noneStored.length} scenarios nothing was stored within the ${LAG_BOUND / 1000} s drain at all`);
    if (m.backend.flushIntervalMs !== null) parts.push(`the WriteApi flushes every ${m.backend.flushIntervalMs / 1000} s or per 1000 lines, so at low rates the lag is bounded by the flush interval; the probe polls every ≥ 500 ms, which is the lag's resolution`);
    out.push(`**${label(m)}:** ${parts.join('; ')}.`);
  }
  return out.length > 0 ? out : ['Not measured.'];
}

interface SsePair { rateHz: number; rows: ScenarioSummary[] }

/** Scenarios that differ only in SSE clients, grouped by rate (typical payload, loopback). */
export function sseComparisons(m: MatrixResult): SsePair[] {
  const cands = m.entries.map((e) => e.summary).filter((s) => (s.group === 'sse' || s.group === 'rate') && s.payload === 'typical' && s.network === 'loopback');
  const byRate = new Map<number, ScenarioSummary[]>();
  for (const s of cands) byRate.set(s.totalRateHz, [...(byRate.get(s.totalRateHz) ?? []), s]);
  return [...byRate.entries()]
    .filter(([, rows]) => rows.some((r) => r.sseClients === 0) && rows.some((r) => r.sseClients > 0))
    .map(([rateHz, rows]) => ({ rateHz, rows: rows.sort((a, b) => a.sseClients - b.sseClients || a.sseReader.localeCompare(b.sseReader)) }))
    .sort((a, b) => a.rateHz - b.rateHz);
}

function sseTable(pairs: SsePair[]): string[] {
  const lines = [
    '| rate | SSE clients | reader | sent/s | p50 | p99 | backend CPU mean | backend RSS max | backend event-loop p99 | SSE lag p99 | seen on SSE | gen. ok | machine busy |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const p of pairs) for (const s of p.rows) {
    lines.push(`| ${rate(p.rateHz)} | ${s.sseClients} | ${s.sseReader} | ${s.achievedRate.toFixed(1)} | ${ms(s.latencyP50Ms)} | ${ms(s.latencyP99Ms)} | ${pct1(s.backendCpuMeanPct)} | ${fmtMiB(s.backendRssMaxBytes)} | ${ms(s.backendEventLoopP99MaxMs)} | ${ms(s.sseLagP99Ms)} | ${s.sseDeliveredShare === null ? '–' : fmtPct(s.sseDeliveredShare, 1)} | ${s.publisherBottleneck ? 'no' : 'yes'} | ${pct1(s.machineBusyPct)} |`);
  }
  return lines;
}

/**
 * Did SSE clients change what ingestion achieved? Throughput and failed
 * requests first (the seed's question), then the tail: p99 with the most
 * normal clients against none, next to the backend's own event-loop delay.
 * A pair in which the load generator fell behind is inconclusive: the SSE
 * clients run in the generator's process, so on a saturated machine their
 * parsing slows the generator, not necessarily the backend.
 */
export function sseVerdict(pairs: readonly SsePair[]): string {
  const effects: string[] = [];
  const unsure: string[] = [];
  const tails: string[] = [];
  for (const p of pairs) {
    const base = p.rows.find((r) => r.sseClients === 0)!;
    for (const r of p.rows.filter((x) => x.sseClients > 0)) {
      const what = `${r.sseClients} ${r.sseReader} client${r.sseClients > 1 ? 's' : ''} at ${rate(p.rateHz)}`;
      const rateDrop = base.achievedRate > 0 ? (base.achievedRate - r.achievedRate) / base.achievedRate : 0;
      // Storage gaps inside the drain follow the flush timer's phase, not SSE: compare what SSE can cause.
      const moreFailed = r.errors + r.non2xx > base.errors + base.non2xx;
      if (rateDrop > 0.01 || moreFailed) (r.publisherBottleneck || base.publisherBottleneck ? unsure : effects).push(what);
    }
    const most = p.rows.filter((r) => r.sseReader === 'normal' && r.sseClients > 0).sort((a, b) => b.sseClients - a.sseClients)[0];
    if (most && most.latencyP99Ms > base.latencyP99Ms * 2 + 5) {
      tails.push(`${rate(p.rateHz)}: p99 ${ms(base.latencyP99Ms)} → ${ms(most.latencyP99Ms)} with ${most.sseClients} clients, backend event-loop p99 ${ms(base.backendEventLoopP99MaxMs)} → ${ms(most.backendEventLoopP99MaxMs)}${most.publisherBottleneck ? ', generator behind' : ''}`);
    }
  }
  const parts: string[] = [];
  parts.push(effects.length === 0
    ? 'Verdict on throughput: no material effect — with SSE clients every run achieved the same rate and no more requests failed' + (unsure.length > 0 ? ` (inconclusive for ${unsure.join(', ')}, where the generator fell behind)` : '') + '.'
    : `Verdict on throughput: SSE clients cost throughput or failed requests with ${effects.join(', ')}.`);
  if (tails.length > 0) {
    parts.push(`The tail did move: ${tails.join('; ')}. The SSE clients run inside the load generator's process and parse every event there, so part of that tail may be the generator's own; the backend-side signal is its event-loop delay.`);
  } else {
    parts.push('Tail latency did not double with SSE clients either.');
  }
  return parts.join(' ');
}

function answerSse(i: FindingsInput): { text: string[]; tables: string[] } {
  const text: string[] = [];
  const tables: string[] = [];
  for (const m of i.matrices) {
    const pairs = sseComparisons(m);
    if (pairs.length === 0) continue;
    const sentences: string[] = [];
    for (const p of pairs) {
      const base = p.rows.find((r) => r.sseClients === 0)!;
      const most = p.rows.filter((r) => r.sseReader === 'normal').sort((a, b) => b.sseClients - a.sseClients)[0];
      if (most && most.sseClients > 0) {
        sentences.push(`at ${rate(p.rateHz)}, ${most.sseClients} normal clients moved p50 ${ms(base.latencyP50Ms)} → ${ms(most.latencyP50Ms)}, p99 ${ms(base.latencyP99Ms)} → ${ms(most.latencyP99Ms)} and backend CPU ${pct1(base.backendCpuMeanPct)} → ${pct1(most.backendCpuMeanPct)}, with ${most.achievedRate.toFixed(1)} vs ${base.achievedRate.toFixed(1)} sends/s achieved`);
      }
      const stalled = p.rows.find((r) => r.sseReader === 'stalled');
      if (stalled) {
        sentences.push(`with ${stalled.sseClients} clients that stop reading, backend RSS peaked at ${fmtMiB(stalled.backendRssMaxBytes)} vs ${fmtMiB(base.backendRssMaxBytes)} without clients`
          + (stalled.backendRssSlopeBytesPerMin !== null ? ` (slope ${(stalled.backendRssSlopeBytesPerMin / 1048576).toFixed(1)} MiB/min)` : '')
          + `, p99 ${ms(stalled.latencyP99Ms)}`);
      }
    }
    text.push(`**${label(m)}:** ${sentences.join('; ')}. ${sseVerdict(pairs)}`);
    tables.push(`${label(m)}:`, '', ...sseTable(pairs), '');
  }
  if (text.length === 0) text.push('Not measured: no scenarios with and without SSE clients at the same rate.');
  return { text, tables };
}

function recommendations(i: FindingsInput): string[] {
  const recs: string[] = [];
  const legacyDefault = i.matrices.find((m) => m.backend.mode === 'legacy' && m.backend.flushIntervalMs === 60_000);
  const legacyShort = i.matrices.find((m) => m.backend.mode === 'legacy' && m.backend.flushIntervalMs !== null && m.backend.flushIntervalMs < 60_000);
  const d10 = legacyDefault && entry(legacyDefault, 'sustained-10hz')?.summary;
  const s10 = legacyShort && entry(legacyShort, 'sustained-10hz')?.summary;
  const tDefault = legacyDefault ? totals(legacyDefault) : undefined;
  if (tDefault && tDefault.ackedNotStored > 0) {
    const t = tDefault;
    recs.push(`**Set the WriteApi flush interval to ~1 s (config, today).** With the library default (60 s), ${t.ackedNotStored} of ${t.acked} acknowledged samples (${fmtPct(t.acked ? t.ackedNotStored / t.acked : 0, 1)}) were not in InfluxDB ${LAG_BOUND / 1000} s after their run, held in process memory until the next flush`
      + (d10 && d10.lagP99Ms !== null ? ` (at 10 Hz: lag p50 ${ms(d10.lagP50Ms)}, max ${ms(d10.lagMaxMs)})` : '')
      + (s10 ? `; with ${legacyShort!.backend.flushIntervalMs} ms the 10 Hz lag p99 was ${ms(s10.lagP99Ms)} and ${s10.ackedNotStored ?? '–'} samples were missing at the bound.` : '.')
      + ' This shrinks, but does not close, the window in which a crash loses acknowledged data.');
  } else if (s10) {
    recs.push(`**Keep the short flush interval (${legacyShort!.backend.flushIntervalMs} ms):** 10 Hz lag p99 ${ms(s10.lagP99Ms)}.`);
  }
  if (legacyDefault || legacyShort) {
    const durable = i.matrices.find((m) => m.backend.mode === 'durable');
    const dt = durable ? totals(durable) : undefined;
    const d10 = durable ? entry(durable, 'sustained-10hz')?.summary : undefined;
    const dMax = i.maxRates.find((r) => r.backend.mode === 'durable');
    recs.push('**Make the 200 mean "stored" (code).** In every legacy run the 200 was sent before the point left process memory (the lag above is the proof: p50 lag ≫ p50 request latency), so a crash loses whatever the WriteApi holds. Either await the write (`writeApi.flush()` per request or group commit) or append to a local write-ahead log before answering'
      + (dt && durable
        ? ` — the reference backend's \`durable\` mode does the latter, and over the same ${durable.entries.length} scenarios ${dt.ackedNotStored} of ${dt.acked} acknowledged samples were missing within 5 s (legacy default: ${tDefault?.ackedNotStored ?? '–'})${d10 ? `, with 10 Hz lag p50 ${ms(d10.lagP50Ms)} / p99 ${ms(d10.lagP99Ms)}` : ''}${dMax?.maxReliableRate ? ` and a maximum reliable rate of ${rate(dMax.maxReliableRate)}` : ''} (see "Durable mode").`
        : ' — the reference backend\'s `durable` mode does the latter; compare it with `telemetry-proof matrix --backend-mode durable`.'));
  }
  const allMax = i.maxRates.filter((r) => r.maxReliableRate !== null);
  for (const r of allMax) {
    recs.push(`**Publish at most ~${Math.floor(r.maxReliableRate! * 0.5)}/s per backend instance (capacity planning):** half of the measured maximum reliable rate (${rate(r.maxReliableRate!)}, ${r.backendLabel}) on this 2-core machine, leaving headroom for bursts; at ${rate(r.firstFailingRate ?? r.maxReliableRate!)} it failed: ${r.firstFailure[0] ?? 'see the max-rate report'}.`);
  }
  const flaky = i.matrices.map((m) => m.entries.find((e) => e.summary.network === 'flaky')?.summary).find((s) => s && s.errors > 0);
  if (flaky) {
    recs.push(`**Let the Jetson retry with the same timestamp and a bounded local buffer (publisher code).** On the flaky link ${flaky.errors} of ${flaky.sent} samples (${fmtPct(flaky.sent ? flaky.errors / flaky.sent : 0, 1)}) were lost because a failed POST is never resent; the backend never saw them. A retry of an idempotent (vehicle_id, timestamp) point is safe: InfluxDB overwrites the same point.`);
  }
  const stalledRuns = i.matrices.map((m) => sseComparisons(m).flatMap((p) => p.rows.filter((r) => r.sseReader === 'stalled').map((r) => ({ r, base: p.rows.find((x) => x.sseClients === 0)! })))).flat();
  const st = stalledRuns[0];
  if (st && st.r.backendRssMaxBytes !== null && st.base.backendRssMaxBytes !== null) {
    recs.push(`**Respect back-pressure on the SSE stream (code).** Clients that stop reading make the backend buffer every broadcast: RSS ${fmtMiB(st.base.backendRssMaxBytes)} → ${fmtMiB(st.r.backendRssMaxBytes)} in a ${Math.round(st.r.durationMs / 1000)} s run at ${rate(st.r.totalRateHz)}. Drop or disconnect a client whose socket buffer is full (check \`res.write()\`'s return value / \`writableLength\`), and send dashboards a decimated stream.`);
  }
  // Prefer the short-flush legacy matrix (its 10 Hz run is not stretched by a long drain).
  const heavy = [legacyShort, legacyDefault, ...i.matrices].filter((m): m is MatrixResult => m !== undefined)
    .map((m) => ({ m, h: entry(m, 'payload-heavy-10hz')?.summary, t: entry(m, 'sustained-10hz')?.summary })).find((x) => x.h && x.t);
  if (heavy?.h && heavy.t) {
    const bytes = (profile: 'typical' | 'heavy'): number => Buffer.byteLength(JSON.stringify(jetsonPayload({ profile, runTag: 'size00' })(0, 0, Date.now())));
    recs.push(`**Stop sending the track with every sample (publisher code).** The heavy payload (trajectory + track polylines, ${(bytes('heavy') / 1024).toFixed(0)} kB against ${(bytes('typical') / 1024).toFixed(1)} kB typical) took p50 ${ms(heavy.h.latencyP50Ms)} / p99 ${ms(heavy.h.latencyP99Ms)} against ${ms(heavy.t.latencyP50Ms)} / ${ms(heavy.t.latencyP99Ms)} for the typical one at 10 Hz (${label(heavy.m)}), and backend CPU ${pct1(heavy.h.backendCpuMeanPct)} vs ${pct1(heavy.t.backendCpuMeanPct)}, yet neither \`trajectory\` nor \`track\` is stored. Send the track once (or on change); a heavy body is also ${Math.round((bytes('heavy') / 102_400) * 100)}% of express.json()'s 100 kB limit: a longer track would make every sample a 413.`);
  }
  recs.push('**Alert on what the backend already knows (operations).** Export and alert on `telemetry_influx_write_failures_total`, `telemetry_influx_dropped_lines_total` and the age of the oldest unflushed point; run `telemetry-proof matrix` in CI against every backend change (exit code 99 on a threshold breach).');
  return recs.map((r) => `- ${r}`);
}

// ---- the table of every scenario -------------------------------------------

function scenarioTable(m: MatrixResult): string[] {
  const lines = [
    `### ${mdCell(label(m))} — ${m.entries.length} scenarios, wall time ${Math.round(m.wallTimeMs / 1000)} s, load average (1 min) ${m.loadAvgStart[0]} → ${m.loadAvgEnd[0]}`,
    '',
    '| scenario | rate | payload | network | SSE | s | drain s | sent | acked | non-2xx | no reply | stored in drain | stored after settle | not stored at drain | p50 | p99 | lag p50 | lag p99 | CPU mean | RSS max | gen. ok | status |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const e of m.entries) {
    const s = e.summary;
    const after = e.storedAfterSettle === null ? '–' : String((s.stored ?? 0) + e.storedAfterSettle);
    lines.push(`| ${mdCell(s.name)} | ${rate(s.totalRateHz)} | ${s.payload} | ${s.network} | ${s.sseClients}${s.sseReader !== 'normal' && s.sseClients > 0 ? ` ${s.sseReader}` : ''} | ${Math.round(s.durationMs / 1000)} | ${Math.round(s.drainMs / 1000)} | ${s.sent} | ${s.acked} | ${s.non2xx} | ${s.errors} | ${n(s.stored)} | ${after} | ${s.lossRate === null ? '–' : fmtPct(s.lossRate, 1)} | ${ms(s.latencyP50Ms)} | ${ms(s.latencyP99Ms)} | ${ms(s.lagP50Ms)} | ${ms(s.lagP99Ms)} | ${pct1(s.backendCpuMeanPct)} | ${fmtMiB(s.backendRssMaxBytes)} | ${s.publisherBottleneck ? 'no' : 'yes'} | ${s.status.toUpperCase()} |`);
  }
  for (const k of m.skipped) lines.push(`| ${mdCell(k.name)} | skipped: ${mdCell(k.error)} |`);
  return lines;
}

function maxRateTable(r: MaxRateResult): string[] {
  const lines = [
    `### find-max-rate — ${mdCell(r.backendLabel)}, base \`${r.base.name}\` (${r.base.payload} payload, ${r.base.network}, ${r.base.sseClients} SSE), wall time ${Math.round(r.wallTimeMs / 1000)} s`,
    '',
    `Criteria: acknowledged = stored within ${r.search.criteria.lagBoundMs / 1000} s, no non-2xx, no failed request, p99 ≤ ${r.search.criteria.latencyP99Ms} ms, lag p99 ≤ ${r.search.criteria.lagBoundMs / 1000} s and growing < ${r.search.criteria.lagGrowthMsPerSec} ms/s, generator on schedule (≤ 1% of sends more than ${r.search.lateThresholdMs ?? 25} ms late; a step whose generator fell behind is re-run up to ${r.search.retriesWhenGeneratorBehind ?? 0} times). Holds ${r.search.holdMs / 1000} s, confirmation ${r.search.confirmHoldMs / 1000} s.`,
    '',
    '| # | phase | rate | vehicles × Hz | sent | acked | stored | p99 | lag p99 | lag slope ms/s | backend CPU mean | machine busy / stolen | result |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  r.steps.forEach((s, idx) => {
    const sm = s.summary;
    lines.push(`| ${idx + 1} | ${s.phase} | ${rate(s.rate)} | ${sm ? `${sm.vehicles} × ${+sm.rateHz.toFixed(2)}` : '–'} | ${sm?.sent ?? '–'} | ${sm?.acked ?? '–'} | ${n(sm?.stored)} | ${ms(sm?.latencyP99Ms)} | ${ms(sm?.lagP99Ms)} | ${s.lagSlopeMsPerSec ?? '–'} | ${pct1(sm?.backendCpuMeanPct)} | ${pct1(sm?.machineBusyPct)} / ${pct1(sm?.stealPct)} | ${s.pass ? 'PASS' : `FAIL: ${mdCell(s.failures.join('; '))}`}${s.discardedAttempts?.length ? ` (after ${s.discardedAttempts.length} discarded attempt${s.discardedAttempts.length > 1 ? 's' : ''} in which the load generator fell behind)` : ''} |`);
  });
  return lines;
}

function durableHook(i: FindingsInput): string[] {
  const legacy = i.matrices.filter((m) => m.backend.mode === 'legacy');
  const durable = i.matrices.filter((m) => m.backend.mode === 'durable');
  if (durable.length === 0) {
    return ['Durable mode was not measured for this report. To add the before/after column, run',
      '`npx telemetry-proof matrix --backend-mode durable --out <dir>` and pass its `matrix.json` to',
      '`npx telemetry-proof findings --matrix …` together with the legacy ones.'];
  }
  const intro: string[] = [];
  for (const d of durable) {
    const t = totals(d);
    const s10 = entry(d, 'sustained-10hz')?.summary;
    intro.push(`**${label(d)}:** ${t.ackedNotStored} of ${t.acked} acknowledged samples were not in InfluxDB within their drain`
      + (t.missingAfterSettle !== null ? ` and ${t.missingAfterSettle} were missing after the settle re-read` : '')
      + (s10 ? `; at 10 Hz lag p50 ${ms(s10.lagP50Ms)}, p99 ${ms(s10.lagP99Ms)}, request p99 ${ms(s10.latencyP99Ms)}` : '') + '.');
  }
  for (const r of i.maxRates.filter((x) => x.backend.mode === 'durable')) {
    intro.push(`**${r.backendLabel}, find-max-rate:** maximum reliable rate ${r.maxReliableRate === null ? 'none' : rate(r.maxReliableRate)}${r.confirmed ? ' (confirmed)' : ''}${r.firstFailingRate !== null ? `; first failing ${rate(r.firstFailingRate)}: ${r.firstFailure.join('; ')}` : ''}.`);
  }
  intro.push('The runs of each configuration happened one after another on the shared machine, so machine load differed between them (see each table\'s load average and the per-run busy share): compare ledgers and orders of magnitude, not the last millisecond of latency.');
  const lines = [...intro.flatMap((p) => [p, '']), '| scenario | ' + [...legacy, ...durable].map((m) => `${mdCell(label(m))}: acked / stored in drain / p99 / lag p99`).join(' | ') + ' |',
    '| --- | ' + [...legacy, ...durable].map(() => '---').join(' | ') + ' |'];
  const names = durable[0]!.entries.map((e) => e.summary.name);
  for (const name of names) {
    lines.push(`| ${mdCell(name)} | ` + [...legacy, ...durable].map((m) => {
      const s = entry(m, name)?.summary;
      return s ? `${s.acked} / ${n(s.stored)} / ${ms(s.latencyP99Ms)} / ${ms(s.lagP99Ms)}` : '–';
    }).join(' | ') + ' |');
  }
  return lines;
}

/** "whole-machine CPU busy 40–95% and stolen 5–33% during the runs" from the summaries that measured it. */
function machineLoad(ms: readonly MatrixResult[]): string {
  const rows = ms.flatMap((m) => m.entries.map((e) => e.summary));
  const busy = rows.map((r) => r.machineBusyPct).filter((x): x is number => x !== null);
  const steal = rows.map((r) => r.stealPct).filter((x): x is number => x !== null);
  if (busy.length === 0) return '';
  return ` During the runs the whole machine was ${Math.min(...busy)}–${Math.max(...busy)}% busy, with ${Math.min(...steal)}–${Math.max(...steal)}% of CPU time stolen by the hypervisor (measured per run from /proc/stat).`;
}

export function renderFindings(i: FindingsInput): string {
  const out: string[] = [];
  const labels = [...new Set([...i.matrices.map(label), ...i.maxRates.map((r) => r.backendLabel)])];
  out.push(`# Stress findings — ${labels.join(' / ') || 'no runs'}`, '');
  if (i.matrices.some((m) => m.backend.mode === 'durable') && i.matrices.some((m) => m.backend.mode !== 'durable')) {
    out.push('The six answers below are for the backend as the seed runs it (legacy mode); durable mode is compared in "Durable mode (before / after)".', '');
  }
  out.push(`Generated ${i.generatedAt ?? new Date().toISOString()} by \`telemetry-proof\` from the measurements listed at the end. Every figure below was measured on this machine; nothing is estimated. `
    + 'Latency is request latency from the intended send time (coordinated-omission corrected); lag is publish → first seen in InfluxDB by the storage probe; '
    + `"reliable" means acknowledged = stored within ${LAG_BOUND / 1000} s, no failed request, p99 ≤ ${SLO} ms, lag bounded and not growing, and the load generator on schedule.`, '');
  const envs = i.matrices.map((m) => m.entries[0]?.summary).filter(Boolean);
  if (i.matrices.length > 0) {
    out.push('**Machine:** ' + [...new Set(i.matrices.map((m) => `${m.backendLabel}: load average (1 min) ${m.loadAvgStart.join('/')} → ${m.loadAvgEnd.join('/')} (1/5/15 min, start → end)`))].join('; ') + '.'
      + machineLoad(i.matrices)
      + (envs.length > 0 ? ' The machine has 2 cores shared by the publisher, the backend, InfluxDB, Toxiproxy and, at times, other engineers\' test runs: absolute capacity figures are for this box, the comparisons between scenarios are the robust part.' : ''), '');
  }
  // The six answers are about the backend under test as the seed runs it (legacy); durable mode, when
  // measured, is the before/after section below. One paragraph per question.
  const legacy: FindingsInput = {
    ...i,
    matrices: i.matrices.some((m) => m.backend.mode !== 'durable') ? i.matrices.filter((m) => m.backend.mode !== 'durable') : i.matrices,
    maxRates: i.maxRates.some((r) => r.backend.mode !== 'durable') ? i.maxRates.filter((r) => r.backend.mode !== 'durable') : i.maxRates,
  };
  const paragraph = (parts: string[]): string[] => [parts.join(' '), ''];
  out.push('## 1. What sustained publish rate can the backend handle reliably?', '', ...paragraph(answerSustainableRate(legacy)));
  out.push('## 2. At what point do request failures or storage gaps start appearing?', '', ...paragraph(answerWhereFailuresStart(legacy)));
  out.push('## 3. Is data loss happening at ingestion, validation, or storage?', '', ...paragraph(answerWhereLoss(legacy)));
  out.push('## 4. How much end-to-end lag appears between Jetson publish time and storage time?', '', ...paragraph(answerLag(legacy)));
  const sse = answerSse(legacy);
  out.push('## 5. Does SSE broadcasting materially affect ingestion throughput?', '', ...paragraph(sse.text), ...sse.tables);
  out.push('## 6. What operational safeguards or code changes are needed?', '', ...recommendations(i), '');
  out.push('## Every scenario', '');
  out.push('"stored in drain": acknowledged samples found in InfluxDB within the drain after the run\'s last reply (5 s, the contract\'s lag bound, unless the "drain s" column says otherwise); "stored after settle": found when re-read once the matrix was over (flush interval + 5 s later, backend still running); "no reply": timeouts, resets, refused; "gen. ok": the load generator kept its schedule.', '');
  for (const m of i.matrices) out.push(...scenarioTable(m), '');
  for (const r of i.maxRates) out.push(...maxRateTable(r), '');
  out.push('## Durable mode (before / after)', '', ...durableHook(i), '');
  if (i.commands && i.commands.length > 0) {
    out.push('## How these numbers were produced', '', '| command | wall time |', '| --- | --- |', ...i.commands.map((c) => `| \`${mdCell(c.command)}\` | ${Math.round(c.wallTimeMs / 1000)} s |`), '');
  }
  return out.join('\n');
}

export function renderMaxRateMarkdown(r: MaxRateResult): string {
  return [
    `# find-max-rate — ${r.backendLabel}`, '',
    r.maxReliableRate === null ? `No reliable rate: the lowest rate tried (${rate(r.firstFailingRate ?? r.search.startRate)}) failed.` : `Maximum reliable rate: **${rate(r.maxReliableRate)}**${r.confirmed ? ' (confirmed)' : ' (not confirmed)'}${r.ceilingReached ? ', search ceiling reached' : ''}.`,
    r.firstFailingRate !== null ? `First failing rate: **${rate(r.firstFailingRate)}** — ${r.firstFailure.join('; ')}.` : '', '',
    ...maxRateTable(r), '',
  ].join('\n');
}
