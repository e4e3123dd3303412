import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIGURES_MEDIA_TYPE, formatNumber, type Figure } from './report/living-doc';
import { readMessages, verdicts } from './report/messages';
import { findBrowser, noBrowserSentence } from './setup/browser';
import type { EventfoldWorld } from './support/world';

const ROOT = join(__dirname, '..');

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
  this.memo.reports = out;
  this.memo.runOutput = run.stdout;
});

When('its living documentation is opened in a headless Chromium', function (this: EventfoldWorld) {
  // The same search as npm test's setup (steps/setup/ensure-browser.ts), which installs one where it can.
  const browser = findBrowser();
  if (!browser) throw new Error(noBrowserSentence());
  const page = join(this.memo.reports as string, 'index.html');
  // --dump-dom prints the document after the browser has parsed and laid it out.
  this.memo.dom = execFileSync(
    browser.path,
    [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${join(this.dir, 'chromium-profile')}`, '--dump-dom', `file://${page}`,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 },
  );
  expect(this.memo.dom as string).to.contain('</html>');
});

Then('the page has a section for each of the capabilities {string} and {string}', function (this: EventfoldWorld, a: string, b: string) {
  for (const capability of [a, b]) {
    expect(this.memo.dom as string).to.match(new RegExp(`<section class="capability" id="capability-${capability.toLowerCase()}">\\s*<h2>${capability} `));
  }
});

Then('the page lists every scenario of that run with its verdict', function (this: EventfoldWorld) {
  const messages = readMessages(join(this.memo.reports as string, 'cucumber.ndjson'));
  const dom = this.memo.dom as string;
  const names = new Map(messages.filter((m) => m.pickle).map((m) => [m.pickle.id, m.pickle.name as string]));
  const cases = new Map(messages.filter((m) => m.testCase).map((m) => [m.testCase.id, m.testCase.pickleId as string]));
  const started = new Map(messages.filter((m) => m.testCaseStarted).map((m) => [m.testCaseStarted.id, m.testCaseStarted.testCaseId as string]));
  const outcome = verdicts(messages);
  expect(outcome.size).to.be.greaterThan(5);
  for (const [startedId, verdict] of outcome) {
    const name = names.get(cases.get(started.get(startedId)!)!)!;
    const escaped = name.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = new RegExp(`class="scenario ${verdict.toLowerCase()}">\\s*<div class="scenario-head"><span class="verdict">[^<]*</span>\\s*<span class="name">Scenario( Outline)?: ${escaped}</span>`);
    expect(dom, `scenario "${name}" with verdict ${verdict}`).to.match(pattern);
  }
});

Then('the page shows the figure {string} with the value the run measured', function (this: EventfoldWorld, figure: string) {
  const messages = readMessages(join(this.memo.reports as string, 'cucumber.ndjson'));
  const measured = messages
    .filter((m) => m.attachment?.mediaType === FIGURES_MEDIA_TYPE)
    .flatMap((m) => JSON.parse(m.attachment.body) as Figure[])
    .find((f) => f.name === figure);
  expect(measured, `the run attached "${figure}"`).to.not.equal(undefined);
  expect(this.memo.dom as string).to.contain(`<td>${figure}</td><td class="num">${formatNumber(measured!.value)}</td>`);
});

Then('the page draws {string} as a bar chart', function (this: EventfoldWorld, group: string) {
  const dom = this.memo.dom as string;
  const chart = dom.match(new RegExp(`<svg[^>]*aria-label="${group}"[\\s\\S]*?</svg>`));
  expect(chart, `a chart titled "${group}"`).to.not.equal(null);
  expect(chart![0].match(/<rect /g)?.length).to.equal(2);
});

Then('the run ended by printing where its living documentation and cucumber report are', function (this: EventfoldWorld) {
  const reports = this.memo.reports as string;
  expect((this.memo.runOutput as string).trimEnd().split('\n').slice(-2)).to.deep.equal([
    `Living documentation: ${join(reports, 'index.html')}`,
    `Cucumber report:      ${join(reports, 'cucumber.html')}`,
  ]);
});

Then('the page links to the full cucumber report', function (this: EventfoldWorld) {
  expect(this.memo.dom as string).to.contain('<a href="cucumber.html">full cucumber report</a>');
});

Then('the page refers to nothing on the network', function (this: EventfoldWorld) {
  const html = readFileSync(join(this.memo.reports as string, 'index.html'), 'utf8');
  // The SVG namespace is an identifier, not a fetch.
  const references = html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '').match(/(src|href)\s*=\s*["']?(https?:)?\/\/|url\(\s*["']?https?:|@import/gi);
  expect(references).to.equal(null);
});
