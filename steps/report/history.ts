/**
 * The run history: every run appends one line to `reports/history.ndjson`
 * (git-ignored with the rest of reports/, never deleted by a run) — its
 * date, commit, verdict counts and headline figures, and the benchmark's
 * figures once per new bench.json — so that the page can draw each figure's
 * trend across runs. The file keeps the last MAX_RUNS lines.
 *
 * Line format (one JSON object per line):
 *   { "date": ISO-8601, "commit": string, "log": "file log" | "PostgreSQL" | …,
 *     "passed": n, "failed": n, "seconds": scenario time,
 *     "figures": { "<figure key>": { "value": n, "unit": string } },
 *     "benchDate"?: the bench.json run whose rows are among the figures }
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { BenchReport } from './bench';
import { seriesName } from './bench';
import { trendChart } from './charts';
import { escapeHtml, formatNumber } from './html';
import type { RunModel } from './run-model';

export const HISTORY_FILE = 'history.ndjson';
const MAX_RUNS = 60;
/** A change this large in the bad direction is flagged as a regression. */
const REGRESSION = 0.1;

export interface HistoryEntry {
  date: string;
  commit: string;
  log: string;
  passed: number;
  failed: number;
  seconds: number;
  figures: Record<string, { value: number; unit: string }>;
  benchDate?: string;
}

export function readHistory(path: string): HistoryEntry[] {
  if (!existsSync(path)) return [];
  const entries: HistoryEntry[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const entry = JSON.parse(line) as HistoryEntry;
      if (typeof entry.date === 'string' && typeof entry.figures === 'object') entries.push(entry);
    } catch {
      // A line cut short by a killed run: the others still count.
    }
  }
  return entries;
}

/** Figures worth a trend: rates, times, memory and sizes (counts of a fixed test are not). */
export function isHeadline(unit: string): boolean {
  return /\/s$/.test(unit) || ['ms', 's', 'MiB', 'GiB', 'bytes'].includes(unit);
}

/** Which way is better for a unit: +1 higher, -1 lower, 0 neither. */
export function betterDirection(unit: string): number {
  if (/\/s$/.test(unit)) return 1;
  if (['ms', 's', 'MiB', 'GiB', 'bytes'].includes(unit)) return -1;
  return 0;
}

export function entryOf(run: RunModel, meta: { date: string; commit: string }, bench: BenchReport | undefined, history: HistoryEntry[]): HistoryEntry {
  const figures: HistoryEntry['figures'] = {};
  for (const { info, run: scenario } of run.scenarios) {
    const scale = scenario.figures.find((f) => f.name === 'scale run');
    const suffix = scale ? ` (${formatNumber(scale.value)} ${scale.unit})` : '';
    for (const f of scenario.figures) if (isHeadline(f.unit)) figures[`${info.name}${suffix} › ${f.name}`] = { value: f.value, unit: f.unit };
  }
  const entry: HistoryEntry = {
    date: meta.date,
    commit: meta.commit,
    log: run.label,
    passed: run.scenarios.filter((s) => s.run.verdict === 'PASSED').length,
    failed: run.scenarios.filter((s) => s.run.verdict !== 'PASSED').length + run.problems.length,
    seconds: run.scenarios.reduce((sum, s) => sum + s.run.seconds, 0),
    figures,
  };
  if (bench?.date && !history.some((h) => h.benchDate === bench.date)) {
    entry.benchDate = bench.date;
    for (const row of bench.rows) for (const v of row.values) if (v.value !== null) figures[`bench: ${row.label} › ${seriesName(v.series)}`] = { value: v.value, unit: row.unit };
  }
  return entry;
}

/** Appends the entry and keeps the file to its last MAX_RUNS lines; returns the history including it. */
export function appendHistory(path: string, entry: HistoryEntry): HistoryEntry[] {
  const history = [...readHistory(path), entry];
  if (history.length > MAX_RUNS) writeFileSync(path, history.slice(-MAX_RUNS).map((h) => JSON.stringify(h)).join('\n') + '\n');
  else appendFileSync(path, JSON.stringify(entry) + '\n');
  return history.slice(-MAX_RUNS);
}

interface Series {
  key: string;
  unit: string;
  points: Array<{ label: string; value: number }>;
}

function seriesOf(history: HistoryEntry[]): Series[] {
  const series = new Map<string, Series>();
  const add = (key: string, unit: string, label: string, value: number) => {
    const s = series.get(key) ?? { key, unit, points: [] };
    s.points.push({ label, value });
    series.set(key, s);
  };
  const logs = new Set(history.map((h) => h.log));
  for (const h of history) {
    const on = logs.size > 1 ? ` (${h.log})` : '';
    const label = `${h.date.slice(0, 16).replace('T', ' ')} ${h.commit}`;
    add(`scenarios passed${on}`, 'scenarios', label, h.passed);
    add(`scenarios failed${on}`, 'scenarios', label, h.failed);
    for (const [key, f] of Object.entries(h.figures)) add(`${key}${on && !key.startsWith('bench:') ? on : ''}`, f.unit, label, f.value);
  }
  return [...series.values()];
}

function change(s: Series): { text: string; regression: boolean } {
  if (s.points.length < 2) return { text: 'first run', regression: false };
  const last = s.points[s.points.length - 1].value;
  const previous = s.points[s.points.length - 2].value;
  if (previous === 0) return { text: last === 0 ? 'unchanged' : 'new', regression: s.key.startsWith('scenarios failed') && last > 0 };
  const ratio = (last - previous) / Math.abs(previous);
  const direction = s.key.startsWith('scenarios failed') ? -1 : betterDirection(s.unit);
  const regression = direction !== 0 && ratio * direction < -REGRESSION;
  return { text: `${ratio >= 0 ? '+' : ''}${(ratio * 100).toFixed(1)} %`, regression };
}

export function historySection(history: HistoryEntry[]): string {
  if (history.length === 0) return '';
  const series = seriesOf(history);
  const rows = series
    .map((s) => {
      const c = change(s);
      const last = s.points[s.points.length - 1];
      return `<tr class="${c.regression ? 'regression' : ''}"><td>${escapeHtml(s.key)}</td><td class="trend-cell">${trendChart(s.key, s.points)}</td><td class="num">${escapeHtml(formatNumber(last.value))} ${escapeHtml(s.unit)}</td><td class="num">${escapeHtml(c.text)}${c.regression ? ' <strong>worse</strong>' : ''}</td><td class="num">${s.points.length}</td></tr>`;
    })
    .join('');
  return `<section id="history" class="history"><h2>History</h2>
<p class="meta">The last ${history.length} runs recorded in <code>reports/history.ndjson</code> (kept between runs), oldest on the left of each trend. A change of more than ${REGRESSION * 100} % in the wrong direction since the previous run is marked <strong>worse</strong>.</p>
<div class="table-wrap"><table class="trends"><tr><th>figure</th><th>trend</th><th>latest</th><th>change</th><th>runs</th></tr>${rows}</table></div></section>`;
}
