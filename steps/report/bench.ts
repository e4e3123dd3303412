/**
 * The performance section, from `reports/bench.json` (written by `npm run
 * bench`). Read generically: each row has a label (`workload`, or the first
 * text field), a `unit`, and any number of series — every other field holding
 * a number or null — so rows and columns added to the benchmark (a
 * PostgreSQL column, open-loop latency rows) appear without this code
 * changing. A row whose label starts with spaces details the row above it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { barChart } from './charts';
import { escapeHtml, formatNumber } from './html';

export interface BenchRow {
  label: string;
  unit: string;
  values: Array<{ series: string; value: number | null }>;
}

export interface BenchReport {
  date?: string;
  machine: Array<[string, string]>;
  rows: BenchRow[];
  ratios: Array<[string, number]>;
}

/** Series names as people write them; others are shown as they are. */
const SERIES_NAMES: Record<string, string> = {
  eventfold: 'eventfold',
  sqlite: 'SQLite (WAL, FULL)',
  raw: 'raw disk',
  postgres: 'PostgreSQL',
  postgresql: 'PostgreSQL',
};

const LABEL_FIELDS = ['workload', 'label', 'name'];

export function seriesName(key: string): string {
  return SERIES_NAMES[key] ?? key;
}

/** The CSS class that colours a series (unknown series share one colour). */
export function seriesClass(key: string): string {
  return `series-${Object.keys(SERIES_NAMES).includes(key) ? SERIES_NAMES[key].split(' ')[0].toLowerCase() : 'other'}`;
}

export function readBench(path: string): BenchReport | undefined {
  if (!existsSync(path)) return undefined;
  let json: any;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return { machine: [['bench.json', 'not readable as JSON']], rows: [], ratios: [] };
  }
  const machine: Array<[string, string]> = Object.entries(json?.machine ?? {}).filter(([key]) => key !== 'date').map(([key, value]) => [key, String(value)]);
  const rows: BenchRow[] = [];
  let parent = '';
  for (const row of Array.isArray(json?.rows) ? json.rows : []) {
    if (typeof row !== 'object' || row === null) continue;
    const labelField = LABEL_FIELDS.find((f) => typeof row[f] === 'string') ?? Object.keys(row).find((k) => k !== 'unit' && typeof row[k] === 'string');
    const raw = labelField ? String(row[labelField]) : '';
    const label = /^\s/.test(raw) && parent ? `${parent} — ${raw.trim()}` : raw.trim();
    if (!/^\s/.test(raw)) parent = raw.trim();
    const values = Object.entries(row)
      .filter(([key, value]) => key !== labelField && key !== 'unit' && (value === null || typeof value === 'number'))
      .map(([series, value]) => ({ series, value: value as number | null }));
    rows.push({ label, unit: String(row.unit ?? ''), values });
  }
  const ratios = Object.entries(json?.ratios ?? {}).filter((entry): entry is [string, number] => typeof entry[1] === 'number');
  return { date: typeof json?.machine?.date === 'string' ? json.machine.date : undefined, machine, rows, ratios };
}

/** "batchedAppendVsSqlite" → "batched append vs SQLite". */
function ratioName(key: string): string {
  return key
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .replace(/\bsqlite\b/g, 'SQLite')
    .replace(/\bpostgres(ql)?\b/g, 'PostgreSQL');
}

export function benchSection(bench: BenchReport): string {
  const machine = bench.machine.map(([k, v]) => `${escapeHtml(k)} <code>${escapeHtml(v)}</code>`).join(' · ');
  const charts = bench.rows
    .filter((row) => row.values.some((v) => v.value !== null))
    .map((row, i) =>
      barChart(
        `${row.label} (${row.unit}${/\/s$/.test(row.unit) ? ', higher is better' : row.unit === 'ms' ? ', lower is better' : ''})`,
        row.values.map((v) => ({ label: seriesName(v.series), value: v.value, unit: row.unit, series: seriesClass(v.series) })),
        `bench-${i}`,
      ),
    )
    .join('\n');
  const ratios = bench.ratios.length
    ? `<table class="ratios"><tr><th>ratio</th><th>value</th></tr>${bench.ratios.map(([k, v]) => `<tr><td>${escapeHtml(ratioName(k))}</td><td class="num">${escapeHtml(formatNumber(v))}×</td></tr>`).join('')}</table>`
    : '';
  return `<section id="performance" class="performance"><h2>Performance</h2>
<p class="meta">From <code>reports/bench.json</code> (<code>npm run bench</code>)${bench.date ? `, run of <code>${escapeHtml(bench.date)}</code>` : ''}${machine ? ` on ${machine}` : ''}: eventfold, SQLite and the raw disk on the same events, in one process.</p>
<div class="charts">${charts}</div>${ratios}</section>`;
}
