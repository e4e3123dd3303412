import { After, Given, Then, When, type DataTable } from '@cucumber/cucumber';
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { basename, join } from 'node:path';
import { BrowserPage } from '../report/browser-page';
import { FIGURES_MEDIA_TYPE, formatNumber, type Figure } from '../report/living-doc';
import { readMessages, verdicts, type Envelope } from '../report/messages';
import { HISTORY_FILE, readHistory, type HistoryEntry } from '../report/history';
import { findBrowser, noBrowserSentence } from '../setup/browser';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

const ROOT = join(__dirname, '..', '..');
const FIXTURES = join(__dirname, '..', 'report', 'fixtures');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the formatter is CommonJS, as cucumber loads it
const LivingDocFormatter = require('../report/living-doc-formatter.cjs');

/** The recorded message streams (steps/report/fixtures/record.ts), by what their run had. */
const RECORDED: Record<string, string> = {
  'rules, a Background, data tables, doc strings, outlines and attachments of every media type': 'documentation',
  'every verdict a scenario can end with, one scenario retried': 'verdicts',
  'a BeforeAll hook that fails': 'before-all-fails',
  'an AfterAll hook that fails': 'after-all-fails',
  'a feature file that is not Gherkin': 'parse-error',
  'a tag expression that selects nothing': 'empty',
};

interface Rendering {
  reports: string;
  /** The message file the rendered stream stands for (names its log). */
  messages: string;
  stream: string;
}

/** One scenario's reports folder, what was rendered into it, and the page open on it. */
const livingDoc = scenarioState(() => ({
  reports: undefined as string | undefined,
  page: undefined as BrowserPage | undefined,
  /** What the cucumber run printed. */
  runOutput: '',
  /** The message stream rendered last, its envelopes, and a second log's messages beside it. */
  rendering: undefined as Rendering | undefined,
  envelopes: [] as Envelope[],
  postgresMessages: '',
  /** The scenario the steps look into (its element's id on the page). */
  scenarioId: '',
  firstFailure: undefined as { href: string } | undefined,
  /** A benchmark's figures, the charts drawn from them, and the append rate of the recorded run. */
  bench: undefined as { machine: Record<string, string | number>; rows: Array<Record<string, string | number | null>> } | undefined,
  charts: [] as Array<{ title: string; bars: Array<{ label: string; width: number }> }>,
  appendRate: 0,
}));

const page = (world: EventfoldWorld) => livingDoc(world).page!;
const reportsOf = (world: EventfoldWorld) => {
  const dir = livingDoc(world).reports ?? join(world.dir, 'reports');
  mkdirSync(dir, { recursive: true });
  livingDoc(world).reports = dir;
  return dir;
};
/** The reports folder a step before this one filled. */
const reportsDir = (world: EventfoldWorld) => livingDoc(world).reports!;

After(async function (this: EventfoldWorld) {
  await livingDoc(this).page?.close();
});

async function openInBrowser(world: EventfoldWorld, file: string, viewport = { width: 1100, height: 900, mobile: false }): Promise<BrowserPage> {
  // The same search as npm test's setup (steps/setup/ensure-browser.ts), which installs one where it can.
  const browser = findBrowser();
  if (!browser) throw new Error(noBrowserSentence());
  const opened = await BrowserPage.open(browser.path, viewport);
  livingDoc(world).page = opened;
  await opened.goto(`file://${file}`);
  return opened;
}

/** Feeds a recorded stream to the formatter envelope by envelope, as cucumber does, into reports/index.html. */
function renderWithFormatter(world: EventfoldWorld, rendering: Rendering): string {
  const broadcaster = new EventEmitter();
  const pageFile = join(rendering.reports, 'index.html');
  let html = '';
  const formatter = new LivingDocFormatter({ eventBroadcaster: broadcaster, log: (text: string) => (html += text), stream: { path: pageFile }, cwd: ROOT, parsedArgvOptions: { eventfold: { reports: rendering.reports, messages: rendering.messages, announce: false } } });
  const envelopes = readMessages(rendering.stream);
  for (const envelope of envelopes) broadcaster.emit('envelope', envelope);
  // A run that never reported its end: the formatter writes the page when the process exits; here, now.
  if (!envelopes.some((e) => e.testRunFinished)) formatter.pageAtExit();
  else writeFileSync(pageFile, html);
  livingDoc(world).envelopes = envelopes;
  return pageFile;
}

function countResults(world: EventfoldWorld, files: string[], reports?: string): string {
  const run = spawnSync(process.execPath, ['-r', join(ROOT, 'node_modules/ts-node/register/transpile-only'), join(ROOT, 'steps/report/count-results.ts'), ...files], {
    cwd: reports ? join(reports, '..') : ROOT,
    env: { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(run.stderr).to.equal('');
  return run.stdout.trim();
}

// ——— the real run ———

Given('the features in {string} and {string} were run into a fresh reports folder', function (this: EventfoldWorld, first: string, second: string) {
  if (first.includes('reporting') || second.includes('reporting')) throw new Error('the sample run must not include this feature (it would recurse)');
  const out = join(this.dir, 'reports');
  mkdirSync(out);
  const run = spawnSync(process.execPath, [join(ROOT, 'node_modules/@cucumber/cucumber/bin/cucumber.js'), '--config', 'steps/cucumber.cjs', '--profile', 'fast'], {
    cwd: ROOT,
    env: { ...process.env, EVENTFOLD_REPORTS_DIR: out, EVENTFOLD_FEATURE_PATHS: `${first},${second}` },
    encoding: 'utf8',
    timeout: 300_000,
  });
  expect(run.status, run.stderr + run.stdout.slice(-2000)).to.equal(0);
  for (const file of ['cucumber.html', 'cucumber.ndjson', 'junit.xml', 'index.html']) {
    expect(existsSync(join(out, file)), `${file} written`).to.equal(true);
  }
  livingDoc(this).reports = out;
  livingDoc(this).runOutput = run.stdout;
});

When('its living documentation is opened in a headless Chromium', async function (this: EventfoldWorld) {
  await openInBrowser(this, join(reportsDir(this), 'index.html'));
});

Then('the page has a section for each of the capabilities {string} and {string}', async function (this: EventfoldWorld, a: string, b: string) {
  const titles = await page(this).evaluate<string[]>(`[...document.querySelectorAll('section.capability > h2')].map((h) => h.firstChild.textContent.trim())`);
  expect(titles).to.include.members([a, b]);
});

Then('the page lists every scenario of that run with its verdict', async function (this: EventfoldWorld) {
  const messages = readMessages(join(reportsDir(this), 'cucumber.ndjson'));
  const pickles = new Map(messages.filter((m) => m.pickle).map((m) => [m.pickle.id, m.pickle as Envelope]));
  const cases = new Map(messages.filter((m) => m.testCase).map((m) => [m.testCase.id, m.testCase.pickleId as string]));
  const started = new Map(messages.filter((m) => m.testCaseStarted).map((m) => [m.testCaseStarted.id, m.testCaseStarted.testCaseId as string]));
  const outcome = verdicts(messages);
  expect(outcome.size).to.be.greaterThan(5);
  const shown = await page(this).evaluate<Array<{ id: string; verdict: string; name: string }>>(
    `[...document.querySelectorAll('details.scenario')].map((d) => ({ id: d.id, verdict: d.querySelector('summary .verdict').textContent, name: d.querySelector('summary .name').textContent }))`,
  );
  for (const [startedId, verdict] of outcome) {
    const pickle = pickles.get(cases.get(started.get(startedId)!)!)!;
    const scenario = shown.find((s) => s.id.endsWith(`-${pickle.location.line}`) && s.name.endsWith(`: ${pickle.name}`));
    expect(scenario, `scenario "${pickle.name}" on the page`).to.not.equal(undefined);
    expect(scenario!.verdict, pickle.name).to.contain(verdict.toLowerCase());
  }
});

Then('the page shows the figure {string} with the value the run measured', async function (this: EventfoldWorld, figure: string) {
  const messages = readMessages(join(reportsDir(this), 'cucumber.ndjson'));
  const measured = messages
    .filter((m) => m.attachment?.mediaType === FIGURES_MEDIA_TYPE)
    .flatMap((m) => JSON.parse(m.attachment.body) as Figure[])
    .find((f) => f.name === figure);
  expect(measured, `the run attached "${figure}"`).to.not.equal(undefined);
  const rows = await page(this).evaluate<string[][]>(`[...document.querySelectorAll('#figures tr')].map((tr) => [...tr.cells].map((c) => c.textContent))`);
  expect(rows).to.deep.include([figure, formatNumber(measured!.value), measured!.unit]);
  // Its scenario is named once above its figures, as a link to the scenario.
  const link = await page(this).evaluate<{ href: string; target: boolean } | null>(
    `(() => { let tr = [...document.querySelectorAll('#figures tr')].find((tr) => tr.cells[0].textContent === ${JSON.stringify(figure)});
      while (tr && !tr.classList.contains('scenario-row')) tr = tr.previousElementSibling;
      const a = tr && tr.querySelector('a'); return a && { href: a.getAttribute('href'), target: !!document.getElementById(a.getAttribute('href').slice(1)) }; })()`,
  );
  expect(link).to.not.equal(null);
  expect(link!.target, `${link!.href} names a scenario on the page`).to.equal(true);
});

Then('the page draws {string} as a bar chart', async function (this: EventfoldWorld, group: string) {
  const bars = await page(this).evaluate<number[] | null>(
    `(() => { const f = [...document.querySelectorAll('figure.chart')].find((c) => c.querySelector('figcaption').textContent === ${JSON.stringify(group)}); return f && [...f.querySelectorAll('.bar')].map((b) => b.getBoundingClientRect().width); })()`,
  );
  expect(bars, `a chart titled "${group}"`).to.not.equal(null);
  expect(bars).to.have.length(2);
  for (const width of bars!) expect(width).to.be.greaterThan(0);
});

Then('the run ended by printing where its living documentation and cucumber report are', function (this: EventfoldWorld) {
  const reports = reportsDir(this);
  expect(livingDoc(this).runOutput.trimEnd().split('\n').slice(-2)).to.deep.equal([
    `Living documentation: ${join(reports, 'index.html')}`,
    `Cucumber report:      ${join(reports, 'cucumber.html')}`,
  ]);
});

Then('the page links to the full cucumber report', async function (this: EventfoldWorld) {
  expect(await page(this).evaluate<string[]>(`[...document.querySelectorAll('a')].filter((a) => a.textContent === 'full cucumber report').map((a) => a.getAttribute('href'))`)).to.deep.equal(['cucumber.html']);
});

function expectNothingFromTheNetwork(world: EventfoldWorld): void {
  const opened = page(world);
  expect(opened.requests.length).to.be.greaterThan(0);
  expect(opened.requests.filter((url) => !url.startsWith('file://') && !url.startsWith('data:'))).to.deep.equal([]);
  // And nothing in the page that would fetch in another browser (the SVG namespace is an identifier, not a fetch).
  const html = readFileSync(join(reportsDir(world), 'index.html'), 'utf8');
  const references = html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '').match(/(src|href)\s*=\s*["']?(https?:)?\/\/|url\(\s*["']?https?:|@import/gi);
  expect(references).to.equal(null);
}

Then('the page loaded nothing from the network', function (this: EventfoldWorld) {
  expectNothingFromTheNetwork(this);
});

Then('the run added one line to the history in its reports folder', function (this: EventfoldWorld) {
  const history = readHistory(join(reportsDir(this), HISTORY_FILE));
  expect(history).to.have.length(1);
  expect(history[0].passed).to.equal(verdicts(readMessages(join(reportsDir(this), 'cucumber.ndjson'))).size);
  expect(history[0].failed).to.equal(0);
});

// ——— recorded streams ———

Given(/^the messages of a run with (.+)$/, function (this: EventfoldWorld, what: string) {
  const kind = RECORDED[what];
  if (!kind) throw new Error(`no recorded stream of a run with ${what}`);
  livingDoc(this).rendering = { reports: reportsOf(this), messages: 'cucumber.ndjson', stream: join(FIXTURES, `${kind}.ndjson`) } satisfies Rendering;
});

Given(/^a reports folder with the messages of a run on the file log and, in "([^"]+)", of the same features on PostgreSQL( the day before)?$/, function (this: EventfoldWorld, postgresMessages: string, dayBefore?: string) {
  const reports = reportsOf(this);
  copyFileSync(join(FIXTURES, 'documentation.ndjson'), join(reports, 'cucumber.ndjson'));
  const postgres = join(reports, postgresMessages);
  mkdirSync(join(postgres, '..'), { recursive: true });
  let stream = readFileSync(join(FIXTURES, 'documentation-other-log.ndjson'), 'utf8');
  // The same recording, its clock moved back a day.
  if (dayBefore) stream = stream.replace(/"seconds":(\d{9,})/g, (_, seconds: string) => `"seconds":${Number(seconds) - 86_400}`);
  writeFileSync(postgres, stream);
  livingDoc(this).postgresMessages = postgres;
});

When(/^the formatter renders the (PostgreSQL|file log) run and the page is opened in a headless Chromium$/, async function (this: EventfoldWorld, log: string) {
  const reports = reportsDir(this);
  const postgres = livingDoc(this).postgresMessages;
  // A run writing into a log's folder has that folder as its reports folder, as its cucumber profile would say.
  const rendering: Rendering =
    log === 'file log'
      ? { reports, messages: 'cucumber.ndjson', stream: join(reports, 'cucumber.ndjson') }
      : { reports: join(postgres, '..'), messages: basename(postgres), stream: postgres };
  livingDoc(this).rendering = rendering;
  const file = renderWithFormatter(this, rendering);
  await openInBrowser(this, file);
  expect(page(this).scriptErrors).to.deep.equal([]);
});

Then("the page shows the file log's verdicts only and says the PostgreSQL messages are from an earlier run", async function (this: EventfoldWorld) {
  const state = await page(this).evaluate<{ logs: number; summary: string; leftOut: string }>(
    `({ logs: document.querySelectorAll('summary .log').length, summary: document.querySelector('.summary').textContent, leftOut: (document.querySelector('.left-out') || {}).textContent })`,
  );
  expect(state.logs).to.equal(0);
  expect(state.summary).to.match(/^7 passed, 0 failed/);
  expect(state.leftOut).to.match(/^Not shown: PostgreSQL: cucumber-postgres\.ndjson is from an earlier run \(\d{4}-\d\d-\d\dT/);
});

When(/^the formatter renders them and the page is opened in a headless Chromium( 390 pixels wide, as on a phone)?$/, async function (this: EventfoldWorld, phone?: string) {
  const file = renderWithFormatter(this, livingDoc(this).rendering!);
  await openInBrowser(this, file, phone ? { width: 390, height: 844, mobile: true } : undefined);
  expect(page(this).scriptErrors).to.deep.equal([]);
});

async function openScenario(world: EventfoldWorld, name: string): Promise<string> {
  const id = await page(world).evaluate<string | null>(
    `(() => { const d = [...document.querySelectorAll('details.scenario')].find((d) => d.querySelector('summary .name').textContent.endsWith(': ' + ${JSON.stringify(name)})); return d ? d.id : null; })()`,
  );
  expect(id, `scenario "${name}" on the page`).to.not.equal(null);
  expect(await page(world).evaluate<boolean>(`document.getElementById(${JSON.stringify(id)}).open`)).to.equal(false);
  await page(world).click(`#${id} > summary`);
  livingDoc(world).scenarioId = id!;
  return id!;
}

/** The steps of the opened scenario as the reader sees them (only what is laid out, i.e. visible). */
async function visibleSteps(world: EventfoldWorld): Promise<Array<{ keyword: string; text: string; status: string; duration: string; background: boolean; height: number; html: string }>> {
  return page(world).evaluate(
    `[...document.getElementById(${JSON.stringify(livingDoc(world).scenarioId)}).querySelectorAll(':scope > .scenario-body > ol.steps > li.step')].map((li) => ({
      keyword: li.querySelector('.keyword').textContent, text: li.querySelector('.text').textContent, status: li.querySelector('.status').textContent,
      duration: li.querySelector('.duration').textContent, background: !!li.querySelector('.from-background'), height: li.getBoundingClientRect().height, html: li.innerHTML }))`,
  );
}

When('the reader opens the scenario {string}', async function (this: EventfoldWorld, name: string) {
  await openScenario(this, name);
});

Then("its steps are shown with their keyword, status and duration, the Background's step marked as such", async function (this: EventfoldWorld) {
  const steps = await visibleSteps(this);
  expect(steps.map((s) => [s.keyword, s.text, s.status, s.background])).to.deep.equal([
    ['Given', 'an account "acct-1" with a balance of 100', 'passed', true],
    ['When', 'these deposits are made:', 'passed', false],
    ['Then', 'the statement reads:', 'passed', false],
  ]);
  for (const step of steps) {
    expect(step.height, `${step.text} is laid out`).to.be.greaterThan(0);
    expect(step.duration).to.match(/^\d+(\.\d+)? (ms|s)$/);
  }
});

Then('the step {string} shows its data table of {int} rows', async function (this: EventfoldWorld, text: string, rows: number) {
  const table = await page(this).evaluate<string[][]>(
    `[...[...document.getElementById(${JSON.stringify(livingDoc(this).scenarioId)}).querySelectorAll('li.step')].find((li) => li.querySelector('.text').textContent === ${JSON.stringify(text)}).querySelectorAll('table.data-table tr')].map((tr) => [...tr.cells].map((c) => c.textContent))`,
  );
  expect(table).to.deep.equal([
    ['account', 'amount'],
    ['acct-1', '25'],
    ['acct-1', '75'],
  ]);
  expect(table).to.have.length(rows);
});

Then('the step {string} shows its doc string as text', async function (this: EventfoldWorld, text: string) {
  const docString = await page(this).evaluate<string>(
    `[...document.getElementById(${JSON.stringify(livingDoc(this).scenarioId)}).querySelectorAll('li.step')].find((li) => li.querySelector('.text').textContent === ${JSON.stringify(text)}).querySelector('pre.doc-string').textContent`,
  );
  expect(docString).to.equal('# Statement\nbalance: 200 <EUR> & "more"');
});

Then('its step shows each attachment by media type:', async function (this: EventfoldWorld, table: DataTable) {
  const shown = await page(this).evaluate<Array<{ type: string; image: boolean; text: string; download: boolean; link: boolean; cut: boolean; height: number }>>(
    `[...document.getElementById(${JSON.stringify(livingDoc(this).scenarioId)}).querySelectorAll('li.step .attachment')].map((a) => ({ type: a.dataset.mediaType,
      image: !!a.querySelector('img'), text: (a.querySelector('pre') || a).textContent, download: !!a.querySelector('a[download]'), link: !!a.querySelector('a:not([download])'),
      cut: !!a.querySelector('.cut'), height: a.getBoundingClientRect().height }))`,
  );
  const expected = table.hashes();
  expect(shown.map((s) => s.type)).to.deep.equal(expected.map((row) => row['media type']));
  expected.forEach((row, i) => {
    const s = shown[i];
    expect(s.height, `${row['media type']} is laid out`).to.be.greaterThan(0);
    const as = row['shown as'];
    if (as === 'image') expect(s.image, row['media type']).to.equal(true);
    if (as.startsWith('text')) expect(s.text.length, row['media type']).to.be.greaterThan(0);
    if (as === 'text, cut') expect(s.cut).to.equal(true);
    if (as === 'download') expect(s.download).to.equal(true);
    if (as === 'address, not a link') {
      expect(s.link).to.equal(false);
      expect(s.text).to.contain('https://example.com/runbook');
    }
  });
  expect(shown.find((s) => s.type === 'text/html')!.text).to.contain('<script>alert(1)</script>');
});

Then('every image attached is drawn', async function (this: EventfoldWorld) {
  const images = await page(this).evaluate<Array<{ complete: boolean; width: number }>>(
    `Promise.all([...document.getElementById(${JSON.stringify(livingDoc(this).scenarioId)}).querySelectorAll('.attachment img')].map((img) => img.decode().then(() => ({ complete: img.complete, width: img.naturalWidth }))))`,
  );
  expect(images).to.have.length(3);
  for (const image of images) expect(image.width).to.be.greaterThan(0);
});

Then('no script of an attachment ran and the page loaded nothing from the network', async function (this: EventfoldWorld) {
  // The attached HTML holds <script>alert(1)</script> and an onclick: neither became an element.
  expect(await page(this).evaluate<number>(`document.querySelectorAll('.attachment script, .attachment [onclick]').length`)).to.equal(0);
  expect(page(this).scriptErrors).to.deep.equal([]);
  expectNothingFromTheNetwork(this);
});

Then('the outline {string} is listed once with {string} and once with {string}', async function (this: EventfoldWorld, name: string, first: string, second: string) {
  const rows = await page(this).evaluate<string[]>(
    `[...document.querySelectorAll('details.scenario')].filter((d) => d.querySelector('summary .name').textContent.endsWith(': ' + ${JSON.stringify(name)})).map((d) => [...d.querySelectorAll('summary .example .ex-value')].map((v) => v.textContent).join(', '))`,
  );
  expect(rows).to.deep.equal([first, second]);
});

Then('the row {string} is named with its examples {string}', async function (this: EventfoldWorld, name: string, examples: string) {
  const example = await page(this).evaluate<string>(
    `[...document.querySelectorAll('details.scenario')].find((d) => d.querySelector('summary .name').textContent.endsWith(': ' + ${JSON.stringify(name)})).querySelector('summary .example').textContent`,
  );
  expect(example).to.equal(`${examples}: amount 1000000verdict accepted`);
});

Then('the first section of the page lists the failures:', async function (this: EventfoldWorld, table: DataTable) {
  const failures = await page(this).evaluate<{ first: string; items: Array<{ verdict: string; scenario: string; step: string; message: string; href: string }> }>(
    `({ first: document.querySelector('body > section').id, items: [...document.querySelectorAll('#failures li.failure')].map((li) => ({ verdict: li.querySelector('.verdict').textContent,
      scenario: li.querySelector('a').textContent, step: (li.querySelector('.failing-step') || {}).textContent, message: li.querySelector('pre.message').textContent, href: li.querySelector('a').getAttribute('href') })) })`,
  );
  expect(failures.first).to.equal('failures');
  const expected = table.hashes();
  expect(failures.items.map((f) => f.scenario.replace(/ \(.*\)$/, ''))).to.deep.equal(expected.map((row) => row.scenario));
  expected.forEach((row, i) => {
    expect(failures.items[i].verdict, row.scenario).to.equal(`✖ ${row.verdict}`);
    expect(failures.items[i].step, row.scenario).to.match(new RegExp(`^${row['failing step'].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(failures.items[i].message.trim().length, row.scenario).to.be.greaterThan(0);
  });
  livingDoc(this).firstFailure = failures.items[0];
});

When('the reader follows the link of the first failure', async function (this: EventfoldWorld) {
  const { href } = livingDoc(this).firstFailure!;
  await page(this).click(`#failures li.failure a[href="${href}"]`);
  await page(this).evaluate(`new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))`);
  livingDoc(this).scenarioId = href.slice(1);
});

Then('its scenario opens, the failing step marked failed with its message and the step after it skipped', async function (this: EventfoldWorld) {
  expect(await page(this).evaluate<boolean>(`document.getElementById(${JSON.stringify(livingDoc(this).scenarioId)}).open`)).to.equal(true);
  const steps = await visibleSteps(this);
  expect(steps.map((s) => [s.text, s.status])).to.deep.equal([
    ['a step that passes', 'passed'],
    ['a step fails with a diff', 'failed'],
    ['a step that passes', 'skipped'],
  ]);
  expect(steps[1].html).to.contain('Expected values to be strictly deep-equal');
  for (const step of steps) expect(step.height).to.be.greaterThan(0);
});

Then('the scenario {string} passed, marked retried, its failed first attempt kept', async function (this: EventfoldWorld, name: string) {
  const flaky = await page(this).evaluate<{ verdict: string; retried: boolean; attempts: string[] }>(
    `(() => { const d = [...document.querySelectorAll('details.scenario')].find((d) => d.querySelector('summary .name').textContent.endsWith(': ' + ${JSON.stringify(name)}));
      return { verdict: d.querySelector('summary .verdict').textContent, retried: !!d.querySelector('summary .retried'), attempts: [...d.querySelectorAll('details.attempt > summary')].map((s) => s.textContent) }; })()`,
  );
  expect(flaky).to.deep.equal({ verdict: '✔ passed', retried: true, attempts: ['Attempt 1 of 2: ✖ failed, retried'] });
});

Then('the scenario {string} is shown as skipped, not among the failures', async function (this: EventfoldWorld, name: string) {
  const state = await page(this).evaluate<{ verdict: string; listed: boolean }>(
    `({ verdict: [...document.querySelectorAll('details.scenario')].find((d) => d.querySelector('summary .name').textContent.endsWith(': ' + ${JSON.stringify(name)})).querySelector('summary .verdict').textContent,
       listed: [...document.querySelectorAll('#failures a')].some((a) => a.textContent === ${JSON.stringify(name)}) })`,
  );
  expect(state).to.deep.equal({ verdict: '⤼ skipped', listed: false });
});

Then('the undefined step shows the code cucumber suggests for it', async function (this: EventfoldWorld) {
  await openScenario(this, 'A step is undefined');
  const steps = await visibleSteps(this);
  expect(steps[0].status).to.equal('undefined');
  expect(steps[0].html).to.contain("Given('a step nobody wrote', function () {");
});

Then('the failures section says {string}', async function (this: EventfoldWorld, problem: string) {
  const first = await page(this).evaluate<{ section: string; problems: string[] }>(
    `({ section: document.querySelector('body > section').id, problems: [...document.querySelectorAll('#failures li.problem .verdict')].map((v) => v.textContent) })`,
  );
  expect(first.section).to.equal('failures');
  expect(first.problems.some((p) => p.startsWith(`✖ ${problem}`)), first.problems.join(' | ')).to.equal(true);
  expect(await page(this).evaluate<string>(`document.querySelector('.summary').textContent`)).to.not.match(/^\D*0 failed/);
});

Then('counting the results prints {string}', function (this: EventfoldWorld, counted: string) {
  expect(countResults(this, [(livingDoc(this).rendering!).stream])).to.equal(counted);
});

Then('counting the results of both prints {string}, then {string}', function (this: EventfoldWorld, perLog: string, counted: string) {
  // As CI does: every message file of the run, found in the reports folder; the last line alone is the total.
  expect(countResults(this, [], reportsDir(this)).split('\n')).to.deep.equal([...perLog.split('; '), counted]);
});

Then('the page says {int} scenarios ran and lists no failures', async function (this: EventfoldWorld, count: number) {
  const state = await page(this).evaluate<{ summary: string; failures: boolean; scenarios: number }>(
    `({ summary: document.querySelector('.summary').textContent, failures: !!document.getElementById('failures'), scenarios: document.querySelectorAll('details.scenario').length })`,
  );
  expect(state.summary).to.contain(`0 passed, 0 failed — ${count} scenarios`);
  expect(state).to.include({ failures: false, scenarios: count });
});

Then('the scenario {string} shows {string} passed and {string} failed', async function (this: EventfoldWorld, name: string, passedOn: string, failedOn: string) {
  const logs = await page(this).evaluate<Array<[string, string]>>(
    `[...[...document.querySelectorAll('details.scenario')].find((d) => d.querySelector('summary .name').textContent.endsWith(': ' + ${JSON.stringify(name)})).querySelectorAll('summary .log')].map((l) => [l.textContent, l.className])`,
  );
  expect(logs).to.deep.equal([
    [`${passedOn} ✔`, 'log passed'],
    [`${failedOn} ✖`, 'log failed'],
  ]);
  await openScenario(this, name);
  const runs = await page(this).evaluate<string[]>(`[...document.getElementById(${JSON.stringify(livingDoc(this).scenarioId)}).querySelectorAll('h5.log-run')].map((h) => h.textContent.replace(/ in .*$/, ''))`);
  expect(runs).to.deep.equal([`On the ${passedOn}: ✔ passed`, `On the ${failedOn}: ✖ failed`]);
});

Then('the failures list {string} on PostgreSQL only', async function (this: EventfoldWorld, name: string) {
  const listed = await page(this).evaluate<string[][]>(`[...document.querySelectorAll('#failures li.failure')].map((li) => [li.querySelector('a').textContent, li.querySelector('.log').textContent])`);
  expect(listed).to.deep.equal([[`${name} (amount 2, verdict accepted)`, 'PostgreSQL']]);
});

Given('a reports folder with the bench.json of a benchmark run on this machine, to which a {string} column and an {string} row are added', function (this: EventfoldWorld, column: string, row: string) {
  const bench = JSON.parse(readFileSync(join(FIXTURES, 'bench.json'), 'utf8'));
  bench.rows[0][column] = bench.rows[0].sqlite * 0.5;
  bench.rows.push({ workload: row, eventfold: 2.5, [column]: 4.1, unit: 'ms' });
  writeFileSync(join(reportsOf(this), 'bench.json'), JSON.stringify(bench, null, 2));
  livingDoc(this).bench = bench;
});

Then('the performance section names the machine and the date of the benchmark', async function (this: EventfoldWorld) {
  const text = await page(this).evaluate<string>(`document.querySelector('#performance .meta').textContent`);
  const { machine } = livingDoc(this).bench!;
  expect(text).to.contain(machine.date).and.contain(machine.platform).and.contain(machine.node).and.contain(`cpus ${machine.cpus}`);
});

Then('it draws a chart for each workload with a bar for each of {string}, {string}, {string} and {string} that was measured', async function (this: EventfoldWorld, eventfold: string, sqlite: string, raw: string, postgres: string) {
  const charts = await page(this).evaluate<Array<{ title: string; bars: Array<{ label: string; width: number; value: string }>; notMeasured: string }>>(
    `[...document.querySelectorAll('#performance figure.chart')].map((f) => ({ title: f.querySelector('figcaption').textContent,
      bars: [...f.querySelectorAll('.bar-row')].map((r) => ({ label: r.querySelector('.bar-label').textContent, width: r.querySelector('.bar').getBoundingClientRect().width, value: r.querySelector('.value').textContent })),
      notMeasured: (f.querySelector('.not-measured') || {}).textContent || '' }))`,
  );
  const { rows } = livingDoc(this).bench!;
  expect(charts).to.have.length(rows.length);
  const keys: Record<string, string> = { eventfold, sqlite, raw, postgres };
  rows.forEach((row, i) => {
    const chart = charts[i];
    expect(chart.title).to.contain(String(row.workload).trim());
    for (const [key, label] of Object.entries(keys)) {
      const bar = chart.bars.find((b) => b.label === label);
      if (typeof row[key] === 'number') {
        expect(bar, `${label} in ${row.workload}`).to.not.equal(undefined);
        expect(bar!.width, `${label} drawn in ${row.workload}`).to.be.greaterThan(0);
        expect(bar!.value).to.equal(`${formatNumber(row[key] as number)} ${row.unit}`);
      } else {
        expect(bar, `${label} in ${row.workload}`).to.equal(undefined);
        if (key in row) expect(chart.notMeasured, `${label} in ${row.workload}`).to.contain(label);
      }
    }
  });
  livingDoc(this).charts = charts;
});

Then('it draws the row {string}', function (this: EventfoldWorld, row: string) {
  const { charts } = livingDoc(this);
  const chart = charts.find((c) => c.title.startsWith(row));
  expect(chart, row).to.not.equal(undefined);
  expect(chart!.bars.map((b) => b.label)).to.deep.equal(['eventfold', 'PostgreSQL']);
});

const APPEND_RATE_KEY = 'Attachments of any media type › append rate';

Given('a reports folder whose history holds {int} earlier runs, each with an append rate {int} % higher than the next run\'s', function (this: EventfoldWorld, runs: number, percent: number) {
  const recorded = readMessages(join(FIXTURES, 'documentation.ndjson'))
    .filter((m) => m.attachment?.mediaType === FIGURES_MEDIA_TYPE)
    .flatMap((m) => JSON.parse(m.attachment.body) as Figure[])
    .find((f) => f.name === 'append rate')!;
  const lines: HistoryEntry[] = [];
  for (let i = 0; i < runs; i++) {
    const value = recorded.value * (1 + percent / 100) ** (runs - i);
    lines.push({ date: `2026-01-0${i + 1}T00:00:00.000Z`, commit: `c${i}`, log: 'file log', passed: 7, failed: 0, seconds: 1, figures: { [APPEND_RATE_KEY]: { value, unit: recorded.unit } } });
  }
  writeFileSync(join(reportsOf(this), HISTORY_FILE), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  livingDoc(this).appendRate = recorded.value;
});

Then('the history in the reports folder holds {int} runs', function (this: EventfoldWorld, runs: number) {
  const history = readHistory(join(reportsDir(this), HISTORY_FILE));
  expect(history).to.have.length(runs);
  expect(history[runs - 1].figures[APPEND_RATE_KEY].value).to.equal(livingDoc(this).appendRate);
  expect(history[runs - 1]).to.include({ passed: 7, failed: 0, log: 'file log' });
});

Then('the page draws the trend of the append rate over {int} runs', async function (this: EventfoldWorld, runs: number) {
  const trend = await page(this).evaluate<{ points: number; width: number; height: number; ys: number[] } | null>(
    `(() => { const svg = document.querySelector('#history svg.trend[aria-label=${JSON.stringify(APPEND_RATE_KEY)}]'); if (!svg) return null; const r = svg.getBoundingClientRect();
      return { points: svg.querySelectorAll('circle').length, width: r.width, height: r.height, ys: [...svg.querySelectorAll('circle')].map((c) => Number(c.getAttribute('cy'))) }; })()`,
  );
  expect(trend, 'a trend of the append rate').to.not.equal(null);
  expect(trend!.points).to.equal(runs);
  expect(trend!.width).to.be.greaterThan(50);
  expect(trend!.height).to.be.greaterThan(10);
  // Each run lower than the one before: each point further down (SVG y grows downwards).
  for (let i = 1; i < trend!.ys.length; i++) expect(trend!.ys[i]).to.be.greaterThan(trend!.ys[i - 1]);
});

Then('the append rate is marked worse', async function (this: EventfoldWorld) {
  const row = await page(this).evaluate<{ regression: boolean; change: string }>(
    `(() => { const tr = [...document.querySelectorAll('#history tr')].find((tr) => tr.cells[0].textContent === ${JSON.stringify(APPEND_RATE_KEY)}); return { regression: tr.classList.contains('regression'), change: tr.cells[3].textContent }; })()`,
  );
  expect(row).to.deep.equal({ regression: true, change: '-23.1 % worse' });
});

Then('nothing on the page is wider than the screen', async function (this: EventfoldWorld) {
  const widths = await page(this).evaluate<{ page: number; screen: number; wide: string[] }>(
    `({ page: document.documentElement.scrollWidth, screen: window.innerWidth,
       wide: [...document.querySelectorAll('body *')].filter((e) => !e.closest('.table-wrap, pre, .attachment pre') && e.getBoundingClientRect().right > window.innerWidth + 1).map((e) => e.tagName + '.' + e.className).slice(0, 5) })`,
  );
  expect(widths.screen).to.equal(390);
  expect(widths.page).to.equal(390);
  expect(widths.wide).to.deep.equal([]);
});

Then("every chart's labels and values are whole and inside the chart, and every trend is drawn", async function (this: EventfoldWorld) {
  const charts = await page(this).evaluate<{ charts: number; outside: string[]; trends: number[] }>(
    `(() => {
      const outside = [];
      const charts = [...document.querySelectorAll('figure.chart')];
      for (const chart of charts) {
        const box = chart.getBoundingClientRect();
        for (const text of chart.querySelectorAll('figcaption, .bar-label, .value')) {
          const r = text.getBoundingClientRect();
          if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || text.scrollWidth > text.clientWidth + 1) outside.push(text.textContent);
        }
      }
      return { charts: charts.length, outside, trends: [...document.querySelectorAll('svg.trend')].map((svg) => svg.getBoundingClientRect().width) };
    })()`,
  );
  const { rows } = livingDoc(this).bench!;
  expect(charts.charts).to.equal(rows.length);
  expect(charts.outside).to.deep.equal([]);
  expect(charts.trends.length).to.be.greaterThan(0);
  for (const width of charts.trends) expect(width).to.be.greaterThan(50);
});

async function shownScenarios(world: EventfoldWorld): Promise<string[]> {
  return page(world).evaluate<string[]>(`[...document.querySelectorAll('details.scenario')].filter((d) => d.getBoundingClientRect().height > 0).map((d) => d.querySelector('summary .name').textContent.replace(/^[^:]*: /, ''))`);
}

When('the reader searches for {string}', async function (this: EventfoldWorld, text: string) {
  await page(this).type('#search', text);
});

Then('only the {int} scenarios tagged {string} are shown', async function (this: EventfoldWorld, count: number, tag: string) {
  const tagged = livingDoc(this).envelopes.filter((e) => e.pickle?.tags.some((t: { name: string }) => t.name === tag)).map((e) => e.pickle.name as string);
  expect(tagged).to.have.length(count);
  expect(await shownScenarios(this)).to.deep.equal(tagged);
});

When('the reader clears the search and chooses the verdict {string}', async function (this: EventfoldWorld, verdict: string) {
  await page(this).evaluate(`(() => { const s = document.getElementById('search'); s.value = ''; s.dispatchEvent(new Event('input')); })()`);
  expect((await shownScenarios(this)).length).to.equal(livingDoc(this).envelopes.filter((e) => e.testCase).length);
  await page(this).evaluate(`(() => { const v = document.getElementById('verdict-filter'); v.value = ${JSON.stringify(verdict)}; v.dispatchEvent(new Event('change')); })()`);
});

Then('only the scenario {string} is shown', async function (this: EventfoldWorld, name: string) {
  expect(await shownScenarios(this)).to.deep.equal([name]);
});
