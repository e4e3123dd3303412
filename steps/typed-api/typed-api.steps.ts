import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidInputError, UnknownProjectionError } from '../../src/index';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';
import ts from 'typescript';
import { compile, describeErrors, REPO_ROOT, scratchDir, typescriptBlocks, type CompileError } from '../support/typecheck';

interface TypeCheckState {
  printed?: Array<{ block: number; line: number; expected: string; printed: string[] | undefined }>;
  blocks?: Array<{ line: number; code: string }>;
  blockErrors?: CompileError[];
  typeTestPath?: string;
  typeTestErrors?: CompileError[];
  tarball?: string;
  packDir?: string;
  dual?: Record<string, unknown>;
}

/** What the type-checking steps of one scenario share. */
const typeCheck = scenarioState((): TypeCheckState => ({}));

Given('the TypeScript blocks of the README', function (this: EventfoldWorld) {
  typeCheck(this).blocks = typescriptBlocks(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'));
});

When('each is compiled under strict as an ES module importing {string}', function (this: EventfoldWorld, _name: string) {
  const m = typeCheck(this);
  const scratch = scratchDir();
  try {
    // One program, one file per block: each block is its own module, as a reader would paste it.
    const files = m.blocks!.map((block, i) => scratch.write(`readme-block-${i + 1}-line-${block.line}.mts`, block.code + '\nexport {};\n'));
    m.blockErrors = compile(files);
  } finally {
    scratch.remove();
  }
});

Then('there are at least {int} blocks', function (this: EventfoldWorld, least: number) {
  expect(typeCheck(this).blocks!.length).to.be.at.least(least);
});

Then('every block compiles without an error', function (this: EventfoldWorld) {
  const errors = typeCheck(this).blockErrors!;
  expect(errors, describeErrors(errors)).to.deep.equal([]);
});

/** `console.log(...)  // → text` lines: the call is recorded instead, and must print exactly `text`. */
const ANNOTATED = /console\.log\((.*)\/\/ → (.*)$/;

When('each is run with node in an empty directory', function (this: EventfoldWorld) {
  const m = typeCheck(this);
  m.printed = [];
  for (const [b, block] of m.blocks!.entries()) {
    const scratch = scratchDir();
    try {
      const expected = new Map<number, string>();
      const lines = block.code.split('\n').map((text, i) => {
        const match = ANNOTATED.exec(text);
        if (!match) return text;
        expected.set(i + 1, match[2].trim());
        return text.replace('console.log(', `__readme.record(${i + 1}, `);
      });
      const source = [
        "import { format as __format } from 'node:util';",
        'const __readme = { seen: {}, record(line, ...args) { (this.seen[line] ??= []).push(__format(...args)); } };',
        ...lines,
        "process.stdout.write('\\n@@README@@' + JSON.stringify(__readme.seen));",
      ].join('\n');
      const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
      const run = spawnSync(process.execPath, [scratch.write(`readme-block-${b + 1}.mjs`, js)], { cwd: scratch.dir, encoding: 'utf8' });
      expect(run.status, `README block at line ${block.line}: ${run.stderr}`).to.equal(0);
      const seen = JSON.parse(run.stdout.slice(run.stdout.lastIndexOf('@@README@@') + '@@README@@'.length)) as Record<string, string[]>;
      for (const [line, text] of expected) m.printed.push({ block: block.line, line: block.line + line - 1, expected: text, printed: seen[line] });
    } finally {
      scratch.remove();
    }
  }
});

Then('at least {int} lines marked {string} printed, each exactly what its comment says', function (this: EventfoldWorld, least: number, _marker: string) {
  const printed = typeCheck(this).printed!;
  expect(printed.length).to.be.at.least(least);
  for (const p of printed) expect(p.printed, `README.md line ${p.line}`).to.deep.equal([p.expected]);
});

Given('the type tests in {string}', function (this: EventfoldWorld, path: string) {
  typeCheck(this).typeTestPath = join(REPO_ROOT, path);
});

When('they are compiled under strict against the built package', function (this: EventfoldWorld) {
  const m = typeCheck(this);
  // The package's declarations were checked with the README's blocks; here only the test file is (a third of the time).
  m.typeTestErrors = compile([m.typeTestPath!], { skipLibCheck: true });
});

Then('the file compiles without an error, every expected error included', function (this: EventfoldWorld) {
  // An unused `@ts-expect-error` is itself an error (TS2578): a wrong shape that compiled would show here.
  const errors = typeCheck(this).typeTestErrors!;
  expect(errors, describeErrors(errors)).to.deep.equal([]);
});

const MARKER = /\/\/ @ts-expect-error (TS\d+)\b/;

Then(
  'with the markers removed, each of at least {int} marked lines fails with the error code it names',
  function (this: EventfoldWorld, least: number) {
    const m = typeCheck(this);
    const lines = readFileSync(m.typeTestPath!, 'utf8').split('\n');
    const expected = new Map<number, number>();
    lines.forEach((text, i) => {
      const match = MARKER.exec(text);
      if (match) expected.set(i + 2, Number(match[1].slice(2)));
    });
    expect(expected.size).to.be.at.least(least);
    const scratch = scratchDir();
    try {
      const unmarked = lines.map((text) => text.replace('// @ts-expect-error', '// expected:')).join('\n');
      const errors = compile([scratch.write('typed-api-unmarked.mts', unmarked)], { skipLibCheck: true });
      const byLine = new Map<number, CompileError[]>();
      for (const error of errors) byLine.set(error.line, [...(byLine.get(error.line) ?? []), error]);
      for (const [line, code] of expected) {
        const found = byLine.get(line) ?? [];
        expect(
          found.map((e) => e.code),
          `line ${line} (${lines[line - 1].trim()}) should fail with TS${code}; got ${describeErrors(found) || 'no error'}`,
        ).to.include(code);
      }
      m.typeTestErrors = errors.filter((e) => !expected.has(e.line));
    } finally {
      scratch.remove();
    }
  },
);

Then('no other line fails', function (this: EventfoldWorld) {
  const errors = typeCheck(this).typeTestErrors!;
  expect(errors, describeErrors(errors)).to.deep.equal([]);
});

Given('the package packed as npm would publish it', function (this: EventfoldWorld) {
  const m = typeCheck(this);
  // npm test built dist/ already; --ignore-scripts keeps `prepare` from building it again.
  m.packDir = mkdtempSync(join(this.dir, 'pack-'));
  const output = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', m.packDir], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [packed] = JSON.parse(output) as Array<{ filename: string; files: Array<{ path: string }> }>;
  m.tarball = join(m.packDir, packed.filename);
  const paths = packed.files.map((f) => f.path);
  expect(paths).to.include.members(['dist/index.js', 'dist/index.mjs', 'dist/index.d.ts', 'dist/index.d.mts', 'dist/emmett.js', 'dist/emmett.mjs', 'emmett/package.json']);
  expect(readdirSync(m.packDir)).to.have.length(1);
});

const ENTRY_POINTS = ['.', './emmett', './package.json'];
const RESOLUTIONS = ['node10', 'node16-cjs', 'node16-esm', 'bundler'];

Then(
  '{string} finds no problem for node10, node16 from CommonJS, node16 from ES modules and bundlers',
  function (this: EventfoldWorld, _tool: string) {
    const run = spawnSync(join(REPO_ROOT, 'node_modules/.bin/attw'), [typeCheck(this).tarball!, '--format', 'json'], { encoding: 'utf8' });
    const report = JSON.parse(run.stdout) as {
      problems: Record<string, unknown[]>;
      analysis: { entrypoints: Record<string, { resolutions: Record<string, { resolution?: { fileName: string } }> }> };
    };
    expect(Object.values(report.problems).flat(), run.stdout.slice(0, 2000)).to.deep.equal([]);
    expect(Object.keys(report.analysis.entrypoints)).to.have.members(ENTRY_POINTS);
    for (const entry of ENTRY_POINTS) {
      for (const kind of RESOLUTIONS) {
        expect(report.analysis.entrypoints[entry].resolutions[kind]?.resolution?.fileName, `${entry} under ${kind}`).to.be.a('string');
      }
    }
    expect(run.status).to.equal(0);
  },
);

Then('{string} finds nothing to report, not even a suggestion', function (this: EventfoldWorld, _tool: string) {
  const run = spawnSync(join(REPO_ROOT, 'node_modules/.bin/publint'), ['run', typeCheck(this).tarball!, '--strict', '--level', 'suggestion'], { encoding: 'utf8' });
  expect(run.status, run.stdout + run.stderr).to.equal(0);
  expect(run.stdout).to.include('All good!');
  rmSync(typeCheck(this).packDir!, { recursive: true, force: true });
});

/** Run by node as an ES module inside the repository, so `eventfold` is this package. */
const DUAL_CHECK = `
import * as esm from 'eventfold';
import { getEventfoldEventStore } from 'eventfold/emmett';
import * as emmettEsm from '@event-driven-io/emmett';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const cjs = require('eventfold');
const cjsEmmettAdapter = require('eventfold/emmett');
const store = await esm.EventStore.inMemory();
const emmettStore = getEventfoldEventStore(store);
await emmettStore.appendToStream('cart-1', [{ type: 'Opened', data: {} }]);
let conflict;
try {
  await emmettStore.appendToStream('cart-1', [{ type: 'Opened', data: {} }], { expectedStreamVersion: emmettEsm.STREAM_DOES_NOT_EXIST });
} catch (error) {
  conflict = error;
}
await store.close();
const names = (m) => Object.keys(m).filter((k) => k !== '__esModule' && k !== 'default').sort();
console.log(JSON.stringify({
  sameNames: JSON.stringify(names(esm)) === JSON.stringify(names(cjs)),
  exportCount: names(esm).length,
  sameClass: esm.EventStore === cjs.EventStore,
  storeIsInstance: store instanceof cjs.EventStore,
  requireAdapter: typeof cjsEmmettAdapter.getEventfoldEventStore,
  conflictIsEsmClass: conflict instanceof emmettEsm.ExpectedVersionConflictError,
  recognised: emmettEsm.isExpectedVersionConflictError(conflict),
}));
`;

When('an ES module imports {string} and {string} and requires them too', function (this: EventfoldWorld, _a: string, _b: string) {
  const scratch = scratchDir();
  try {
    const script = scratch.write('dual.mjs', DUAL_CHECK);
    const run = spawnSync(process.execPath, [script], { encoding: 'utf8' });
    expect(run.status, run.stderr).to.equal(0);
    typeCheck(this).dual = JSON.parse(run.stdout) as Record<string, unknown>;
  } finally {
    scratch.remove();
  }
});

Then('both see the same exports and the same EventStore class', function (this: EventfoldWorld) {
  const dual = typeCheck(this).dual!;
  expect(dual).to.include({ sameNames: true, sameClass: true, storeIsInstance: true, requireAdapter: 'function' });
  expect(dual.exportCount).to.be.at.least(20);
});

Then("the ES module's adapter throws conflicts as the ES module build of Emmett's own error class", function (this: EventfoldWorld) {
  expect(typeCheck(this).dual).to.include({ conflictIsEsmClass: true, recognised: true });
});

Given('a store opened with the projections {string} and {string}', async function (this: EventfoldWorld, a: string, b: string) {
  const projection = { initialState: { n: 0 }, version: 1, evolve: (d: { n: number }) => void d.n++ };
  await this.openStore({ projections: { [a]: projection, [b]: projection } });
});

When('the application asks for the state of {string}, a name from outside the program\'s types', async function (this: EventfoldWorld, name: string) {
  // A name read from configuration or a request: typed as string, as the untyped store allows.
  await this.capture(async () => this.store!.state(name));
});

Then(
  'it is refused with an UnknownProjectionError, an InvalidInputError, naming {string} and {string}',
  function (this: EventfoldWorld, a: string, b: string) {
    expect(this.lastError).to.be.instanceOf(UnknownProjectionError).and.instanceOf(InvalidInputError);
    expect(this.lastError).to.deep.include({ projection: 'balance', known: [a, b] });
    expect((this.lastError as Error).message).to.equal(`No projection named "balance"; the store was opened with "${a}", "${b}"`);
  },
);
