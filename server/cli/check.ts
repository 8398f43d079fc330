/**
 * `runbooks check PATH…`: validate runbook files and folders (recursively, `.md` only). Problems
 * print as `file:line:col: error: message`, as compilers do, then one summary line. Exit 0 when
 * everything is valid, 1 on any problem, 2 when a path is missing or not a runbook.
 */
import { stat } from 'node:fs/promises';
import { join, normalize, resolve } from 'node:path';
import { findRunbookIds, loadRunbookFile, mapLimited } from '../runbook/load.js';
import type { RunbookProblem } from '../runbook/types.js';

export interface CheckedFile {
  file: string;
  /** the id relative to the folder given on the command line (files given directly have none) */
  id?: string;
  problems: RunbookProblem[];
}

export interface CheckReport {
  files: CheckedFile[];
  errors: number;
  /** paths that could not be checked, each with the reason */
  unusable: Array<{ path: string; reason: string }>;
}

/** Checks files and folders; files print as given (folder entries joined to the folder as given). */
export async function checkPaths(paths: string[]): Promise<CheckReport> {
  const targets: Array<{ file: string; id?: string }> = [];
  const unusable: CheckReport['unusable'] = [];
  const seen = new Set<string>();
  const add = (file: string, id?: string) => {
    const key = resolve(file);
    if (seen.has(key)) return;
    seen.add(key);
    targets.push(id === undefined ? { file } : { file, id });
  };
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch {
      unusable.push({ path, reason: 'no such file or folder' });
      continue;
    }
    if (info.isDirectory()) {
      try {
        for (const id of await findRunbookIds(path)) add(join(path, `${id}.md`), id);
      } catch (err) {
        unusable.push({ path, reason: `cannot read the folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
      }
    } else if (!path.endsWith('.md')) {
      unusable.push({ path, reason: 'not a runbook: runbooks are Markdown files ending in .md' });
    } else {
      add(normalize(path));
    }
  }
  const files = await mapLimited(targets, 16, async ({ file, id }): Promise<CheckedFile> => {
    try {
      const { problems } = await loadRunbookFile(file, id);
      return id === undefined ? { file, problems } : { file, id, problems };
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      const problems = [{ file, line: 1, column: 1, message: `cannot read the file (${reason})` }];
      return id === undefined ? { file, problems } : { file, id, problems };
    }
  });
  return { files, errors: files.reduce((n, f) => n + f.problems.length, 0), unusable };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The summary line: `checked 6 runbooks: 0 errors`, `checked 7 runbooks: 3 errors in 2 files`. */
export function summary(report: CheckReport): string {
  const failing = report.files.filter((f) => f.problems.length > 0).length;
  const errors = report.errors === 0 ? '0 errors' : `${plural(report.errors, 'error')} in ${plural(failing, 'file')}`;
  return `checked ${plural(report.files.length, 'runbook')}: ${errors}`;
}

/** The command: prints the report (text or `--json`) and returns the exit status. */
export async function checkCommand(paths: string[], opts: { json?: boolean }): Promise<number> {
  const report = await checkPaths(paths);
  for (const { path, reason } of report.unusable) process.stderr.write(`runbooks: ${path}: ${reason}\n`);
  if (opts.json) {
    const out: Record<string, unknown> = { files: report.files, errors: report.errors };
    if (report.unusable.length > 0) out.unusable = report.unusable;
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    const lines = report.files.flatMap((f) => f.problems.map((p) => `${p.file}:${p.line}:${p.column}: error: ${p.message}`));
    lines.push(summary(report));
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  if (report.unusable.length > 0) return 2;
  return report.errors > 0 ? 1 : 0;
}
