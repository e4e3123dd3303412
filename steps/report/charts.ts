/**
 * Charts of the living documentation, drawn without scripts or network:
 * horizontal bars as HTML (labels wrap on a phone instead of being clipped)
 * and trends as small SVG line charts that scale to the width they get.
 */
import { escapeHtml, formatNumber } from './html';

export interface Bar {
  label: string;
  value: number | null;
  unit: string;
  /** A CSS class for the bar's colour (the series it belongs to). */
  series?: string;
}

/** A titled bar chart; bars share one scale. Missing values (null) are named under the bars, not drawn. */
export function barChart(title: string, bars: Bar[], id?: string): string {
  const max = Math.max(...bars.map((b) => b.value ?? 0), 1e-12);
  const missing = bars.filter((b) => b.value === null).map((b) => b.label);
  const rows = bars
    .filter((bar) => bar.value !== null)
    .map((bar) => {
      const value = bar.value === null ? '<span class="value none">not measured</span>' : `<span class="value">${escapeHtml(formatNumber(bar.value))} ${escapeHtml(bar.unit)}</span>`;
      const width = bar.value === null ? 0 : Math.max(0.5, (100 * bar.value) / max);
      return `<div class="bar-row"><span class="bar-label">${escapeHtml(bar.label)}</span><div class="track"><div class="bar-space"><div class="bar ${escapeHtml(bar.series ?? '')}" style="width:${width.toFixed(1)}%"></div></div>${value}</div></div>`;
    })
    .join('');
  const none = missing.length ? `<div class="not-measured">not measured: ${escapeHtml(missing.join(', '))}</div>` : '';
  return `<figure class="chart"${id ? ` id="${escapeHtml(id)}"` : ''} data-chart="bars"><figcaption>${escapeHtml(title)}</figcaption>${rows}${none}</figure>`;
}

export interface TrendPoint {
  label: string;
  value: number;
}

/** A small line chart of a figure across runs, oldest on the left. */
export function trendChart(title: string, points: TrendPoint[]): string {
  const width = 240;
  const height = 48;
  const pad = 4;
  const values = points.map((p) => p.value);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || Math.abs(max) || 1;
  const x = (i: number) => (points.length === 1 ? width / 2 : pad + (i * (width - 2 * pad)) / (points.length - 1));
  const y = (v: number) => height - pad - ((v - min) / span) * (height - 2 * pad) * (max === min ? 0.5 : 1) - (max === min ? (height - 2 * pad) / 2 : 0);
  const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
  const dots = points.map((p, i) => `<circle cx="${x(i).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="2.5"><title>${escapeHtml(`${p.label}: ${formatNumber(p.value)}`)}</title></circle>`).join('');
  return `<svg class="trend" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" role="img" aria-label="${escapeHtml(title)}"><path d="${path}"></path>${dots}</svg>`;
}
