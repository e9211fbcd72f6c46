/**
 * Inline SVG line charts, generated as strings (no library, no external
 * resources: the HTML report must open offline). x is seconds into the run;
 * fault windows are shaded; a null value breaks the line (not measured ≠ 0).
 */
import { escapeXml } from './format';

export interface ChartSeries {
  name: string;
  color: string;
  /** [x seconds, y] — y null = gap. */
  points: ReadonlyArray<readonly [number, number | null]>;
  dashed?: boolean;
}

export interface ChartSpec {
  id: string;
  title: string;
  yLabel: string;
  series: ChartSeries[];
  /** x range in seconds. */
  xMax: number;
  /** Shaded windows, seconds into the run. */
  faults?: ReadonlyArray<{ kind: string; start: number; end: number }>;
  yFormat?: (v: number) => string;
  width?: number;
  height?: number;
}

/** Charts are decimated to at most this many points per series (max per bucket, so peaks survive). */
const MAX_POINTS = 1200;

export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

function decimate(points: ChartSeries['points']): ChartSeries['points'] {
  if (points.length <= MAX_POINTS) return points;
  const size = Math.ceil(points.length / MAX_POINTS);
  const out: [number, number | null][] = [];
  for (let i = 0; i < points.length; i += size) {
    let y: number | null = null;
    for (let j = i; j < Math.min(i + size, points.length); j++) {
      const v = points[j]![1];
      if (v !== null && (y === null || v > y)) y = v;
    }
    out.push([points[i]![0], y]);
  }
  return out;
}

const r1 = (v: number): string => (Math.round(v * 10) / 10).toString();

export function renderLineChart(spec: ChartSpec): string {
  const W = spec.width ?? 720, H = spec.height ?? 230;
  // L leaves room for tick labels like "40000 ms" left of the plot and the rotated axis label left of them.
  const L = 78, R = 14, T = 44, B = 32;
  const pw = W - L - R, ph = H - T - B;
  const fmt = spec.yFormat ?? ((v: number) => String(v));
  const series = spec.series.map((s) => ({ ...s, points: decimate(s.points) }));
  let yMax = 0;
  for (const s of series) for (const [, y] of s.points) if (y !== null && Number.isFinite(y) && y > yMax) yMax = y;
  const yTicks = niceTicks(yMax);
  const yTop = yTicks[yTicks.length - 1]!;
  const xMax = spec.xMax > 0 ? spec.xMax : 1;
  const xTicks = niceTicks(xMax, 8).filter((v) => v <= xMax);
  const X = (x: number): number => L + (Math.min(Math.max(x, 0), xMax) / xMax) * pw;
  const Y = (y: number): number => T + ph - (Math.min(Math.max(y, 0), yTop) / yTop) * ph;

  const parts: string[] = [];
  parts.push(`<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${escapeXml(spec.title)}" data-chart="${escapeXml(spec.id)}" class="chart">`);
  parts.push(`<title>${escapeXml(spec.title)}</title>`);
  parts.push(`<text x="${L}" y="16" class="chart-title">${escapeXml(spec.title)}</text>`);
  for (const f of spec.faults ?? []) {
    const x0 = X(f.start), x1 = Math.max(X(f.end), x0 + 1);
    parts.push(`<rect x="${r1(x0)}" y="${T}" width="${r1(x1 - x0)}" height="${ph}" class="fault"><title>${escapeXml(`${f.kind}: ${f.start.toFixed(1)}–${f.end.toFixed(1)} s`)}</title></rect>`);
  }
  for (const v of yTicks) {
    const y = r1(Y(v));
    parts.push(`<line x1="${L}" x2="${L + pw}" y1="${y}" y2="${y}" class="grid"/>`);
    parts.push(`<text x="${L - 6}" y="${y}" class="tick" text-anchor="end" dominant-baseline="middle">${escapeXml(fmt(v))}</text>`);
  }
  for (const v of xTicks) {
    parts.push(`<text x="${r1(X(v))}" y="${T + ph + 16}" class="tick" text-anchor="middle">${escapeXml(String(v))}</text>`);
  }
  parts.push(`<text x="${L + pw}" y="${H - 2}" class="axis-label" text-anchor="end">seconds into run</text>`);
  parts.push(`<text x="12" y="${T + ph / 2}" class="axis-label" text-anchor="middle" transform="rotate(-90 12 ${T + ph / 2})">${escapeXml(spec.yLabel)}</text>`);
  parts.push(`<rect x="${L}" y="${T}" width="${pw}" height="${ph}" class="frame"/>`);

  let hasData = false;
  for (const s of series) {
    let d = '';
    let pen = false;
    for (const [x, y] of s.points) {
      if (y === null || !Number.isFinite(y)) { pen = false; continue; }
      d += `${pen ? 'L' : 'M'}${r1(X(x))} ${r1(Y(y))}`;
      pen = true;
      hasData = true;
    }
    if (d) parts.push(`<path d="${d}" fill="none" stroke="${escapeXml(s.color)}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="5 3"' : ''}><title>${escapeXml(s.name)}</title></path>`);
  }
  if (!hasData) parts.push(`<text x="${L + pw / 2}" y="${T + ph / 2}" class="no-data" text-anchor="middle">not measured in this run</text>`);

  // Legend on its own line under the title, so long titles never collide with it.
  let lx = L;
  for (const s of series) {
    parts.push(`<rect x="${lx}" y="25" width="12" height="4" fill="${escapeXml(s.color)}"/><text x="${lx + 16}" y="31" class="legend">${escapeXml(s.name)}</text>`);
    lx += 28 + s.name.length * 6.5;
  }
  parts.push('</svg>');
  return parts.join('');
}
