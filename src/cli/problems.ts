import { CommanderError } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CorruptionError, EventfoldError } from '../errors';
import { LOG_DIR } from '../store-layout';

/**
 * How the command line reports problems: one sentence on stderr and exit
 * code 2, whatever went wrong (usage, a missing or wrong directory, a locked
 * or corrupt store, the disk). Help and --version exit 0.
 */
export const PROBLEM_EXIT_CODE = 2;

/** A problem the command line found itself, already worded for the operator. */
export class CliProblem extends EventfoldError {}

/** A number with its noun, singular or plural: "1 segment", "2 segments". */
export function pluralize(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

/** The path of an existing store directory, or a CliProblem saying what is there instead. */
export function existingStore(dir: string): string {
  const path = resolve(dir);
  if (!existsSync(path)) throw new CliProblem(`No store directory at ${path}`);
  if (!statSync(path).isDirectory()) throw new CliProblem(`${path} is a file, not a store directory`);
  if (!existsSync(join(path, LOG_DIR))) throw new CliProblem(`${path} is not an eventfold store: it has no log/ directory`);
  return path;
}

/** What a corrupt store's operator can do about it. */
export function repairHint(dir: string): string {
  return `to cut the log at the first damaged record and set aside any snapshot that does not match the log (moving them to quarantine/, nothing deleted), run: eventfold recover ${dir} --repair truncate`;
}

/** The one sentence for `error`, and whether it was a request for help or the version (exit 0). */
export function describeProblem(error: unknown, dir: string | undefined): { message: string | null; exitCode: number } {
  if (error instanceof CommanderError) {
    // Commander has already printed its own sentence ("error: unknown option '--x'") or the help;
    // it exits 0 only for --help and --version (help shown for a missing command is a usage error).
    return { message: null, exitCode: error.exitCode === 0 ? 0 : PROBLEM_EXIT_CODE };
  }
  if (error instanceof CliProblem) return { message: `error: ${error.message}`, exitCode: PROBLEM_EXIT_CODE };
  if (error instanceof CorruptionError) {
    return { message: `${error.name}: ${error.message}; ${repairHint(dir ?? '<dir>')}`, exitCode: PROBLEM_EXIT_CODE };
  }
  if (error instanceof EventfoldError) return { message: `${error.name}: ${error.message}`, exitCode: PROBLEM_EXIT_CODE };
  return { message: `error: ${fileSystemSentence(error)}`, exitCode: PROBLEM_EXIT_CODE };
}

/** Raw file system errors (ENOENT, ENOTDIR…) as sentences. */
function fileSystemSentence(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  const path = e?.path ? ` (${e.path})` : '';
  switch (e?.code) {
    case 'ENOENT':
      return `a file or directory the store needs is missing${path}`;
    case 'ENOTDIR':
      return `a file is where a directory should be${path}`;
    case 'EEXIST':
      return `a file is in the way${path}`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied${path}`;
    case 'ENOSPC':
      return `the disk is full${path}`;
    case 'EIO':
      return `the disk reported an I/O error${path}`;
    default:
      return e?.message ?? String(error);
  }
}
