/**
 * Transcripts of a run (docs/api.md, "Transcripts"): Markdown (the runbook with each step's outcome under its
 * block, readable on GitHub), JSON (everything), HTML (self-contained, from a Handlebars template
 * with every value escaped), and CSV of one execution's items. Each carries who, when, the
 * parameters, every execution's request, policy, session id, timings and results, and the audit
 * hash of the run's last record. A run holds no credential, so neither does a transcript.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import MarkdownIt from 'markdown-it';
import { plainText, renderProse } from '../runbook/prose.js';
import type { Runbook, Step } from '../runbook/types.js';
import { columnsOf, hintsOf, inColumnOrder, orderColumns } from './columns.js';
import type { Run, StepExecution } from './types.js';

export type TranscriptFormat = 'md' | 'json' | 'html';

export const TRANSCRIPT_TYPES: Record<TranscriptFormat, string> = {
  md: 'text/markdown; charset=utf-8',
  json: 'application/json; charset=utf-8',
  html: 'text/html; charset=utf-8',
};

/** What a transcript says of a redacted run's masks (docs/format.md, "Redaction"). */
const REDACT_NOTE = 'values masked where DynamoDB returned them, never kept';

/** Renders the transcript of a run; `runbook` (when still known) supplies the prose and step sources. */
export function renderTranscript(run: Run, runbook: Runbook | undefined, format: TranscriptFormat, source?: { text: string; sha256: string }): string {
  if (format === 'json') return `${JSON.stringify(jsonTranscript(run, runbook, source), null, 2)}\n`;
  if (format === 'md') return markdownTranscript(run, runbook);
  return htmlTranscript(run, runbook);
}

// ---------------------------------------------------------------------------------------------
// Shared: the runbook's order of sections, with each step's executions under it.

type Part = { kind: 'prose'; markdown: string } | { kind: 'step'; name: string; step?: Step; executions: StepExecution[] };

function parts(run: Run, runbook: Runbook | undefined): Part[] {
  const byStep = new Map<string, StepExecution[]>();
  for (const e of run.executions) byStep.set(e.step, [...(byStep.get(e.step) ?? []), e]);
  const out: Part[] = [];
  const shown = new Set<string>();
  if (runbook) {
    const steps = new Map(runbook.steps.map((s) => [s.name, s]));
    for (const section of runbook.sections) {
      if (section.kind === 'prose') {
        out.push({ kind: 'prose', markdown: section.markdown });
      } else {
        shown.add(section.step);
        out.push({ kind: 'step', name: section.step, step: steps.get(section.step), executions: byStep.get(section.step) ?? [] });
      }
    }
  }
  // Executions of steps the runbook no longer has (or no runbook at all): in the order they ran.
  for (const [name, executions] of byStep) {
    if (!shown.has(name)) out.push({ kind: 'step', name, executions });
  }
  return out;
}

function jsonTranscript(run: Run, runbook: Runbook | undefined, source?: { text: string; sha256: string }): unknown {
  return {
    transcript: { format: 'dynamodb-runbooks', version: 1, timeZone: 'UTC' },
    // Each item's attributes in the column order of every other output.
    run: { ...run, executions: run.executions.map((e) => withItemsInColumnOrder(e)) },
    runbook: runbook
      ? {
          id: runbook.id ?? run.runbook,
          title: runbook.title,
          ...(runbook.description !== undefined ? { description: runbook.description } : {}),
          tags: runbook.tags,
          params: runbook.params,
          access: runbook.access,
          steps: runbook.steps.map((s) => ({
            name: s.name,
            title: s.title,
            language: s.language,
            operation: s.operation,
            write: s.write,
            needsApproval: s.needsApproval,
            line: s.line,
            source: s.source,
          })),
          // The runbook exactly as the run ran it.
          ...(source?.text ? { sha256: source.sha256, text: source.text } : {}),
        }
      : null,
    auditHash: run.auditHash ?? null,
  };
}

function withItemsInColumnOrder(e: StepExecution): StepExecution {
  if (e.items.length === 0) return e;
  const columns = resultColumns(e);
  return { ...e, items: e.items.map((item) => inColumnOrder(item, columns)) };
}

/** Columns of an execution's items, by the one rule every output follows (columns.ts). */
export function resultColumns(execution: StepExecution, items: Iterable<Record<string, unknown>> = execution.items): string[] {
  return columnsOf(items, hintsOf(execution));
}

/** A value as one line of text: strings as they are, numbers and booleans as written, the rest as JSON. */
function cellText(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? '';
}

/**
 * A recorded time as ISO 8601 in UTC (`…Z`). Runs record UTC already; a time with another offset is
 * given in UTC too, and one without a zone (none is recorded so) is read as UTC, never as local time.
 */
function utc(time: string | undefined): string {
  if (!time) return '';
  const zoned = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(time);
  const ms = Date.parse(zoned ? time : `${time}Z`);
  return Number.isNaN(ms) ? time : new Date(ms).toISOString();
}

/** What every Markdown and HTML transcript says about its times. */
const TIMES_NOTE = 'Times are UTC, in ISO 8601 (the Z suffix).';

function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? 'null';
}

function durationText(ms: number | undefined): string {
  return ms === undefined ? '' : `${ms} ms`;
}

function statusLine(run: Run): string {
  return run.endReason && run.endReason !== 'complete' ? `${run.status} (${run.endReason})` : run.status;
}

// ---------------------------------------------------------------------------------------------
// CSV

// Spreadsheet programs run a cell that starts with one of these as a formula (CSV injection).
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One execution's items as CSV (RFC 4180: CRLF line ends, fields with `"`, `,`, CR or LF quoted,
 * quotes doubled). Columns are the union of attribute names in the order of columns.ts; a missing
 * attribute is an empty field, nested values are JSON. Text cells (header
 * included) that start with `=`, `+`, `-`, `@`, tab or CR get a leading `'` so that a spreadsheet
 * shows them instead of evaluating them; numbers and booleans are written as they are.
 *
 * In pieces, for an execution of any size: `items()` is read twice, a page at a time — once for the
 * columns, once for the rows — so memory holds a page, not the result.
 */
export async function* stepCsvChunks(execution: StepExecution, items: () => AsyncIterable<Record<string, unknown>>): AsyncGenerator<string> {
  const seen = new Set<string>();
  for await (const item of items()) for (const name of Object.keys(item)) seen.add(name);
  const columns = orderColumns(seen, hintsOf(execution));
  if (columns.length === 0) return;
  yield `${columns.map((c) => csvField(c, true)).join(',')}\r\n`;
  let batch: string[] = [];
  for await (const item of items()) {
    batch.push(`${columns.map((c) => csvField(item[c], false)).join(',')}\r\n`);
    if (batch.length >= 500) {
      yield batch.join('');
      batch = [];
    }
  }
  if (batch.length > 0) yield batch.join('');
}

function csvField(value: unknown, header: boolean): string {
  let text = header ? String(value) : cellText(value);
  const guarded = header || (typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'bigint');
  if (guarded && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

// ---------------------------------------------------------------------------------------------
// Markdown

/** Escapes text for a Markdown line or table cell: no markup, no raw HTML, no table breaks. */
function md(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|~])/g, '\\$1')
    .replace(/\r\n|\r|\n/g, '<br>');
}

/** Inline code that its content cannot close: a longer backtick run, spaced when needed. */
function code(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  const pad = longest > 0 ? ' ' : '';
  return `${ticks}${pad}${text.replace(/\r\n|\r|\n/g, ' ')}${pad}${ticks}`;
}

/** A fenced block whose fence is longer than any backtick run inside, so content cannot close it. */
function fence(content: string, info = ''): string {
  const longest = Math.max(0, ...[...content.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(Math.max(3, longest + 1));
  return `${ticks}${info}\n${content.replace(/\n$/, '')}\n${ticks}`;
}

function mdTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

// Block structure only (code blocks and headings): prose is parsed here, never rendered.
const blocks = new MarkdownIt('default', { html: false });

const AUTOLINK =
  /^<(?:(?:https?|mailto):[^\s<>]*|[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)>/i;

/**
 * Runbook prose for the Markdown transcript: as written, but with every `<` outside code written
 * `&lt;`, so that raw HTML in it (`<script>`, `<img onerror>`) reads as text wherever the file is
 * rendered, as it does in the notebook and the HTML transcript. Code blocks and code spans keep
 * their `<` (they show it as text anyway), as do autolinks to http(s) and mail addresses.
 */
export function inertProse(markdown: string): string {
  const lines = markdown.split('\n');
  const code = new Set<number>();
  for (const token of blocks.parse(markdown, {})) {
    if ((token.type === 'fence' || token.type === 'code_block') && token.map) {
      for (let i = token.map[0]; i < token.map[1]; i++) code.add(i);
    }
  }
  return lines.map((line, i) => (code.has(i) ? line : inertLine(line))).join('\n');
}

/**
 * One line outside code blocks: backslash escapes and code spans as CommonMark reads them, `<`
 * escaped elsewhere. Only spans that close on the same line are kept: a span over several lines has
 * its `<` escaped too, which shows `&lt;` in that code but never lets markup through.
 */
function inertLine(line: string): string {
  let out = '';
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === '\\' && i + 1 < line.length) {
      out += line.slice(i, i + 2);
      i += 2;
    } else if (c === '`') {
      let n = 1;
      while (line[i + n] === '`') n++;
      const close = closingRun(line, i + n, n);
      const end = close < 0 ? i + n : close + n;
      out += line.slice(i, end);
      i = end;
    } else if (c === '<') {
      const link = AUTOLINK.exec(line.slice(i));
      out += link ? link[0] : '&lt;';
      i += link ? link[0].length : 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Where the next backtick run of exactly `n` starts (a code span's end), or -1. */
function closingRun(line: string, from: number, n: number): number {
  for (let j = from; j < line.length;) {
    if (line[j] !== '`') {
      j++;
      continue;
    }
    let m = 1;
    while (line[j + m] === '`') m++;
    if (m === n) return j;
    j += m;
  }
  return -1;
}

function markdownTranscript(run: Run, runbook: Runbook | undefined): string {
  const out: string[] = [];
  out.push(`# ${md(run.title)}`, '');
  out.push(`Transcript of run ${code(run.id)} of runbook ${code(run.runbook)}. ${TIMES_NOTE}`, '');
  const facts: string[][] = [
    ['Run', code(run.id)],
    ['Runbook', code(run.runbook)],
    ['User', md(run.user)],
    ['Status', md(statusLine(run))],
    ['Started', utc(run.startedAt)],
    ['Ended', utc(run.endedAt)],
    ['Role', code(run.roleArn)],
  ];
  if (run.revocation) {
    facts.push([
      'Sessions revoked',
      md(`${run.revocation.sessions} at ${utc(run.revocation.at)}; IAM deny: ${run.revocation.iam}${run.revocation.error ? ` (${run.revocation.error})` : ''}`),
    ]);
  }
  if (run.redact) facts.push(['Redacted', md(`${run.redact.join(', ')} (${REDACT_NOTE})`)]);
  facts.push(['Audit hash', run.auditHash ? code(run.auditHash) : '']);
  out.push(mdTable(['', ''], facts), '');

  out.push('## Parameters', '');
  const params = Object.entries(run.params);
  out.push(
    params.length === 0
      ? 'None.'
      : mdTable(
          ['Parameter', 'Value'],
          params.map(([k, v]) => [md(k), md(cellText(v))]),
        ),
    '',
  );

  out.push('## Runbook', '');
  for (const part of parts(run, runbook)) {
    if (part.kind === 'prose') {
      out.push(inertProse(part.markdown.trim()), '');
      continue;
    }
    if (!part.step) out.push(`### Step ${code(part.name)}`, '');
    else out.push(fence(part.step.source, `${part.step.language} {"name":"${part.step.name}"}`), '');
    if (part.executions.length === 0) out.push(`*Step ${code(part.name)} was not executed in this run.*`, '');
    for (const e of part.executions) out.push(...markdownExecution(e));
  }

  const approvals = allApprovals(run);
  if (approvals.length > 0) {
    out.push('## Approvals', '');
    out.push(
      mdTable(
        ['Step', 'Status', 'Requested by', 'Rendered at', 'Decided by', 'Decided at', 'Comment', 'Used by', 'Used at', 'Note'],
        approvals.map((a) => [
          code(a.step),
          a.status,
          md(a.requestedBy),
          utc(a.renderedAt ?? a.requestedAt),
          md(a.decidedBy ?? ''),
          utc(a.decidedAt),
          md(a.comment ?? ''),
          md(a.usedBy ?? ''),
          a.usedAt ? `${utc(a.usedAt)}${a.execution ? ` (execution ${a.execution})` : ''}` : '',
          md(a.reason ?? ''),
        ]),
      ),
      '',
    );
  }
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

function markdownExecution(e: StepExecution): string[] {
  const out: string[] = [];
  out.push(`**Outcome of ${code(e.step)}, execution ${e.n}: ${e.status}**`, '');
  const facts = [
    `- by ${md(e.user)} at ${utc(e.startedAt)}${e.durationMs !== undefined ? `, ${durationText(e.durationMs)}` : ''}`,
    `- items: ${e.count}${e.scannedCount !== undefined ? ` (scanned ${e.scannedCount})` : ''}, pages: ${e.pages}${e.hasMore ? ', more pages not fetched' : ''}`,
  ];
  if (e.confirmed) facts.push('- write confirmed by the user');
  if (e.session) {
    facts.push(`- session ${code(e.session.assumedRoleId)}, expires ${utc(e.session.expiration)}${e.session.revoked ? ', revoked' : ''}`);
  }
  if (e.error) facts.push(`- error ${code(e.error.code)}${e.error.awsCode ? ` (${md(e.error.awsCode)})` : ''}: ${md(e.error.message)}`);
  if (e.consumedCapacity !== undefined) facts.push(`- consumed capacity: ${code(cellText(e.consumedCapacity))}`);
  for (const input of e.inputs ?? [])
    facts.push(`- value from an earlier step: ${code(`{{${input.ref}}}`)} = ${code(cellText(input.value))} (execution ${input.n} of ${code(input.step)})`);
  out.push(...facts, '');
  out.push('<details><summary>Request</summary>', '', fence(pretty(e.request.input), 'json'), '', '</details>', '');
  if (e.policy !== undefined) out.push('<details><summary>Session policy</summary>', '', fence(pretty(e.policy), 'json'), '', '</details>', '');
  if (e.attributes !== undefined) out.push('Returned attributes:', '', fence(pretty(e.attributes), 'json'), '');
  if (e.revertOf !== undefined) out.push(`Reverts execution ${e.revertOf} of ${code(e.step)}.`, '');
  if (e.revertedBy !== undefined) out.push(`Reverted by execution ${e.revertedBy} of ${code(e.step)}.`, '');
  for (const view of imageViews(e)) {
    out.push(`Item ${code(view.key)} in ${code(view.table)}: ${md(view.summary)}`, '');
    if (view.rows.length > 0)
      out.push(
        mdTable(
          ['Attribute', 'Change', 'Before', 'After'],
          view.rows.map((r) => [md(r.attribute), r.change, md(r.before), md(r.after)]),
        ),
        '',
      );
  }
  if (e.images && 'unavailable' in e.images) out.push(`No before-image: ${md(e.images.unavailable)}`, '');
  const columns = resultColumns(e);
  if (columns.length > 0) {
    out.push(
      mdTable(
        columns.map(md),
        e.items.map((item) => columns.map((c) => md(cellText(item[c])))),
      ),
      '',
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// HTML

// The template sits beside this file in the sources; the compiled file (dist/server/runs/) finds it
// through the package root, where the sources are shipped.
function templatePath(): string {
  const candidates = [new URL('./templates/transcript.hbs', import.meta.url), new URL('../../../server/runs/templates/transcript.hbs', import.meta.url)];
  for (const url of candidates) {
    const path = fileURLToPath(url);
    if (existsSync(path)) return path;
  }
  throw new Error('The transcript template server/runs/templates/transcript.hbs is missing from the installation.');
}

interface CompiledTemplate {
  render: (view: unknown) => string;
  csp: string;
}

let compiled: CompiledTemplate | undefined;

/** The HTML template and the Content-Security-Policy that admits its one inline style sheet by hash. */
function template(): CompiledTemplate {
  if (compiled) return compiled;
  const source = readFileSync(templatePath(), 'utf8');
  const style = /<style>([\s\S]*?)<\/style>/.exec(source);
  if (!style) throw new Error('The transcript template has no <style> element.');
  const hash = createHash('sha256').update(style[1], 'utf8').digest('base64');
  const csp = `default-src 'none'; style-src 'sha256-${hash}'; img-src data:; base-uri 'none'; form-action 'none'`;
  // A private instance: no helpers or partials but the built-in if/each; escaping stays on.
  const hbs = Handlebars.create();
  const fn = hbs.compile(source, { knownHelpersOnly: true, knownHelpers: { if: true, each: true, unless: true } });
  compiled = { render: (view) => fn(view), csp };
  return compiled;
}

/** The Content-Security-Policy of an HTML transcript (also sent as a header when served). */
export function transcriptCsp(): string {
  return template().csp;
}

function htmlTranscript(run: Run, runbook: Runbook | undefined): string {
  const t = template();
  const view = {
    csp: t.csp,
    title: run.title,
    timesNote: TIMES_NOTE,
    run: {
      id: run.id,
      runbook: run.runbook,
      user: run.user,
      status: statusLine(run),
      startedAt: utc(run.startedAt),
      endedAt: utc(run.endedAt),
      roleArn: run.roleArn,
      auditHash: run.auditHash ?? '',
      redact: run.redact ? `${run.redact.join(', ')} (${REDACT_NOTE})` : '',
      revocation: run.revocation
        ? `${run.revocation.sessions} session(s) at ${utc(run.revocation.at)}; IAM deny: ${run.revocation.iam}${run.revocation.error ? ` (${run.revocation.error})` : ''}`
        : '',
    },
    params: Object.entries(run.params).map(([name, value]) => ({ name, value: cellText(value) })),
    parts: htmlParts(run, runbook).map((part) =>
      part.kind === 'prose'
        ? { prose: true, html: part.html }
        : {
            prose: false,
            name: part.name,
            title: part.step?.title ?? part.name,
            intro: part.intro,
            language: part.step?.language ?? '',
            source: part.step?.source ?? '',
            executions: part.executions.map((e) => {
              const columns = resultColumns(e);
              return {
                n: e.n,
                status: e.status,
                failed: e.status === 'failed',
                user: e.user,
                startedAt: utc(e.startedAt),
                duration: durationText(e.durationMs),
                count: e.count,
                scannedCount: e.scannedCount ?? '',
                pages: e.pages,
                hasMore: e.hasMore,
                confirmed: e.confirmed,
                session: e.session ? { id: e.session.assumedRoleId, expiration: utc(e.session.expiration), revoked: e.session.revoked } : undefined,
                error: e.error ? { code: e.error.code, awsCode: e.error.awsCode ?? '', message: e.error.message } : undefined,
                consumedCapacity: e.consumedCapacity !== undefined ? cellText(e.consumedCapacity) : '',
                request: pretty(e.request.input),
                operation: e.request.operation,
                policy: e.policy !== undefined ? pretty(e.policy) : '',
                attributes: e.attributes !== undefined ? pretty(e.attributes) : '',
                revertOf: e.revertOf ?? '',
                revertedBy: e.revertedBy ?? '',
                inputs: (e.inputs ?? []).map((input) => ({ ref: `{{${input.ref}}}`, value: cellText(input.value), step: input.step, n: input.n })),
                images: imageViews(e),
                noImages: e.images && 'unavailable' in e.images ? e.images.unavailable : '',
                columns,
                rows: e.items.map((item) => columns.map((c) => cellText(item[c]))),
              };
            }),
          },
    ),
    approvals: allApprovals(run).map((a) => ({
      step: a.step,
      status: a.status,
      requestedBy: a.requestedBy,
      requestedAt: utc(a.requestedAt),
      decidedBy: a.decidedBy ?? '',
      decidedAt: utc(a.decidedAt),
      comment: a.comment ?? '',
      renderedAt: utc(a.renderedAt ?? a.requestedAt),
      usedBy: a.usedBy ?? '',
      usedAt: a.usedAt ? `${utc(a.usedAt)}${a.execution ? ` (execution ${a.execution})` : ''}` : '',
      reason: a.reason ?? '',
    })),
  };
  return t.render(view);
}

type HtmlPart = { kind: 'prose'; html: string } | (Extract<Part, { kind: 'step' }> & { intro: string });

/**
 * The runbook's parts with the prose rendered as the notebook renders it (server/runbook/prose.ts:
 * markdown-it with raw HTML shown as text, links and images to http(s), mailto and fragments only),
 * arranged as the notebook arranges it: a heading that is the run's title is not repeated under
 * the transcript's own, and a step's heading becomes the title of its section, the text under it
 * the section's introduction. Headings move one level down, under the transcript's "Runbook".
 */
function htmlParts(run: Run, runbook: Runbook | undefined): HtmlPart[] {
  const list = parts(run, runbook);
  const titles = new Set([run.title, runbook?.title].filter((t): t is string => Boolean(t)));
  const out: HtmlPart[] = [];
  let intro = '';
  let first = true;
  list.forEach((part, k) => {
    if (part.kind === 'step') {
      out.push({ ...part, intro });
      intro = '';
      return;
    }
    const next = list[k + 1];
    const split = splitProse(part.markdown.trim(), first ? titles : new Set(), next?.kind === 'step' ? next.step?.title : undefined);
    first = false;
    if (split.before) out.push({ kind: 'prose', html: split.before });
    intro = split.intro;
  });
  return out;
}

/** Prose as HTML before the step's heading, and the step's introduction after it. */
function splitProse(markdown: string, titles: ReadonlySet<string>, stepTitle: string | undefined): { before: string; intro: string } {
  const lines = markdown.split('\n');
  const tokens = blocks.parse(markdown, {});
  const headings: Array<{ tag: string; text: string; map: [number, number] }> = [];
  tokens.forEach((token, k) => {
    if (token.type === 'heading_open' && token.level === 0 && token.map) headings.push({ tag: token.tag, text: plainText(tokens[k + 1]?.content ?? ''), map: token.map });
  });
  const last = headings.at(-1);
  const cut = stepTitle !== undefined && last?.text === stepTitle ? last : undefined;
  const title = headings[0]?.tag === 'h1' && titles.has(headings[0].text) && headings[0] !== cut ? headings[0] : undefined;
  const kept = lines.slice(0, cut ? cut.map[0] : lines.length).filter((_, i) => !title || i < title.map[0] || i >= title.map[1]);
  return { before: proseHtml(kept.join('\n')), intro: cut ? proseHtml(lines.slice(cut.map[1]).join('\n')) : '' };
}

function proseHtml(markdown: string): string {
  if (markdown.trim() === '') return '';
  // Headings one level down; markdown-it writes every tag itself (raw HTML is off), so a tag here is its own.
  return renderProse(markdown).replace(/<(\/?)h([1-6])>/g, (_, slash: string, level: string) => `<${slash}h${Math.min(6, Number(level) + 1)}>`);
}

/** Every approval of the run, earlier ones first: a step approved, used and approved again shows twice. */
function allApprovals(run: Run) {
  return [...(run.pastApprovals ?? []), ...Object.values(run.approvals)];
}

/**
 * A write's before and after, item by item, for the Markdown and HTML transcripts: a summary line
 * and one row per changed attribute (the JSON transcript has the images whole).
 */
function imageViews(e: StepExecution): Array<{ table: string; key: string; summary: string; rows: Array<{ attribute: string; change: string; before: string; after: string }> }> {
  if (!e.images || 'unavailable' in e.images) return [];
  return e.images.items.map((item) => {
    const summary =
      item.after === undefined
        ? `before: ${item.before === null ? 'no item' : cellText(item.before)}`
        : item.before === null && item.after === null
          ? 'no item before or after'
          : item.before === null
            ? 'created'
            : item.after === null
              ? 'deleted'
              : (item.diff ?? []).length === 0
                ? 'unchanged'
                : `${(item.diff ?? []).length} attribute(s) changed`;
    const rows = (item.diff ?? []).map((d) => ({
      attribute: d.attribute,
      change: d.change,
      before: d.before === undefined ? '' : cellText(d.before),
      after: d.after === undefined ? '' : cellText(d.after),
    }));
    return { table: item.table, key: cellText(item.key), summary, rows };
  });
}
