/**
 * Positions inside a runbook. Blocks (front matter, a fence body, an info string) are parsed on
 * their own; a `SourceMap` turns an offset inside such a piece of text back into the 1-based line
 * and column of the Markdown file, so every problem points at the offending token.
 */
import type { RunbookProblem } from './types.js';

export interface Position {
  line: number;
  column: number;
}

/** A problem found inside a piece of text, before it is placed in the file. */
export interface LocalProblem {
  offset: number;
  message: string;
}

export class SourceMap {
  private readonly lineStarts: number[] = [0];

  /**
   * @param text the piece of text offsets refer to
   * @param firstLine file line (1-based) of the text's first line
   * @param columnOffsets per text line, how many columns of the file line precede it (indentation
   *   of a fence inside a list item, a `> ` quote marker); missing entries count as 0
   * @param firstColumn file column (1-based) where the text's first line starts when it does not
   *   start a line (an info string after the fence marker)
   */
  constructor(
    text: string,
    private readonly firstLine: number,
    private readonly columnOffsets: readonly number[] = [],
    private readonly firstColumn = 1,
  ) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
  }

  /** The file position of an offset in the text. */
  at(offset: number): Position {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    const column = offset - this.lineStarts[lo] + 1 + (this.columnOffsets[lo] ?? 0);
    return { line: this.firstLine + lo, column: lo === 0 ? column + this.firstColumn - 1 : column };
  }

  problem(file: string, offset: number, message: string): RunbookProblem {
    return { file, ...this.at(offset), message };
  }
}

/** Problems in reading order: by line, then column. */
export function sortProblems(problems: RunbookProblem[]): RunbookProblem[] {
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** A value quoted for an error message: JSON-escaped (no control characters reach a terminal), cut short. */
export function quote(value: unknown, max = 40): string {
  const text = typeof value === 'string' ? value : String(value);
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(cut);
}
