import { Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { scenarioState } from '../support/scenario-state';
import type { EventfoldWorld } from '../support/world';

const ROOT = join(__dirname, '..', '..');

/** The files `npm pack` would publish. */
const pack = scenarioState(() => ({ files: new Set<string>() }));

function packed(world: EventfoldWorld): Set<string> {
  return pack(world).files;
}

When('the package is packed as npm would publish it', function (this: EventfoldWorld) {
  // --ignore-scripts: list the dist/ that npm test has just built instead of building it again.
  const run = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).to.equal(0);
  const [listing] = JSON.parse(run.stdout) as Array<{ files: Array<{ path: string }> }>;
  pack(this).files = new Set(listing.files.map((file) => file.path));
});

Then('it holds the LICENSE, the README, the library with its type declarations and the eventfold command', function (this: EventfoldWorld) {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  expect(manifest.license).to.equal('MIT');
  expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).to.match(/^MIT License/);
  const wanted = ['LICENSE', 'README.md', manifest.main, manifest.types, manifest.bin.eventfold].map((path: string) => normalize(path));
  expect([...packed(this)]).to.include.members(wanted);
});

Then('every link of the README to a file leads to a file of the package', function (this: EventfoldWorld) {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]).filter((target) => !/^[a-z]+:/i.test(target));
  expect(links.length, 'the README links to files').to.be.greaterThan(0);
  for (const link of links) expect(packed(this).has(normalize(link)), `README links to ${link}`).to.equal(true);
});

Then('every source map leads to source files of the package', function (this: EventfoldWorld) {
  const maps = [...packed(this)].filter((path) => path.endsWith('.js.map'));
  expect(maps.length).to.be.greaterThan(0);
  for (const map of maps) {
    const { sources } = JSON.parse(readFileSync(join(ROOT, map), 'utf8')) as { sources: string[] };
    for (const source of sources) expect(packed(this).has(normalize(join(dirname(map), source))), `${map} points at ${source}`).to.equal(true);
  }
});

Then('installing the package runs none of its scripts', function (this: EventfoldWorld) {
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  // The scripts npm runs when the package is installed as a dependency (prepare: from git).
  const onInstall = ['preinstall', 'install', 'postinstall', 'prepare', 'preprepare', 'postprepare'].filter((name) => name in scripts);
  expect(onInstall).to.deep.equal([]);
});
