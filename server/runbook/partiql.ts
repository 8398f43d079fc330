/**
 * `partiql` blocks: one PartiQL statement. The scanner knows string literals ('…'), quoted
 * identifiers ("…") and comments, so it can tell where a `{{template}}` stands: outside them it
 * becomes a `?` placeholder whose value is bound in `Parameters`; inside a literal or an identifier
 * it is an error. No value is ever spliced into the statement text.
 */
import type { PartiqlKind } from './operations.js';
import type { LocalProblem } from './positions.js';

/** ExecuteStatement accepts statements of 1 to 8192 characters. */
export const MAX_STATEMENT_LENGTH = 8192;

export interface PartiqlTemplate {
  /** offsets of `{{` and just after `}}` in the statement */
  start: number;
  end: number;
  /** the template text, `{{…}}` */
  text: string;
}

export interface PartiqlScan {
  kind?: PartiqlKind;
  templates: PartiqlTemplate[];
  problems: LocalProblem[];
}

const KINDS: Record<string, PartiqlKind> = { SELECT: 'select', INSERT: 'insert', UPDATE: 'update', DELETE: 'delete' };

const cache = new Map<string, PartiqlScan>();

/** Scans a statement: its kind (from the first keyword), its templates, and its problems. */
export function scanPartiql(statement: string): PartiqlScan {
  const hit = cache.get(statement);
  if (hit) return hit;
  const scan = scan_(statement);
  if (cache.size >= 10_000) cache.clear();
  cache.set(statement, scan);
  return scan;
}

function scan_(s: string): PartiqlScan {
  const templates: PartiqlTemplate[] = [];
  const problems: LocalProblem[] = [];
  let firstWord: { word: string; offset: number } | undefined;
  let i = 0;
  const closeOf = (open: number): number => {
    const triple = s.startsWith('{{{', open);
    const close = s.indexOf(triple ? '}}}' : '}}', open + 2);
    return close === -1 ? -1 : close + (triple ? 3 : 2);
  };
  const inQuoted = (quote: string, open: number, what: string, why: string): void => {
    // A quoted literal or identifier ends at the next lone quote; a doubled quote is an escaped one.
    let j = open + 1;
    for (;;) {
      if (j >= s.length) {
        problems.push({ offset: open, message: `the ${what} opened here is not closed: add the closing ${quote}` });
        i = s.length;
        return;
      }
      if (s[j] === quote) {
        if (s[j + 1] === quote) {
          j += 2;
          continue;
        }
        i = j + 1;
        return;
      }
      if (s.startsWith('{{', j)) {
        problems.push({ offset: j, message: why });
        const end = closeOf(j);
        j = end === -1 ? j + 2 : end;
        continue;
      }
      j++;
    }
  };

  while (i < s.length) {
    const c = s[i];
    if (c === "'") {
      inQuoted(
        "'",
        i,
        'string literal',
        'a template cannot stand inside a quoted string literal: remove the quotes and write the whole value as one template (`{{concat "PREFIX#" param}}` builds one); it is bound as a parameter',
      );
    } else if (c === '"') {
      inQuoted('"', i, 'quoted name', 'table and attribute names cannot be parameters: write the name out');
    } else if (s.startsWith('--', i)) {
      const end = s.indexOf('\n', i);
      const stop = end === -1 ? s.length : end;
      const t = s.indexOf('{{', i);
      if (t !== -1 && t < stop) problems.push({ offset: t, message: 'a template inside a comment is never bound: remove it' });
      i = stop;
    } else if (s.startsWith('/*', i)) {
      const end = s.indexOf('*/', i + 2);
      const stop = end === -1 ? s.length : end + 2;
      if (end === -1) problems.push({ offset: i, message: 'the comment opened here is not closed: add `*/`' });
      const t = s.indexOf('{{', i);
      if (t !== -1 && t < stop) problems.push({ offset: t, message: 'a template inside a comment is never bound: remove it' });
      i = stop;
    } else if (s.startsWith('{{', i)) {
      const end = closeOf(i);
      if (end === -1) {
        problems.push({ offset: i, message: 'template `{{` is not closed: write `{{param}}`' });
        break;
      }
      templates.push({ start: i, end, text: s.slice(i, end) });
      i = end;
    } else if (c === '?') {
      problems.push({ offset: i, message: 'write parameters as `{{name}}`: a bare `?` has no value bound to it' });
      i++;
    } else if (c === ';') {
      problems.push({ offset: i, message: 'a partiql block holds one statement without `;`: remove it' });
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i, i + 64))![0];
      firstWord ??= { word, offset: i };
      i += word.length;
    } else {
      i++;
    }
  }

  let kind: PartiqlKind | undefined;
  if (s.trim() === '') {
    problems.push({ offset: 0, message: 'empty partiql block: write one SELECT, INSERT, UPDATE or DELETE statement' });
  } else if (!firstWord || (templates[0] && templates[0].start < firstWord.offset)) {
    problems.push({ offset: s.length - s.trimStart().length, message: 'a PartiQL statement starts with SELECT, INSERT, UPDATE or DELETE' });
  } else {
    kind = KINDS[firstWord.word.toUpperCase()];
    if (!kind) {
      problems.push({
        offset: firstWord.offset,
        message: `\`${firstWord.word}\` statements are not supported: a partiql block holds one SELECT, INSERT, UPDATE or DELETE statement`,
      });
    }
  }
  if (s.trim().length > MAX_STATEMENT_LENGTH) {
    problems.push({ offset: 0, message: `the statement is ${s.trim().length} characters long; ExecuteStatement accepts at most ${MAX_STATEMENT_LENGTH}` });
  }
  return { kind, templates, problems };
}
