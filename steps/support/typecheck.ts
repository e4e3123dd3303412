import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';

/** The repository root: files under it import `eventfold` by its own name (package self-reference), which resolves to dist/ through `exports`. */
export const REPO_ROOT = resolve(__dirname, '..', '..');

export interface CompileError {
  file: string;
  line: number;
  code: number;
  message: string;
}

/** The options an application would use: strict, ES2022, Node's own module resolution (so `exports` decides what is imported). */
const STRICT_NODE_OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  types: ['node'],
  // Every declaration file is checked too, the package's own included (a broken dist/*.d.ts would show here).
  skipLibCheck: false,
  noUnusedLocals: false,
};

/** Compiles `files` (absolute paths) and returns every diagnostic, with 1-based line numbers. */
export function compile(files: string[], options: ts.CompilerOptions = {}): CompileError[] {
  const program = ts.createProgram(files, { ...STRICT_NODE_OPTIONS, ...options });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
    return {
      file: d.file?.fileName ?? '(options)',
      line: where ? where.line + 1 : 0,
      code: d.code,
      message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
    };
  });
}

/** A scratch directory inside the repository (so that `eventfold` resolves to this package), removed by `remove()`. */
export function scratchDir(): { dir: string; write(name: string, text: string): string; remove(): void } {
  const parent = join(REPO_ROOT, '.tmp');
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, 'typecheck-'));
  return {
    dir,
    write(name, text) {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The fenced ```ts blocks of a markdown text, with the line each starts on. */
export function typescriptBlocks(markdown: string): Array<{ line: number; code: string }> {
  const blocks: Array<{ line: number; code: string }> = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i])) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    blocks.push({ line: start + 1, code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return blocks;
}

/** Describes errors one per line, for assertion messages. */
export function describeErrors(errors: CompileError[]): string {
  return errors.map((e) => `${e.file.replace(REPO_ROOT + '/', '')}:${e.line} TS${e.code} ${e.message}`).join('\n');
}
