// Finds the browser the living-documentation test renders its page in, and
// says how to get one where there is none. Used by `npm test`/`npm start`'s
// setup (ensure-browser.ts) and by the test itself.
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Variables that name a browser executable, in the order they are consulted (CHROME_PATH as in Lighthouse and chrome-launcher). */
export const BROWSER_VARIABLES = ['CHROME_PATH', 'CHROMIUM_PATH', 'PUPPETEER_EXECUTABLE_PATH', 'CHROME_BIN'];
/** Command names looked up on the search path. */
export const BROWSER_COMMANDS = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];
/**
 * Replaces PATH and the usual locations as the places searched for a browser
 * (not for apt-get): lets the setup's own scenarios stand for a machine without one.
 */
export const SEARCH_OVERRIDE = 'EVENTFOLD_BROWSER_SEARCH_PATH';

export interface FoundBrowser {
  path: string;
  /** Where it was found: a variable's name, "PATH" or "usual location". */
  via: string;
}

/** Where browsers live when they are not on PATH. */
export function usualLocations(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string[] {
  switch (platform) {
    case 'darwin':
      return ['/Applications', join(env.HOME ?? '~', 'Applications')].flatMap((apps) => [
        join(apps, 'Google Chrome.app/Contents/MacOS/Google Chrome'),
        join(apps, 'Chromium.app/Contents/MacOS/Chromium'),
      ]);
    case 'win32':
      return [env.PROGRAMFILES, env['PROGRAMFILES(X86)'], env.LOCALAPPDATA]
        .filter((dir): dir is string => Boolean(dir))
        .map((dir) => join(dir, 'Google', 'Chrome', 'Application', 'chrome.exe'));
    default:
      return ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable', '/snap/bin/chromium', '/opt/google/chrome/chrome'];
  }
}

export function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Finds an executable `command` in the directories of a PATH-style list. */
export function onSearchPath(command: string, searchPath: string | undefined, platform: NodeJS.Platform = process.platform): string | undefined {
  const names = platform === 'win32' ? [`${command}.exe`, command] : [command];
  for (const dir of (searchPath ?? '').split(delimiter).filter(Boolean)) {
    for (const name of names) if (isExecutableFile(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/**
 * A browser named by a variable, on the search path, or in a usual location.
 * Throws with one sentence when a variable names something that is not an executable file:
 * the user asked for that browser, another one must not be used silently.
 */
export function findBrowser(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): FoundBrowser | undefined {
  for (const variable of BROWSER_VARIABLES) {
    const value = env[variable];
    if (!value) continue;
    if (!isExecutableFile(value)) throw new Error(`${variable} is set to ${value}, which is not an executable file: point it at a Chrome or Chromium executable, or unset it.`);
    return { path: value, via: variable };
  }
  const override = env[SEARCH_OVERRIDE];
  const searchPath = override ?? env.PATH;
  for (const command of BROWSER_COMMANDS) {
    const path = onSearchPath(command, searchPath, platform);
    if (path) return { path, via: override === undefined ? 'PATH' : SEARCH_OVERRIDE };
  }
  if (override !== undefined) return undefined;
  const path = usualLocations(platform, env).find(isExecutableFile);
  return path ? { path, via: 'usual location' } : undefined;
}

/** The commands that install Debian's chromium (run as root, without questions). */
export const APT_INSTALL: string[][] = [
  ['apt-get', '-o', 'DPkg::Lock::Timeout=300', 'update', '-qq'],
  ['apt-get', '-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '-qq', 'chromium'],
];

export type InstallPlan = { commands: string[][] } | { impossible: string };

const NONE = `No Chrome or Chromium was found for the living-documentation test (looked at ${BROWSER_VARIABLES.join(', ')}, the commands ${BROWSER_COMMANDS.join(', ')} on PATH, and the usual install locations)`;

/** What decides whether a browser can be installed here. */
export interface MachineFacts {
  platform: NodeJS.Platform;
  /** The ID of /etc/os-release ("debian", "ubuntu", …), if any. */
  distribution: string | undefined;
  aptGet: boolean;
  root: boolean;
}

export function machineFacts(env: NodeJS.ProcessEnv = process.env): MachineFacts {
  let distribution: string | undefined;
  try {
    distribution = /^ID="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
  } catch {
    distribution = undefined;
  }
  return { platform: process.platform, distribution, aptGet: onSearchPath('apt-get', env.PATH) !== undefined, root: process.getuid?.() === 0 };
}

/** Whether, and how, a browser can be installed: only Debian's chromium, with apt-get, as root. */
export function installPlan(facts: MachineFacts): InstallPlan {
  if (facts.platform !== 'linux') return { impossible: `${NONE}: install Google Chrome or Chromium, or set CHROME_PATH to its executable.` };
  if (facts.distribution !== 'debian') return { impossible: `${NONE}, and this is not Debian, where it would be installed with apt-get: install Chromium with your package manager, or set CHROME_PATH to a Chrome or Chromium executable.` };
  if (!facts.aptGet) return { impossible: `${NONE}, and apt-get is not on PATH to install Debian's chromium: install it, or set CHROME_PATH to a Chrome or Chromium executable.` };
  if (!facts.root) return { impossible: `${NONE}, and installing Debian's chromium needs root: run "sudo apt-get install chromium" once, or set CHROME_PATH to a Chrome or Chromium executable.` };
  return { commands: APT_INSTALL };
}

/** The sentence a run without a browser ends with. */
export function noBrowserSentence(env: NodeJS.ProcessEnv = process.env): string {
  const plan = installPlan(machineFacts(env));
  return 'impossible' in plan ? plan.impossible : `${NONE}: npm test installs Debian's chromium when it runs as root; run it (or "apt-get install chromium") again.`;
}
