/**
 * The living documentation: one self-contained HTML page made from the
 * message streams of a run (one per event log the features ran on) —
 * failures first, capabilities (the folders of features/) with their
 * features and rules as prose, every scenario with its verdict on each log
 * and its steps, the figures scenarios attached, the benchmark
 * (reports/bench.json) and the trend of each headline figure across runs.
 */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { attachmentHtml } from './attachments';
import { benchSection, type BenchReport } from './bench';
import { barChart } from './charts';
import { historySection, type HistoryEntry } from './history';
import { escapeHtml, formatNumber, formatSeconds, prose, slug, verdictClass, verdictLabel } from './html';
import { worse, type Envelope } from './messages';
import { PAGE_SCRIPT, PAGE_STYLE } from './page-assets';
import { FIGURES_MEDIA_TYPE, type Attempt, type Figure, type Problem, type RunModel, type ScenarioInfo, type ScenarioRun, type StepRun } from './run-model';

export { FIGURES_MEDIA_TYPE, formatNumber, type Figure };

export interface RunMetadata {
  packageVersion: string;
  nodeVersion: string;
  date: string;
  commit: string;
  cucumberReport: string;
  /** Message files of other logs left out of the page, and why. */
  leftOut: string[];
}

export function defaultMetadata(root: string): RunMetadata {
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    // Not a git checkout: say so rather than guess.
  }
  let packageVersion = 'unknown';
  try {
    packageVersion = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    // A formatter used outside this package.
  }
  return { packageVersion, nodeVersion: process.version, date: new Date().toISOString(), commit, cucumberReport: 'cucumber.html', leftOut: [] };
}

export interface LivingDocInput {
  runs: RunModel[];
  meta: RunMetadata;
  bench?: BenchReport;
  history?: HistoryEntry[];
}

/** One scenario (or outline row) with its run on each log. */
interface ScenarioView {
  info: ScenarioInfo;
  runs: ScenarioRun[];
  verdict: string;
  id: string;
}

/** Capability names as people write them; other folders are capitalised. */
const CAPABILITY_TITLES: Record<string, string> = {
  cli: 'Command line (CLI)',
  'typed-api': 'Typed API',
  emmett: 'Emmett',
  postgres: 'PostgreSQL',
  lifecycle: 'Stream lifecycle',
};

const CAPABILITY_ORDER = ['storage', 'input', 'concurrency', 'durability', 'state', 'subscriptions', 'recovery', 'snapshots', 'backup', 'lifecycle', 'postgres', 'cli', 'typed-api', 'emmett', 'packaging', 'scale', 'reporting'];

export function capabilityTitle(capability: string): string {
  return CAPABILITY_TITLES[capability] ?? capability.charAt(0).toUpperCase() + capability.slice(1).replace(/-/g, ' ');
}

function capabilityOf(uri: string): string {
  const parts = uri.replace(/\\/g, '/').split('/');
  return parts.length > 2 ? parts[parts.length - 2] : 'general';
}

const rank = (capability: string) => (CAPABILITY_ORDER.includes(capability) ? CAPABILITY_ORDER.indexOf(capability) : CAPABILITY_ORDER.length);
const needsALook = (verdict: string) => verdict !== 'PASSED' && verdict !== 'SKIPPED';

export function renderLivingDoc(input: LivingDocInput): string {
  const { runs, meta } = input;
  const multiLog = runs.length > 1;

  // Scenarios by key (uri:line): the same scenario on every log.
  const views = new Map<string, ScenarioView>();
  for (const run of runs) {
    for (const { info, run: scenarioRun } of run.scenarios) {
      const view = views.get(info.key) ?? { info, runs: [], verdict: 'PASSED', id: `s-${slug(info.uri)}-${info.line}` };
      view.runs.push(scenarioRun);
      view.verdict = worse(view.verdict, scenarioRun.verdict === 'NOT RUN' ? 'UNKNOWN' : scenarioRun.verdict);
      views.set(info.key, view);
    }
  }
  const documents = new Map<string, Envelope>();
  for (const run of runs) for (const [uri, document] of run.documents) if (!documents.has(uri) && document.feature) documents.set(uri, document);
  const byScenarioLine = new Map<string, ScenarioView[]>();
  for (const view of views.values()) {
    const key = `${view.info.uri}:${view.info.scenarioLine}`;
    byScenarioLine.set(key, [...(byScenarioLine.get(key) ?? []), view].sort((a, b) => a.info.line - b.info.line));
  }
  const viewsOf = (uri: string, node: Envelope) => byScenarioLine.get(`${uri}:${node.location?.line}`) ?? [];

  const capabilities = new Map<string, string[]>();
  for (const uri of documents.keys()) capabilities.set(capabilityOf(uri), [...(capabilities.get(capabilityOf(uri)) ?? []), uri]);
  const ordered = [...capabilities.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const viewsOfCapability = (capability: string) => [...views.values()].filter((v) => capabilityOf(v.info.uri) === capability);

  const scenarioHtml = (view: ScenarioView, description: string) => {
    const { info } = view;
    const example = info.example?.length
      ? `<span class="example">${info.examplesName ? `${escapeHtml(info.examplesName)}: ` : ''}${info.example.map(([h, v]) => `<span class="ex-value"><span class="header">${escapeHtml(h)}</span> ${escapeHtml(v)}</span>`).join('')}</span>`
      : '';
    const logs = multiLog ? `<span class="logs">${view.runs.map((r) => `<span class="log ${verdictClass(r.verdict)}" title="${escapeHtml(r.verdict.toLowerCase())}">${escapeHtml(r.log)} ${verdictLabel(r.verdict).split(' ')[0]}</span>`).join('')}</span>` : '';
    const seconds = Math.max(...view.runs.map((r) => r.seconds));
    const retried = view.runs.some((r) => r.attempts.length > 1) ? '<span class="retried">retried</span>' : '';
    return `<details class="scenario ${verdictClass(view.verdict)}" id="${escapeHtml(view.id)}" data-verdict="${escapeHtml(view.runs.map((r) => verdictClass(r.verdict)).join(' '))}" data-tags="${escapeHtml(info.tags.join(' '))}">
<summary><span class="verdict">${escapeHtml(verdictLabel(view.verdict))}</span><span class="name">${escapeHtml(info.keyword)}: ${escapeHtml(info.name)}</span>${example}${logs}${retried}<span class="duration">${formatSeconds(seconds)}</span>${info.tags.map((t) => `<span class="tag">${escapeHtml(t)}</span>`).join('')}</summary>
<div class="scenario-body">${description}${view.runs.map((r) => runHtml(r, multiLog)).join('\n')}</div>
</details>`;
  };

  const backgroundHtml = (background: Envelope) =>
    `<div class="background"><span class="keyword">${escapeHtml(background.keyword ?? 'Background')}:</span> ${escapeHtml(background.name ?? '')}<ol class="steps plain">${(background.steps ?? []).map((s: Envelope) => `<li><span class="keyword">${escapeHtml(s.keyword)}</span>${escapeHtml(s.text)}</li>`).join('')}</ol></div>`;

  const childrenHtml = (uri: string, children: Envelope[]): string =>
    children
      .map((child) => {
        if (child.background) return backgroundHtml(child.background);
        if (child.scenario) return viewsOf(uri, child.scenario).map((v) => scenarioHtml(v, prose(child.scenario.description))).join('\n');
        if (child.rule) {
          const body = childrenHtml(uri, child.rule.children ?? []);
          if (!/<details/.test(body)) return '';
          return `<section class="rule"><h4>${escapeHtml(child.rule.keyword ?? 'Rule')}: ${escapeHtml(child.rule.name)}</h4>${prose(child.rule.description)}${body}</section>`;
        }
        return '';
      })
      .join('\n');

  const sections = ordered
    .map((capability) => {
      const list = viewsOfCapability(capability);
      if (list.length === 0) return '';
      const ok = list.filter((v) => v.verdict === 'PASSED').length;
      const features = capabilities
        .get(capability)!
        .map((uri) => {
          const feature = documents.get(uri)!.feature;
          const body = childrenHtml(uri, feature.children ?? []);
          if (!/<details/.test(body)) return '';
          return `<article class="feature"><h3>${escapeHtml(feature.name)}</h3><div class="uri">${escapeHtml(uri)}</div>${prose(feature.description)}${body}</article>`;
        })
        .join('\n');
      return `<section class="capability" id="capability-${escapeHtml(slug(capability))}">
<h2>${escapeHtml(capabilityTitle(capability))} <small>${ok} of ${list.length} scenarios pass</small></h2>
${features}
</section>`;
    })
    .join('\n');

  const problems: Array<{ log: string; problem: Problem }> = runs.flatMap((run) => run.problems.map((problem) => ({ log: run.label, problem })));
  const failing = [...views.values()].flatMap((view) => view.runs.filter((r) => needsALook(r.verdict)).map((r) => ({ view, run: r })));

  const failures =
    problems.length + failing.length === 0
      ? ''
      : `<section id="failures" class="failures"><h2>Failures <small>${problems.length + failing.length} to look at</small></h2><ol>${[
          ...problems.map(
            ({ log, problem }) =>
              `<li class="failure problem"><div><span class="verdict">✖ ${escapeHtml(problem.title)}</span>${multiLog ? `<span class="log">${escapeHtml(log)}</span>` : ''}${problem.where ? ` <code>${escapeHtml(problem.where)}</code>` : ''}</div><pre class="message">${escapeHtml(firstLines(problem.message, 10))}</pre></li>`,
          ),
          ...failing.map(
            ({ view, run }) =>
              `<li class="failure"><div><span class="verdict">${escapeHtml(verdictLabel(run.verdict))}</span> <a href="#${escapeHtml(view.id)}">${escapeHtml(view.info.name)}${view.info.example ? ` (${escapeHtml(view.info.example.map(([h, v]) => `${h} ${v}`).join(', '))})` : ''}</a>${multiLog ? ` <span class="log">${escapeHtml(run.log)}</span>` : ''} <span class="uri">${escapeHtml(view.info.key)}</span></div>${
                run.failure?.step ? `<div class="failing-step">${escapeHtml(run.failure.step)}</div>` : ''
              }<pre class="message">${escapeHtml(firstLines(run.failure?.message ?? '', 10))}</pre></li>`,
          ),
        ].join('')}</ol></section>`;

  const runAttachments = runs.flatMap((run) => run.runAttachments.map((a) => ({ log: run.label, a })));
  const attachedToRun = runAttachments.length
    ? `<section id="run-attachments"><h2>Attached to the run</h2>${runAttachments.map(({ log, a }) => `${multiLog ? `<span class="log">${escapeHtml(log)}</span>` : ''}${attachmentHtml(a)}`).join('')}</section>`
    : '';

  const glance = ordered
    .map((capability) => {
      const list = viewsOfCapability(capability);
      if (list.length === 0) return '';
      const ok = list.filter((v) => v.verdict === 'PASSED').length;
      const seconds = list.reduce((s, v) => s + v.runs.reduce((t, r) => t + r.seconds, 0), 0);
      return `<tr class="${ok === list.length ? 'passed' : 'failed'}"><td><a href="#capability-${escapeHtml(slug(capability))}">${escapeHtml(capabilityTitle(capability))}</a></td><td class="num">${ok}</td><td class="num">${list.length - ok}</td><td class="num">${formatSeconds(seconds)}</td></tr>`;
    })
    .join('');

  const allViews = [...views.values()];
  const groups = new Map<string, Figure[]>();
  for (const view of allViews) for (const run of view.runs) for (const f of run.figures) if (f.group) groups.set(f.group, [...(groups.get(f.group) ?? []), f]);
  const comparisons = groups.size
    ? `<section id="comparisons"><h2>Comparisons</h2><div class="charts">${[...groups].map(([group, list]) => barChart(group, list.map((f) => ({ label: f.name, value: f.value, unit: f.unit })))).join('\n')}</div></section>`
    : '';

  const measured = allViews.filter((v) => v.runs.some((r) => r.figures.length > 0));
  const measuredTable = measured.length
    ? `<section id="figures"><h2>Measured figures</h2><div class="table-wrap"><table class="figures">${measured
        .map(
          (view) =>
            `<tr class="scenario-row"><th colspan="3"><a href="#${escapeHtml(view.id)}">${escapeHtml(view.info.name)}</a></th></tr>${view.runs
              .flatMap((run) => run.figures.map((f) => `<tr><td>${escapeHtml(f.name)}${multiLog ? ` <span class="log">${escapeHtml(run.log)}</span>` : ''}</td><td class="num">${escapeHtml(formatNumber(f.value))}</td><td>${escapeHtml(f.unit)}</td></tr>`))
              .join('')}`,
        )
        .join('')}</table></div></section>`
    : '';

  const scale = scaleSection(allViews);
  const performance = input.bench || scale ? `${input.bench ? benchSection(input.bench) : '<section id="performance"><h2>Performance</h2><p class="meta">No <code>reports/bench.json</code> yet: <code>npm run bench</code> writes it.</p></section>'}${scale}` : '';

  const summary = runs
    .map((run) => {
      const passed = run.scenarios.filter((s) => s.run.verdict === 'PASSED').length;
      const notPassed = run.scenarios.length - passed;
      const when = run.started ? new Date(run.started * 1000).toISOString() : 'unknown';
      return `<li class="${notPassed + run.problems.length === 0 ? 'passed' : 'failed'}"><strong>${multiLog ? `${escapeHtml(run.label)}: ` : ''}${passed} passed, ${notPassed} failed</strong>${run.problems.length ? `, ${run.problems.length} run problem${run.problems.length > 1 ? 's' : ''}` : ''} — ${run.scenarios.length} scenarios in ${formatSeconds(run.scenarios.reduce((s, x) => s + x.run.seconds, 0))} of scenario time; started <code>${escapeHtml(when)}</code></li>`;
    })
    .join('');

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>eventfold — living documentation</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${PAGE_STYLE}</style></head>
<body>
<header><h1>eventfold — living documentation</h1>
<p class="meta">eventfold <code>${escapeHtml(meta.packageVersion)}</code> · Node <code>${escapeHtml(meta.nodeVersion)}</code> · page of <code>${escapeHtml(meta.date)}</code> · commit <code>${escapeHtml(meta.commit)}</code> · <a href="${escapeHtml(meta.cucumberReport)}">full cucumber report</a></p>
<ul class="summary">${summary}</ul>${meta.leftOut.length ? `<p class="meta left-out">Not shown: ${meta.leftOut.map(escapeHtml).join('; ')}.</p>` : ''}
<nav class="toc">${failures ? '<a href="#failures">Failures</a>' : ''}<a href="#glance">At a glance</a>${performance ? '<a href="#performance">Performance</a>' : ''}${input.history?.length ? '<a href="#history">History</a>' : ''}${comparisons ? '<a href="#comparisons">Comparisons</a>' : ''}${measuredTable ? '<a href="#figures">Measured figures</a>' : ''}</nav>
<form class="filters" role="search" onsubmit="return false"><input id="search" type="search" placeholder="Search scenarios, steps, @tags" aria-label="Search scenarios, steps and tags"><select id="verdict-filter" aria-label="Verdict"><option value="">every verdict</option><option value="failed">failed</option><option value="passed">passed</option><option value="skipped">skipped</option></select><span id="filter-count" class="meta"></span></form>
</header>
${failures}
${attachedToRun}
<section id="glance"><h2>At a glance</h2><div class="table-wrap"><table><tr><th>capability</th><th>passed</th><th>failed</th><th>time</th></tr>${glance}</table></div></section>
${performance}
${input.history?.length ? historySection(input.history) : ''}
${comparisons}
${measuredTable}
${sections}
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}

function firstLines(text: string, count: number): string {
  const lines = text.split('\n');
  return lines.length <= count ? text : `${lines.slice(0, count).join('\n')}\n… (${lines.length - count} more lines in the scenario)`;
}

function stepHtml(step: StepRun): string {
  const keyword = step.kind === 'hook' ? `${step.keyword} hook` : step.keyword.trim();
  const status = step.status.toLowerCase().replace(/\s+/g, '-');
  const parts = [
    `<div class="step-line"><span class="status-icon">${escapeHtml(verdictLabel(step.status).split(' ')[0])}</span><span class="keyword">${escapeHtml(keyword)}</span> <span class="text">${escapeHtml(step.text)}</span>${step.background ? '<span class="from-background">Background</span>' : ''}<span class="status">${escapeHtml(step.status.toLowerCase())}</span><span class="duration">${formatSeconds(step.seconds)}</span></div>`,
  ];
  if (step.docString) parts.push(`<pre class="doc-string"${step.docString.mediaType ? ` data-media-type="${escapeHtml(step.docString.mediaType)}"` : ''}>${escapeHtml(step.docString.content)}</pre>`);
  if (step.dataTable) parts.push(`<div class="table-wrap"><table class="data-table">${step.dataTable.map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('')}</table></div>`);
  if (step.message && step.status !== 'PASSED') parts.push(`<pre class="message">${escapeHtml(firstLines(step.message, 30))}</pre>`);
  if (step.snippet) parts.push(`<pre class="snippet">${escapeHtml(step.snippet)}</pre>`);
  parts.push(...step.attachments.map(attachmentHtml));
  return `<li class="step ${escapeHtml(status)}">${parts.join('')}</li>`;
}

function attemptHtml(attempt: Attempt): string {
  // Passing hooks with nothing attached are machinery, not documentation.
  const steps = attempt.steps.filter((s) => s.kind === 'step' || s.status !== 'PASSED' || s.attachments.length > 0);
  return `<ol class="steps">${steps.map(stepHtml).join('')}</ol>${attempt.attachments.map(attachmentHtml).join('')}`;
}

function runHtml(run: ScenarioRun, multiLog: boolean): string {
  const heading = multiLog ? `<h5 class="log-run ${verdictClass(run.verdict)}">On the ${escapeHtml(run.log)}: ${escapeHtml(verdictLabel(run.verdict))} in ${formatSeconds(run.seconds)}</h5>` : '';
  if (run.attempts.length === 0) return `${heading}<p class="not-run">${escapeHtml(run.failure?.message ?? 'Never started.')}</p>`;
  const last = run.attempts[run.attempts.length - 1];
  const earlier = run.attempts
    .slice(0, -1)
    .map((a) => `<details class="attempt ${verdictClass(a.verdict)}"><summary>Attempt ${a.number} of ${run.attempts.length}: ${escapeHtml(verdictLabel(a.verdict))}, retried</summary>${attemptHtml(a)}</details>`)
    .join('');
  const figures = run.figures.length
    ? `<table class="figures"><tr><th>figure</th><th>value</th><th>unit</th></tr>${run.figures.map((f) => `<tr><td>${escapeHtml(f.name)}</td><td class="num">${escapeHtml(formatNumber(f.value))}</td><td>${escapeHtml(f.unit)}</td></tr>`).join('')}</table>`
    : '';
  return `${heading}${earlier}${run.attempts.length > 1 ? `<div class="attempt-label">Attempt ${last.number} of ${run.attempts.length}</div>` : ''}${attemptHtml(last)}${figures}`;
}

/** The scale run as it actually ran: its scale from its own figures, not from a title. */
function scaleSection(views: ScenarioView[]): string {
  const scaleViews = views.filter((v) => v.info.tags.includes('@scale') && v.runs.some((r) => r.figures.length));
  if (scaleViews.length === 0) return '';
  const blocks = scaleViews.map((view) =>
    view.runs
      .filter((r) => r.figures.length)
      .map((run) => {
        const events = run.figures.find((f) => f.name === 'scale run');
        const streams = run.figures.find((f) => f.name === 'streams');
        const scale = events ? `${formatNumber(events.value)} ${events.unit}${streams ? ` over ${formatNumber(streams.value)} ${streams.unit}` : ''}` : 'scale not reported';
        const rest = run.figures.filter((f) => f !== events && f !== streams);
        return `<div class="scale-run"><h4><a href="#${escapeHtml(view.id)}">${escapeHtml(view.info.name)}</a>${run.log !== 'file log' ? ` <span class="log">${escapeHtml(run.log)}</span>` : ''}</h4><p>Ran at <strong class="scale">${escapeHtml(scale)}</strong> — ${escapeHtml(verdictLabel(run.verdict))}.</p><div class="table-wrap"><table class="figures">${rest.map((f) => `<tr><td>${escapeHtml(f.name)}</td><td class="num">${escapeHtml(formatNumber(f.value))}</td><td>${escapeHtml(f.unit)}</td></tr>`).join('')}</table></div></div>`;
      })
      .join(''),
  );
  return `<section id="scale-run" class="scale"><h3>The scale run</h3>${blocks.join('')}</section>`;
}
