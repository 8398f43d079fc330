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
import type { Runbook, Step } from '../runbook/types.js';
import type { Run, StepExecution } from './types.js';

export type TranscriptFormat = 'md' | 'json' | 'html';

export const TRANSCRIPT_TYPES: Record<TranscriptFormat, string> = {
  md: 'text/markdown; charset=utf-8',
  json: 'application/json; charset=utf-8',
  html: 'text/html; charset=utf-8',
};

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
    transcript: { format: 'dynamodb-runbooks', version: 1 },
    run,
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

/** Columns of a result table: the key attributes first (when the request names them), then the rest as they appear. */
export function resultColumns(execution: StepExecution, items: Iterable<Record<string, unknown>> = execution.items): string[] {
  const order = new Set<string>();
  for (const item of items) for (const name of Object.keys(item)) order.add(name);
  return orderColumns(execution, [...order]);
}

/** Attribute names in first-seen order, the key attributes first. */
function orderColumns(execution: StepExecution, names: string[]): string[] {
  const present = new Set(names);
  const keys = keyNames(execution).filter((k) => present.has(k));
  return [...keys, ...names.filter((n) => !keys.includes(n))];
}

// Key attribute names: the table's (from its schema, when the engine read it), else those the
// request itself reveals: its Key, or the names in a KeyConditionExpression.
function keyNames(execution: StepExecution): string[] {
  if (execution.keys) return execution.keys;
  const input = execution.request.input as Record<string, unknown>;
  if (isPlainObject(input.Key)) return Object.keys(input.Key);
  if (typeof input.KeyConditionExpression === 'string') {
    const names = isPlainObject(input.ExpressionAttributeNames) ? (input.ExpressionAttributeNames as Record<string, unknown>) : {};
    const out: string[] = [];
    for (const m of input.KeyConditionExpression.matchAll(/(?<![:\w])(#?[A-Za-z_][\w]*)/g)) {
      const token = m[1];
      if (/^(AND|BETWEEN|begins_with)$/i.test(token)) continue;
      const name = token.startsWith('#') ? names[token] : token;
      if (typeof name === 'string' && !out.includes(name)) out.push(name);
    }
    return out;
  }
  return [];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value as one line of text: strings as they are, numbers and booleans as written, the rest as JSON. */
function cellText(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? '';
}

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
 * quotes doubled). Columns are the union of attribute names, key attributes first when the request
 * names them; a missing attribute is an empty field, nested values are JSON. Text cells (header
 * included) that start with `=`, `+`, `-`, `@`, tab or CR get a leading `'` so that a spreadsheet
 * shows them instead of evaluating them; numbers and booleans are written as they are.
 *
 * In pieces, for an execution of any size: `items()` is read twice, a page at a time — once for the
 * columns, once for the rows — so memory holds a page, not the result.
 */
export async function* stepCsvChunks(execution: StepExecution, items: () => AsyncIterable<Record<string, unknown>>): AsyncGenerator<string> {
  const seen = new Set<string>();
  for await (const item of items()) for (const name of Object.keys(item)) seen.add(name);
  const columns = orderColumns(execution, [...seen]);
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

function markdownTranscript(run: Run, runbook: Runbook | undefined): string {
  const out: string[] = [];
  out.push(`# ${md(run.title)}`, '');
  out.push(`Transcript of run ${code(run.id)} of runbook ${code(run.runbook)}.`, '');
  const facts: string[][] = [
    ['Run', code(run.id)],
    ['Runbook', code(run.runbook)],
    ['User', md(run.user)],
    ['Status', md(statusLine(run))],
    ['Started', run.startedAt],
    ['Ended', run.endedAt ?? ''],
    ['Role', code(run.roleArn)],
  ];
  if (run.revocation) {
    facts.push(['Sessions revoked', md(`${run.revocation.sessions} at ${run.revocation.at}; IAM deny: ${run.revocation.iam}${run.revocation.error ? ` (${run.revocation.error})` : ''}`)]);
  }
  facts.push(['Audit hash', run.auditHash ? code(run.auditHash) : '']);
  out.push(mdTable(['', ''], facts), '');

  out.push('## Parameters', '');
  const params = Object.entries(run.params);
  out.push(params.length === 0 ? 'None.' : mdTable(['Parameter', 'Value'], params.map(([k, v]) => [md(k), md(cellText(v))])), '');

  out.push('## Runbook', '');
  for (const part of parts(run, runbook)) {
    if (part.kind === 'prose') {
      out.push(part.markdown.trim(), '');
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
          a.renderedAt ?? a.requestedAt,
          md(a.decidedBy ?? ''),
          a.decidedAt ?? '',
          md(a.comment ?? ''),
          md(a.usedBy ?? ''),
          a.usedAt ? `${a.usedAt}${a.execution ? ` (execution ${a.execution})` : ''}` : '',
          md(a.reason ?? ''),
        ]),
      ),
      '',
    );
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

function markdownExecution(e: StepExecution): string[] {
  const out: string[] = [];
  out.push(`**Outcome of ${code(e.step)}, execution ${e.n}: ${e.status}**`, '');
  const facts = [
    `- by ${md(e.user)} at ${e.startedAt}${e.durationMs !== undefined ? `, ${durationText(e.durationMs)}` : ''}`,
    `- items: ${e.count}${e.scannedCount !== undefined ? ` (scanned ${e.scannedCount})` : ''}, pages: ${e.pages}${e.hasMore ? ', more pages not fetched' : ''}`,
  ];
  if (e.confirmed) facts.push('- write confirmed by the user');
  if (e.session) {
    facts.push(`- session ${code(e.session.assumedRoleId)}, expires ${e.session.expiration}${e.session.revoked ? ', revoked' : ''}`);
  }
  if (e.error) facts.push(`- error ${code(e.error.code)}${e.error.awsCode ? ` (${md(e.error.awsCode)})` : ''}: ${md(e.error.message)}`);
  if (e.consumedCapacity !== undefined) facts.push(`- consumed capacity: ${code(cellText(e.consumedCapacity))}`);
  out.push(...facts, '');
  out.push('<details><summary>Request</summary>', '', fence(pretty(e.request.input), 'json'), '', '</details>', '');
  if (e.policy !== undefined) out.push('<details><summary>Session policy</summary>', '', fence(pretty(e.policy), 'json'), '', '</details>', '');
  if (e.attributes !== undefined) out.push('Returned attributes:', '', fence(pretty(e.attributes), 'json'), '');
  if (e.revertOf !== undefined) out.push(`Reverts execution ${e.revertOf} of ${code(e.step)}.`, '');
  if (e.revertedBy !== undefined) out.push(`Reverted by execution ${e.revertedBy} of ${code(e.step)}.`, '');
  for (const view of imageViews(e)) {
    out.push(`Item ${code(view.key)} in ${code(view.table)}: ${md(view.summary)}`, '');
    if (view.rows.length > 0) out.push(mdTable(['Attribute', 'Change', 'Before', 'After'], view.rows.map((r) => [md(r.attribute), r.change, md(r.before), md(r.after)])), '');
  }
  if (e.images && 'unavailable' in e.images) out.push(`No before-image: ${md(e.images.unavailable)}`, '');
  const columns = resultColumns(e);
  if (columns.length > 0) {
    out.push(mdTable(columns.map(md), e.items.map((item) => columns.map((c) => md(cellText(item[c]))))), '');
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
    run: {
      id: run.id,
      runbook: run.runbook,
      user: run.user,
      status: statusLine(run),
      startedAt: run.startedAt,
      endedAt: run.endedAt ?? '',
      roleArn: run.roleArn,
      auditHash: run.auditHash ?? '',
      revocation: run.revocation
        ? `${run.revocation.sessions} session(s) at ${run.revocation.at}; IAM deny: ${run.revocation.iam}${run.revocation.error ? ` (${run.revocation.error})` : ''}`
        : '',
    },
    params: Object.entries(run.params).map(([name, value]) => ({ name, value: cellText(value) })),
    parts: parts(run, runbook).map((part) =>
      part.kind === 'prose'
        ? { prose: true, text: part.markdown.trim() }
        : {
            prose: false,
            name: part.name,
            title: part.step?.title ?? part.name,
            language: part.step?.language ?? '',
            source: part.step?.source ?? '',
            executions: part.executions.map((e) => {
              const columns = resultColumns(e);
              return {
                n: e.n,
                status: e.status,
                failed: e.status === 'failed',
                user: e.user,
                startedAt: e.startedAt,
                duration: durationText(e.durationMs),
                count: e.count,
                scannedCount: e.scannedCount ?? '',
                pages: e.pages,
                hasMore: e.hasMore,
                confirmed: e.confirmed,
                session: e.session ? { id: e.session.assumedRoleId, expiration: e.session.expiration, revoked: e.session.revoked } : undefined,
                error: e.error ? { code: e.error.code, awsCode: e.error.awsCode ?? '', message: e.error.message } : undefined,
                consumedCapacity: e.consumedCapacity !== undefined ? cellText(e.consumedCapacity) : '',
                request: pretty(e.request.input),
                operation: e.request.operation,
                policy: e.policy !== undefined ? pretty(e.policy) : '',
                attributes: e.attributes !== undefined ? pretty(e.attributes) : '',
                revertOf: e.revertOf ?? '',
                revertedBy: e.revertedBy ?? '',
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
      requestedAt: a.requestedAt,
      decidedBy: a.decidedBy ?? '',
      decidedAt: a.decidedAt ?? '',
      comment: a.comment ?? '',
      renderedAt: a.renderedAt ?? a.requestedAt,
      usedBy: a.usedBy ?? '',
      usedAt: a.usedAt ? `${a.usedAt}${a.execution ? ` (execution ${a.execution})` : ''}` : '',
      reason: a.reason ?? '',
    })),
  };
  return t.render(view);
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
