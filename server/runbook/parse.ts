/**
 * Parsing: a Markdown runbook becomes plain data (front matter, parameters, prose sections and
 * steps), with every problem found at once and placed at its file, line and column.
 */
import MarkdownIt from 'markdown-it';
import { basename } from 'node:path';
import { parseAttributes, DEFAULT_MAX_ITEMS } from './attributes.js';
import { defaultAccess, readFrontMatter, splitFrontMatter, type FrontMatter } from './front-matter.js';
import { operations } from './operations.js';
import { scanPartiql } from './partiql.js';
import { SourceMap, sortProblems } from './positions.js';
import { plainText } from './prose.js';
import { readRequest } from './request.js';
import { checkTemplate, outputRefs, outputRefText, type OutputRef, type StepScope } from './templates.js';
import type { ParamDecl, Runbook, RunbookProblem, Section, Step, StepLanguage } from './types.js';

/** Larger runbooks are refused: nobody reads 5 MB of prose during an incident. */
export const MAX_RUNBOOK_CHARS = 5_000_000;

// Structure only: headings and fences. Inline parsing is left to the few headings that need it.
const md = new MarkdownIt('default', { html: false });
md.core.ruler.disable(['inline', 'text_join']);

const LANGUAGES: readonly StepLanguage[] = ['dynamodb', 'partiql'];

interface Block {
  language: StepLanguage;
  content: string;
  /** file line of the opening fence, and column (1-based) of its marker */
  line: number;
  column: number;
  /** the text after the language, and the file column where it starts */
  attributes: string;
  attributesColumn: number;
  /** per body line, the columns before it in the file (list indentation, `> ` markers) */
  columnOffsets: number[];
  index: number;
}

class RunbookParser {
  readonly problems: RunbookProblem[] = [];
  readonly steps: Step[] = [];
  private readonly names = new Map<string, number>();
  private readonly params: ReadonlyMap<string, ParamDecl>;
  /** the names of the steps read so far, the ones a step's templates may take outputs from */
  readonly earlier = new Set<string>();

  constructor(
    private readonly file: string,
    private readonly meta: FrontMatter,
    /** every step name of the file, for saying that a step's output is used before it runs */
    private readonly allNames: ReadonlySet<string>,
  ) {
    this.params = new Map(meta.params.map((p) => [p.name, p]));
  }

  private problem(line: number, column: number, message: string): void {
    this.problems.push({ file: this.file, line, column, message });
  }

  /** Builds a step from an executable block; undefined when its operation cannot be known. */
  step(block: Block, title: string | undefined): Step | undefined {
    const { attributes, problems: attributeProblems } = parseAttributes(block.attributes);
    for (const p of attributeProblems) this.problem(block.line, block.attributesColumn + p.offset, p.message);

    const name = attributes.name ?? `step-${block.index}`;
    const nameColumn = attributes.name !== undefined ? block.attributesColumn + Math.max(0, block.attributes.indexOf(name)) : block.column;
    const first = this.names.get(name);
    if (first !== undefined) {
      this.problem(block.line, nameColumn, `duplicate step name \`${name}\` (first used on line ${first}): give each step a unique \`name\``);
    } else {
      this.names.set(name, block.line);
    }

    const bodyLine = block.line + 1;
    const map = new SourceMap(block.content, bodyLine, block.columnOffsets);
    // The names of the steps pushed so far: this step is pushed after it is read.
    const scope: StepScope = { earlier: this.earlier, all: this.allNames, redacted: this.meta.redact };
    let base: Pick<Step, 'operation' | 'statementKind' | 'write' | 'request' | 'values'> | undefined;
    let inputs: OutputRef[] = [];
    if (block.language === 'dynamodb') {
      const result = readRequest(block.content, this.params, scope, attributes.values);
      if (result.request) inputs = stringsOf(result.request).flatMap(outputRefs);
      for (const p of result.problems) this.problems.push(map.problem(this.file, p.offset, p.message));
      if (result.operation) base = { operation: result.operation, write: operations[result.operation].write, request: result.request, values: result.values };
    } else {
      if (attributes.values !== undefined) {
        // PartiQL binds its values as `?` parameters, which have no second form.
        this.problem(
          block.line,
          block.attributesColumn + Math.max(0, block.attributes.indexOf('values')),
          '`values` applies to dynamodb blocks; a partiql statement writes its values in PartiQL: remove the attribute',
        );
      }
      const scan = scanPartiql(block.content);
      for (const p of scan.problems) this.problems.push(map.problem(this.file, p.offset, p.message));
      for (const t of scan.templates) {
        inputs.push(...outputRefs(t.text));
        for (const p of checkTemplate(t.text, this.params, scope).problems) {
          this.problems.push(map.problem(this.file, t.start + p.offset, p.message));
        }
      }
      if (scan.kind) base = { operation: 'ExecuteStatement', statementKind: scan.kind, write: scan.kind !== 'select' };
    }
    if (!base) return undefined;

    const policy = this.meta.access.approval;
    const required = policy === 'all' || (policy === 'writes' && base.write);
    if (attributes.approval === false && required) {
      const column = block.attributesColumn + Math.max(0, block.attributes.indexOf('approval'));
      this.problem(block.line, column, `\`approval: false\` cannot relax \`access.approval: ${policy}\`${policy === 'writes' ? ' for a write step' : ''}: remove the attribute`);
    }
    const step: Step = {
      name,
      title: title ?? name,
      language: block.language,
      source: block.content,
      line: block.line,
      bodyLine,
      ...base,
      maxItems: attributes.maxItems ?? DEFAULT_MAX_ITEMS,
      needsApproval: attributes.approval === true || required,
    };
    if (attributes.approval !== undefined) step.approval = attributes.approval;
    const unique = new Map(inputs.filter((ref) => scope.earlier.has(ref.step)).map((ref) => [outputRefText(ref), ref]));
    if (unique.size > 0) step.inputs = [...unique.values()];
    if (step.statementKind === undefined) delete step.statementKind;
    if (step.request === undefined) delete step.request;
    if (step.values === undefined) delete step.values;
    return step;
  }
}

/** Every string in a parsed request, keys' values only (templates live there). */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(stringsOf);
  return [];
}

/** The step names of a runbook's blocks, in order, as the parser will name them. */
function stepNames(tokens: ReturnType<typeof md.parse>, body: string[]): Set<string> {
  const names = new Set<string>();
  let index = 0;
  for (const token of tokens) {
    if (token.type !== 'fence' || !token.map) continue;
    const raw = body[token.map[0]];
    const info = raw.slice(Math.max(0, raw.indexOf(token.markup)) + token.markup.length);
    const lang = /^\s*([^\s{]*)/.exec(info)!;
    if (!LANGUAGES.includes(lang[1] as StepLanguage)) continue;
    index++;
    names.add(parseAttributes(info.slice(lang[0].length)).attributes.name ?? `step-${index}`);
  }
  return names;
}

/** A fence is closed when its last line is a closing marker at least as long as the opening one. */
function isClosed(lastLine: string | undefined, markup: string, hasBody: boolean): boolean {
  if (lastLine === undefined || !hasBody) return false;
  const rest = lastLine.replace(/^[\s>]*/, '');
  let n = 0;
  while (rest[n] === markup[0]) n++;
  return n >= markup.length && rest.slice(n).trim() === '';
}

function proseSection(lines: string[], from: number, to: number, lineOffset: number): Section | undefined {
  while (from < to && lines[from].trim() === '') from++;
  while (to > from && lines[to - 1].trim() === '') to--;
  if (from >= to) return undefined;
  return { kind: 'prose', markdown: lines.slice(from, to).join('\n'), line: lineOffset + from + 1 };
}

/**
 * Parses a runbook. `file` is used in problems (as given: the CLI prints it); `options.id` is the
 * runbook's id in its folder. The runbook is returned whenever its structure could be read, also
 * with problems; it is valid only when `problems` is empty. Steps whose operation cannot be read
 * are left out of `steps` (their text stays in the prose).
 */
export function parseRunbook(text: string, file: string, options: { id?: string } = {}): { runbook?: Runbook; problems: RunbookProblem[] } {
  if (text.length > MAX_RUNBOOK_CHARS) {
    return { problems: [{ file, line: 1, column: 1, message: `the runbook is ${text.length} characters long; at most ${MAX_RUNBOOK_CHARS} are read: split it` }] };
  }
  const source = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const lines = source.split('\n');
  const problems: RunbookProblem[] = [];
  const split = splitFrontMatter(lines, file);
  problems.push(...split.problems);
  let meta: FrontMatter = { tags: [], params: [], access: defaultAccess() };
  if (split.yaml !== undefined) {
    const read = readFrontMatter(split.yaml, file, 2);
    meta = read.meta;
    problems.push(...read.problems);
  }

  const offset = split.bodyStart;
  const body = lines.slice(offset);
  const sections: Section[] = [];
  let heading: string | undefined;
  let firstH1: string | undefined;
  let proseFrom = 0;
  let index = 0;
  const tokens = md.parse(body.join('\n'), {});
  const parser = new RunbookParser(file, meta, stepNames(tokens, body));

  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t];
    if (token.type === 'heading_open') {
      heading = plainText(tokens[t + 1]?.content ?? '') || undefined;
      if (token.tag === 'h1' && firstH1 === undefined) firstH1 = heading;
      continue;
    }
    if (token.type !== 'fence' || !token.map) continue;
    const [from, to] = token.map;
    const raw = body[from];
    const markerAt = Math.max(0, raw.indexOf(token.markup));
    const line = offset + from + 1;
    const contentLines = token.content.split('\n').slice(0, -1);
    const closed = isClosed(body[to - 1], token.markup, to - 1 > from);
    if (!closed) {
      problems.push({ file, line, column: markerAt + 1, message: `this ${token.markup} fence is never closed: add a closing ${token.markup} line after its last line` });
    }
    const info = raw.slice(markerAt + token.markup.length);
    const lang = /^\s*([^\s{]*)/.exec(info)!;
    const language = lang[1] as StepLanguage;
    if (!LANGUAGES.includes(language)) {
      const lower = lang[1].toLowerCase();
      if (LANGUAGES.includes(lower as StepLanguage)) {
        problems.push({
          file,
          line,
          column: markerAt + token.markup.length + lang[0].length - lang[1].length + 1,
          message: `write the language in lower case, \`${lower}\`, or the block is not run`,
        });
      }
      continue;
    }
    index++;
    // An unclosed block swallows the rest of the file: checking it as a request would only add noise.
    if (!closed) continue;
    const attributesAt = markerAt + token.markup.length + lang[0].length;
    const step = parser.step(
      {
        language,
        content: token.content,
        line,
        column: markerAt + 1,
        attributes: raw.slice(attributesAt),
        attributesColumn: attributesAt + 1,
        columnOffsets: contentLines.map((content, i) => {
          const rawLine = body[from + 1 + i] ?? '';
          return rawLine.endsWith(content) ? rawLine.length - content.length : 0;
        }),
        index,
      },
      heading,
    );
    if (!step) continue;
    parser.steps.push(step);
    parser.earlier.add(step.name);
    const prose = proseSection(body, proseFrom, from, offset);
    if (prose) sections.push(prose);
    sections.push({ kind: 'step', step: step.name });
    proseFrom = to;
  }
  const tail = proseSection(body, proseFrom, body.length, offset);
  if (tail) sections.push(tail);
  problems.push(...parser.problems);

  const runbook: Runbook = {
    file,
    title: meta.title ?? firstH1 ?? basename(file).replace(/\.md$/i, ''),
    tags: meta.tags,
    params: meta.params,
    access: meta.access,
    sections,
    steps: parser.steps,
  };
  if (options.id !== undefined) runbook.id = options.id;
  if (meta.description !== undefined) runbook.description = meta.description;
  if (meta.redact && meta.redact.length > 0) runbook.redact = meta.redact;
  return { runbook, problems: sortProblems(problems) };
}
