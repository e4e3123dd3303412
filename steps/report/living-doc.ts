/**
 * The living documentation: one self-contained HTML page made from a
 * cucumber message stream — capabilities (the folders of features/), their
 * features and rules as prose, every scenario's verdict and duration, and the
 * figures scenarios attached (tables, and bar charts for grouped figures).
 */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verdicts, type Envelope } from './messages';

export const FIGURES_MEDIA_TYPE = 'application/vnd.eventfold.figures+json';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** Figures sharing a group are drawn together as one bar chart. */
  group?: string;
}

interface ScenarioRun {
  name: string;
  verdict: string;
  seconds: number;
  figures: Figure[];
  failure?: string;
  tags: string[];
}

const CAPABILITY_ORDER = ['storage', 'input', 'concurrency', 'durability', 'state', 'subscriptions', 'recovery', 'snapshots', 'cli', 'scale', 'reporting'];

const escapeHtml = (text: unknown) =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const seconds = (t: { seconds: number; nanos: number }) => t.seconds + t.nanos / 1e9;

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(3)).toLocaleString('en-US');
}

/** Gherkin descriptions as prose: paragraphs, "- " lists and `code`. */
function prose(description: string | undefined): string {
  if (!description?.trim()) return '';
  const lines = description.split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^\s*/)![0].length));
  const blocks = lines.map((l) => l.slice(indent)).join('\n').trim().split(/\n\s*\n/);
  const inline = (t: string) => escapeHtml(t).replace(/`([^`]+)`/g, '<code>$1</code>');
  return blocks
    .map((block) => {
      const items = block.split('\n');
      if (items.every((l) => l.trim().startsWith('- '))) {
        return `<ul>${items.map((l) => `<li>${inline(l.trim().slice(2))}</li>`).join('')}</ul>`;
      }
      const firstItem = items.findIndex((l) => l.trim().startsWith('- '));
      if (firstItem > 0 && items.slice(firstItem).every((l) => l.trim().startsWith('- '))) {
        return `<p>${inline(items.slice(0, firstItem).join(' '))}</p><ul>${items.slice(firstItem).map((l) => `<li>${inline(l.trim().slice(2))}</li>`).join('')}</ul>`;
      }
      return `<p>${inline(items.join(' '))}</p>`;
    })
    .join('\n');
}

function barChart(title: string, figures: Figure[]): string {
  const width = 640;
  const labelWidth = 220;
  const barHeight = 22;
  const max = Math.max(...figures.map((f) => f.value), 1e-9);
  const rows = figures
    .map((f, i) => {
      const y = 28 + i * (barHeight + 8);
      const w = Math.max(1, ((width - labelWidth - 120) * f.value) / max);
      return `<text x="0" y="${y + 15}" class="label">${escapeHtml(f.name)}</text>
<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" rx="3"></rect>
<text x="${labelWidth + w + 6}" y="${y + 15}" class="value">${escapeHtml(formatNumber(f.value))} ${escapeHtml(f.unit)}</text>`;
    })
    .join('\n');
  const height = 36 + figures.length * (barHeight + 8);
  return `<figure class="chart"><svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(title)}">
<text x="0" y="16" class="title">${escapeHtml(title)}</text>
${rows}
</svg></figure>`;
}

function figureTable(figures: Figure[]): string {
  if (figures.length === 0) return '';
  return `<table class="figures"><tr><th>figure</th><th>value</th><th>unit</th></tr>${figures
    .map((f) => `<tr><td>${escapeHtml(f.name)}</td><td class="num">${escapeHtml(formatNumber(f.value))}</td><td>${escapeHtml(f.unit)}</td></tr>`)
    .join('')}</table>`;
}

export interface RunMetadata {
  packageVersion: string;
  nodeVersion: string;
  date: string;
  commit: string;
  cucumberReport: string;
}

export function defaultMetadata(root: string): RunMetadata {
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    // Not a git checkout: say so rather than guess.
  }
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  return { packageVersion: pkg.version, nodeVersion: process.version, date: new Date().toISOString(), commit, cucumberReport: 'cucumber.html' };
}

export function renderLivingDoc(messages: Envelope[], meta: RunMetadata): string {
  const documents = new Map<string, Envelope>(); // uri → gherkinDocument
  const pickles = new Map<string, Envelope>();
  const testCases = new Map<string, Envelope>();
  const started = new Map<string, Envelope>();
  const finished = new Map<string, Envelope>();
  const figures = new Map<string, Figure[]>();
  const failures = new Map<string, string>();
  for (const m of messages) {
    if (m.gherkinDocument) documents.set(m.gherkinDocument.uri, m.gherkinDocument);
    if (m.pickle) pickles.set(m.pickle.id, m.pickle);
    if (m.testCase) testCases.set(m.testCase.id, m.testCase);
    if (m.testCaseStarted) started.set(m.testCaseStarted.id, m.testCaseStarted);
    if (m.testCaseFinished) finished.set(m.testCaseFinished.testCaseStartedId, m.testCaseFinished);
    if (m.attachment?.mediaType === FIGURES_MEDIA_TYPE && m.attachment.testCaseStartedId) {
      const list = figures.get(m.attachment.testCaseStartedId) ?? [];
      list.push(...(JSON.parse(m.attachment.body) as Figure[]));
      figures.set(m.attachment.testCaseStartedId, list);
    }
    const result = m.testStepFinished?.testStepResult;
    if (result?.status === 'FAILED' && !failures.has(m.testStepFinished.testCaseStartedId)) {
      failures.set(m.testStepFinished.testCaseStartedId, result.message ?? 'failed');
    }
  }
  const outcome = verdicts(messages);

  // Scenario runs by the AST node of their scenario.
  const runsByNode = new Map<string, ScenarioRun[]>();
  for (const [startedId, verdict] of outcome) {
    const testCase = testCases.get(started.get(startedId)!.testCaseId)!;
    const pickle = pickles.get(testCase.pickleId)!;
    const end = finished.get(startedId);
    const run: ScenarioRun = {
      name: pickle.name,
      verdict,
      seconds: end ? seconds(end.timestamp) - seconds(started.get(startedId)!.timestamp) : 0,
      figures: figures.get(startedId) ?? [],
      failure: failures.get(startedId),
      tags: pickle.tags.map((t: { name: string }) => t.name),
    };
    const node = pickle.astNodeIds[0];
    runsByNode.set(node, [...(runsByNode.get(node) ?? []), run]);
  }

  const capabilities = new Map<string, Array<{ uri: string; feature: Envelope }>>();
  for (const [uri, document] of documents) {
    if (!document.feature) continue;
    const parts = uri.replace(/\\/g, '/').split('/');
    const capability = parts.length > 2 ? parts[parts.length - 2] : 'general';
    capabilities.set(capability, [...(capabilities.get(capability) ?? []), { uri, feature: document.feature }]);
  }
  const ordered = [...capabilities.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));

  const allRuns = [...runsByNode.values()].flat();
  const passed = allRuns.filter((r) => r.verdict === 'PASSED').length;
  const failed = allRuns.filter((r) => r.verdict !== 'PASSED').length;
  const totalSeconds = allRuns.reduce((sum, r) => sum + r.seconds, 0);

  const groups = new Map<string, Figure[]>();
  for (const run of allRuns) for (const f of run.figures) if (f.group) groups.set(f.group, [...(groups.get(f.group) ?? []), f]);

  const scenarioHtml = (node: Envelope, keyword: string) => {
    const runs = runsByNode.get(node.id) ?? [];
    if (runs.length === 0) return '';
    return runs
      .map(
        (run) => `<div class="scenario ${run.verdict.toLowerCase()}">
<div class="scenario-head"><span class="verdict">${run.verdict === 'PASSED' ? '✔ passed' : '✖ ' + escapeHtml(run.verdict.toLowerCase())}</span>
<span class="name">${escapeHtml(keyword)}: ${escapeHtml(run.name)}</span><span class="duration">${run.seconds.toFixed(2)} s</span>
${run.tags.map((t) => `<span class="tag">${escapeHtml(t)}</span>`).join('')}</div>
${prose(node.description)}
${run.failure ? `<pre class="failure">${escapeHtml(run.failure.split('\n').slice(0, 6).join('\n'))}</pre>` : ''}
${figureTable(run.figures)}
</div>`,
      )
      .join('\n');
  };

  const childrenHtml = (children: Envelope[]): string =>
    children
      .map((child) => {
        if (child.scenario) return scenarioHtml(child.scenario, child.scenario.keyword);
        if (child.rule) {
          return `<section class="rule"><h4>Rule: ${escapeHtml(child.rule.name)}</h4>${prose(child.rule.description)}${childrenHtml(child.rule.children)}</section>`;
        }
        return '';
      })
      .join('\n');

  const sections = ordered
    .map((capability) => {
      const features = capabilities.get(capability)!;
      const runs = features.flatMap(({ feature }) => collectRuns(feature.children, runsByNode));
      if (runs.length === 0) return '';
      const ok = runs.filter((r) => r.verdict === 'PASSED').length;
      return `<section class="capability" id="capability-${escapeHtml(capability)}">
<h2>${escapeHtml(title(capability))} <small>${ok} of ${runs.length} scenarios pass</small></h2>
${features
  .map(({ uri, feature }) => {
    const body = childrenHtml(feature.children);
    if (!body.trim()) return '';
    return `<article class="feature"><h3>${escapeHtml(feature.name)}</h3><div class="uri">${escapeHtml(uri)}</div>${prose(feature.description)}${body}</article>`;
  })
  .join('\n')}
</section>`;
    })
    .join('\n');

  const glance = ordered
    .map((capability) => {
      const runs = capabilities.get(capability)!.flatMap(({ feature }) => collectRuns(feature.children, runsByNode));
      if (runs.length === 0) return '';
      const ok = runs.filter((r) => r.verdict === 'PASSED').length;
      return `<tr class="${ok === runs.length ? 'passed' : 'failed'}"><td><a href="#capability-${escapeHtml(capability)}">${escapeHtml(title(capability))}</a></td><td class="num">${ok}</td><td class="num">${runs.length - ok}</td><td class="num">${runs.reduce((s, r) => s + r.seconds, 0).toFixed(1)} s</td></tr>`;
    })
    .join('');

  const measured = allRuns.filter((r) => r.figures.length > 0);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>eventfold — living documentation</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:24px;color:#1d2330}
h1{margin:0 0 4px}h2{border-bottom:2px solid #dde3ee;padding-bottom:4px;margin-top:40px}h2 small{font-weight:normal;color:#5b6577;font-size:14px}
h3{margin:24px 0 0}h4{margin:18px 0 4px;color:#2c3e66}.uri{color:#7a8394;font-size:12px;font-family:monospace}
.meta{color:#5b6577}.meta code{background:#f1f4f9;padding:1px 4px;border-radius:3px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #dde3ee;padding:3px 10px;text-align:left}.num{text-align:right;font-variant-numeric:tabular-nums}
.scenario{border-left:4px solid #2e9e5b;background:#f6fbf8;margin:8px 0;padding:6px 12px}.scenario.failed,.scenario.undefined,.scenario.ambiguous,.scenario.pending{border-color:#c8372d;background:#fdf3f2}
.scenario.skipped{border-color:#b3b9c4;background:#f6f7f9}.scenario-head{display:flex;gap:12px;align-items:baseline;flex-wrap:wrap}
.verdict{font-weight:600;min-width:72px}.passed .verdict{color:#1f7a45}.failed .verdict{color:#c8372d}.duration{color:#7a8394;font-size:13px}
.tag{font-size:12px;background:#e7ecf5;border-radius:10px;padding:0 8px;color:#2c3e66}.rule{margin-left:8px}
pre.failure{white-space:pre-wrap;background:#fff;border:1px solid #f0c4c0;padding:6px;font-size:12px}
tr.failed td{color:#c8372d}.summary{font-size:18px}.chart svg{font:13px system-ui,sans-serif}.chart rect{fill:#3d6fd9}.chart .title{font-weight:600}
</style></head>
<body>
<h1>eventfold — living documentation</h1>
<p class="meta">eventfold <code>${escapeHtml(meta.packageVersion)}</code> · Node <code>${escapeHtml(meta.nodeVersion)}</code> · run of <code>${escapeHtml(meta.date)}</code> · commit <code>${escapeHtml(meta.commit)}</code> · <a href="${escapeHtml(meta.cucumberReport)}">full cucumber report</a></p>
<p class="summary"><strong>${passed} passed, ${failed} failed</strong> — ${allRuns.length} scenarios in ${totalSeconds.toFixed(1)} s of scenario time.</p>
<h2>At a glance</h2>
<table><tr><th>capability</th><th>passed</th><th>failed</th><th>time</th></tr>${glance}</table>
${groups.size > 0 ? `<h2>Comparisons</h2>${[...groups].map(([group, list]) => barChart(group, list)).join('\n')}` : ''}
${measured.length > 0 ? `<h2>Measured figures</h2><table><tr><th>scenario</th><th>figure</th><th>value</th><th>unit</th></tr>${measured
    .flatMap((run) => run.figures.map((f) => `<tr><td>${escapeHtml(run.name)}</td><td>${escapeHtml(f.name)}</td><td class="num">${escapeHtml(formatNumber(f.value))}</td><td>${escapeHtml(f.unit)}</td></tr>`))
    .join('')}</table>` : ''}
${sections}
</body></html>
`;
}

function collectRuns(children: Envelope[], runsByNode: Map<string, ScenarioRun[]>): ScenarioRun[] {
  return children.flatMap((child) => {
    if (child.scenario) return runsByNode.get(child.scenario.id) ?? [];
    if (child.rule) return collectRuns(child.rule.children, runsByNode);
    return [];
  });
}

function rank(capability: string): number {
  const index = CAPABILITY_ORDER.indexOf(capability);
  return index < 0 ? CAPABILITY_ORDER.length : index;
}

/** Capability names as people write them; other folders are capitalised. */
const CAPABILITY_TITLES: Record<string, string> = {
  cli: 'Command line',
  'typed-api': 'Typed API',
  emmett: 'Emmett',
};

function title(capability: string): string {
  return CAPABILITY_TITLES[capability] ?? capability.charAt(0).toUpperCase() + capability.slice(1);
}
