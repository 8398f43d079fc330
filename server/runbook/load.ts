/**
 * Loading runbooks from a folder. A runbook's id is its path relative to the folder without `.md`,
 * using `/`; ids never name anything outside the folder.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { RbError } from '../errors.js';
import { MAX_RUNBOOK_CHARS, parseRunbook } from './parse.js';
import type { Runbook, RunbookProblem } from './types.js';

export interface LoadedRunbook {
  runbook?: Runbook;
  problems: RunbookProblem[];
  /** the file's text as parsed (a run keeps it: docs/api.md) */
  text?: string;
}

/** Folders never searched for runbooks: hidden ones (`.git`, `.runbooks`) and dependencies. */
function skipped(name: string): boolean {
  return name.startsWith('.') || name === 'node_modules';
}

function badId(id: string): RbError {
  return new RbError(
    'RB_ERR_RUNBOOK_BAD_ID',
    `${JSON.stringify(id.slice(0, 200))} is not a runbook id: ids are paths inside the runbooks folder, like orders/refund-check, without \`..\`, backslashes or NUL.`,
  );
}

/**
 * The file of runbook `id` under `root` (`<root>/<id>.md`). Throws RB_ERR_RUNBOOK_BAD_ID for an
 * empty or absolute id, `.`/`..` or hidden segments, backslashes, NUL, or anything resolving
 * outside root.
 */
export function resolveRunbookPath(root: string, id: string): string {
  if (typeof id !== 'string' || id === '' || id.length > 1024 || id.includes('\0') || id.includes('\\') || isAbsolute(id) || id.startsWith('/')) {
    throw badId(String(id));
  }
  const segments = id.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..' || skipped(s))) throw badId(id);
  const base = resolve(root);
  const file = resolve(base, `${id}.md`);
  const rel = relative(base, file);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) throw badId(id);
  return file;
}

/** Loads and parses a lone runbook file; `file` is used in problems as given. */
export async function loadRunbookFile(file: string, id?: string): Promise<LoadedRunbook> {
  const info = await stat(file);
  if (!info.isFile()) throw Object.assign(new Error(`${file} is not a file`), { code: 'EISDIR' });
  // Every character takes at least one byte: don't read what parseRunbook would refuse anyway.
  if (info.size > MAX_RUNBOOK_CHARS * 4) {
    return { problems: [{ file, line: 1, column: 1, message: `the runbook is ${info.size} bytes long; at most ${MAX_RUNBOOK_CHARS} characters are read: split it` }] };
  }
  const text = await readFile(file, 'utf8');
  return { ...parseRunbook(text, file, id === undefined ? {} : { id }), text };
}

/**
 * Loads runbook `id` from `root`. Throws RB_ERR_RUNBOOK_BAD_ID (see `resolveRunbookPath`, and for a
 * symbolic link leading outside root) or RB_ERR_RUNBOOK_NOT_FOUND.
 */
export async function loadRunbook(root: string, id: string): Promise<LoadedRunbook> {
  const file = await locateRunbook(root, id);
  try {
    return await loadRunbookFile(file, id);
  } catch (err) {
    throw notFoundIfMissing(err, id);
  }
}

/**
 * The file of runbook `id` under `root`, as `<root>/<id>.md` (problems name it so), once it is known
 * to exist inside root. Throws as `loadRunbook` does.
 */
export async function locateRunbook(root: string, id: string): Promise<string> {
  const file = resolveRunbookPath(root, id);
  let real: string;
  try {
    real = await realpath(file);
  } catch {
    throw notFound(id);
  }
  const realRoot = await realpath(root);
  const rel = relative(realRoot, real);
  if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) throw badId(id);
  return join(root, `${id}.md`);
}

function notFound(id: string): RbError {
  return new RbError('RB_ERR_RUNBOOK_NOT_FOUND', `No runbook ${JSON.stringify(id)} in the runbooks folder.`);
}

/** A file that went missing (or is a folder) as RB_ERR_RUNBOOK_NOT_FOUND; any other error as it is. */
export function notFoundIfMissing(err: unknown, id: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'EISDIR' ? notFound(id) : err;
}

/**
 * The `.md` files under `dir`, recursively, as ids (relative paths without `.md`, `/`-separated),
 * sorted. Hidden folders, node_modules and symbolic links are not followed.
 */
export async function findRunbookIds(dir: string): Promise<string[]> {
  const ids: string[] = [];
  const walk = async (folder: string, prefix: string): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true });
    for (const entry of entries) {
      if (skipped(entry.name)) continue;
      if (entry.isDirectory()) await walk(join(folder, entry.name), `${prefix}${entry.name}/`);
      else if (entry.isFile() && entry.name.endsWith('.md')) ids.push(`${prefix}${entry.name.slice(0, -3)}`);
    }
  };
  await walk(dir, '');
  return ids.sort();
}

/** Reads many files with a bounded number of open files at once. */
export async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Every runbook under `root` (recursive `.md`), sorted by id, each with its problems. */
export async function listRunbooks(root: string): Promise<Array<{ id: string; file: string } & LoadedRunbook>> {
  const ids = await findRunbookIds(root);
  return mapLimited(ids, 16, async (id) => {
    const file = join(root, `${id}.md`);
    try {
      return { id, file, ...(await loadRunbookFile(file, id)) };
    } catch (err) {
      // Removed or unreadable between listing and reading: report it with the others.
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      return { id, file, problems: [{ file, line: 1, column: 1, message: `cannot read the file (${reason})` }] };
    }
  });
}
