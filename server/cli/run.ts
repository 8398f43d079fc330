/**
 * `runbooks run FILE`: the run engine, headless. Against the local sandbox by default (the nearest
 * sandbox.yaml), against AWS with `--aws`. Progress goes to stderr; results to stdout as tables, or
 * as one JSON document with `--json`. Exit 0: every step it ran succeeded; 1: a step failed or
 * could not run; 2: bad input (runbook, parameters, flags).
 */
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { isRbError, RbError } from '../errors.js';
import { coerceParams } from '../runbook/params.js';
import type { Run, StepExecution } from '../runs/types.js';
import type { RunEngine } from '../runs/engine.js';
import { formatTable } from './table.js';
import { openTarget, parseParamFlags, prepareRunbook, reportBadInput, type TargetOptions } from './target.js';

export interface RunOptions extends TargetOptions {
  param: string[];
  step: string[];
  yes?: boolean;
  json?: boolean;
  transcript?: string;
  user?: string;
  waitApproval?: string;
  notebookUrl?: string;
}

/** `30s`, `10m`, `1h` (or plain seconds) as milliseconds; undefined when it is none of those. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,6})(s|m|h)?$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 's' | 'm' | 'h'];
}

interface StepOutcome {
  name: string;
  status: 'succeeded' | 'failed' | 'skipped';
  execution?: StepExecution;
  error?: { code: string; message: string };
}

const TRANSCRIPT_FORMATS: Record<string, 'md' | 'json' | 'html'> = { '.md': 'md', '.json': 'json', '.html': 'html' };

export async function runCommand(file: string, opts: RunOptions): Promise<number> {
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  let prepared;
  try {
    if (opts.transcript && !TRANSCRIPT_FORMATS[extname(opts.transcript)]) {
      throw new RbError('RB_ERR_CLI_USAGE', `--transcript ${opts.transcript}: the file must end in .md, .json or .html.`);
    }
    prepared = await prepareRunbook(file, opts);
  } catch (err) {
    return reportBadInput(err);
  }
  const { runbook, runbookId, source } = prepared;
  // Parameters are checked before anything starts: bad input costs no sandbox and no session.
  let params: Record<string, string>;
  try {
    if (opts.waitApproval !== undefined && parseDuration(opts.waitApproval) === undefined) {
      throw new RbError('RB_ERR_CLI_USAGE', `--wait-approval ${opts.waitApproval}: give a duration such as 30s, 10m or 1h.`);
    }
    params = parseParamFlags(opts.param);
    const { errors } = coerceParams(runbook.params, params);
    if (errors.length > 0) throw new RbError('RB_ERR_PARAM_INVALID', `Invalid parameters for ${file}:`, { params: errors });
  } catch (err) {
    return reportBadInput(err);
  }
  const names = opts.step.length > 0 ? opts.step : runbook.steps.map((s) => s.name);
  const unknown = names.filter((n) => !runbook.steps.some((s) => s.name === n));
  if (unknown.length > 0) {
    const known = runbook.steps.map((s) => s.name).join(', ');
    return reportBadInput(new RbError('RB_ERR_STEP_NOT_FOUND', `No step named ${unknown.map((n) => JSON.stringify(n)).join(', ')} in ${file}; its steps are: ${known}.`));
  }

  const target = await openTarget(file, opts, progress).catch((err: unknown) => ({ failed: err }));
  if ('failed' in target) return reportBadInput(target.failed);
  const { engine } = target;

  let exitCode = 0;
  try {
    let run: Run;
    try {
      run = await engine.startRun({ runbook, runbookId, source, params, user: opts.user ?? defaultUser(), roleArn: opts.role });
    } catch (err) {
      return reportBadInput(err);
    }
    progress(`run ${run.id}: ${runbook.title} (${names.length} step${names.length === 1 ? '' : 's'})`);

    const outcomes: StepOutcome[] = [];
    let stopped = false;
    for (const name of names) {
      const step = runbook.steps.find((s) => s.name === name)!;
      if (stopped) {
        outcomes.push({ name, status: 'skipped' });
        continue;
      }
      if (step.needsApproval && opts.waitApproval === undefined) {
        // A second person's approval needs the notebook: wait for it with --wait-approval.
        const error = {
          code: 'RB_ERR_RUN_APPROVAL_REQUIRED',
          message: `Step ${name} needs the approval of another person: pass --wait-approval 10m to request it and wait while an approver decides in the notebook of a server on this data folder, or run it from the notebook.`,
        };
        progress(`step ${name}: skipped — ${error.message}`);
        outcomes.push({ name, status: 'skipped', error });
        exitCode = 1;
        stopped = true;
        continue;
      }
      let confirm = Boolean(opts.yes);
      if (step.write && !confirm) {
        confirm = await confirmAtTerminal(engine, run.id, name);
        if (!confirm) {
          const error = { code: 'RB_ERR_RUN_CONFIRM_REQUIRED', message: `Step ${name} writes data and was not confirmed: pass --yes, or run at a terminal to be asked.` };
          progress(`step ${name}: not run — ${error.message}`);
          outcomes.push({ name, status: 'skipped', error });
          exitCode = 1;
          stopped = true;
          continue;
        }
      }
      if (step.needsApproval) {
        const refusal = await waitForApproval(engine, run, name, confirm, parseDuration(opts.waitApproval!)!, opts.notebookUrl, progress);
        if (refusal) {
          progress(`step ${name}: not run — ${refusal.message}`);
          outcomes.push({ name, status: 'failed', error: refusal });
          exitCode = 1;
          stopped = true;
          continue;
        }
      }
      progress(`step ${name}: running ${step.operation}${step.write ? ' (write)' : ''}…`);
      try {
        const execution = await engine.executeStep(run.id, name, { user: run.user, confirm });
        if (execution.status === 'succeeded') {
          progress(
            `step ${name}: ${execution.count} item${execution.count === 1 ? '' : 's'}${execution.hasMore ? ' (more pages not fetched: raise maxItems)' : ''} in ${execution.durationMs} ms`,
          );
          outcomes.push({ name, status: 'succeeded', execution });
        } else {
          progress(`step ${name}: failed — ${execution.error?.awsCode ? `${execution.error.awsCode}: ` : ''}${execution.error?.message}`);
          outcomes.push({ name, status: 'failed', execution, error: execution.error });
          exitCode = 1;
          stopped = true;
        }
      } catch (err) {
        const error = isRbError(err) ? { code: err.code, message: err.message } : { code: 'RB_ERR_INTERNAL', message: 'The step failed unexpectedly.' };
        progress(`step ${name}: failed — ${error.message}`);
        outcomes.push({ name, status: 'failed', error });
        exitCode = 1;
        stopped = true;
      }
    }

    const completed = await engine.complete(run.id, { user: run.user });
    progress(`run ${run.id} ${completed.status}: ${completed.revocation?.sessions ?? 0} session(s) revoked${completed.revocation?.iam === 'done' ? ' (IAM deny in place)' : ''}`);
    // Every item, read back from the run store a page at a time, for the tables, --json and the transcript.
    const ended = await engine.withAllItems(run.id);
    for (const o of outcomes) {
      const n = o.execution?.n;
      if (n !== undefined) o.execution = ended.executions.find((e) => e.step === o.name && e.n === n) ?? o.execution;
    }

    if (opts.json) {
      process.stdout.write(`${JSON.stringify(jsonReport(ended, outcomes))}\n`);
    } else {
      printTables(
        runbook.steps.map((s) => s.name),
        outcomes,
      );
    }
    if (opts.transcript) {
      const { renderTranscript } = await import('../runs/transcript.js');
      await writeFile(opts.transcript, renderTranscript(ended, engine.runbookOf(run.id) ?? runbook, TRANSCRIPT_FORMATS[extname(opts.transcript)], engine.sourceOf(run.id)));
      progress(`transcript written to ${opts.transcript}`);
    }
  } finally {
    await target.close();
  }
  return exitCode;
}

/** The `--json` document (README, "The command line"). */
function jsonReport(run: Run, outcomes: StepOutcome[]) {
  return {
    run: { id: run.id, runbook: run.runbook, user: run.user, status: run.status, params: run.params, ...(run.redact ? { redact: run.redact } : {}) },
    steps: outcomes.map((o) => ({
      name: o.name,
      status: o.status,
      items: o.execution?.items ?? [],
      count: o.execution?.count ?? 0,
      ...(o.execution?.scannedCount !== undefined ? { scannedCount: o.execution.scannedCount } : {}),
      ...(o.execution?.attributes !== undefined ? { attributes: o.execution.attributes } : {}),
      ...(o.error ? { error: { code: o.error.code, message: o.error.message, ...('awsCode' in o.error && o.error.awsCode ? { awsCode: o.error.awsCode } : {}) } } : {}),
      ...(o.execution?.session ? { session: { assumedRoleId: o.execution.session.assumedRoleId, expiration: o.execution.session.expiration } } : {}),
      ...(o.execution?.policy ? { policy: o.execution.policy } : {}),
    })),
  };
}

function printTables(order: string[], outcomes: StepOutcome[]): void {
  const byName = new Map(outcomes.map((o) => [o.name, o]));
  for (const name of order) {
    const o = byName.get(name);
    if (!o) continue;
    process.stdout.write(`\n## ${name}: ${o.status}\n`);
    if (o.error) process.stdout.write(`${o.error.code}: ${o.error.message}\n`);
    if (o.execution && o.execution.status === 'succeeded') {
      const rows = o.execution.items.length > 0 ? o.execution.items : o.execution.attributes ? [o.execution.attributes] : [];
      process.stdout.write(rows.length > 0 ? `${formatTable(rows, process.stdout.columns, o.execution)}\n` : '(no items)\n');
    }
  }
}

/** At a terminal, shows what a write step will send and asks; elsewhere the answer is no. */
async function confirmAtTerminal(engine: RunEngine, runId: string, step: string): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return false;
  const { request } = await engine.previewStep(runId, step);
  process.stderr.write(`\nStep ${step} will write:\n${JSON.stringify(request, null, 2)}\n`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question('Run this write? [y/N] ');
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/**
 * Requests a step's approval and waits until an approver has decided it (through a server on the
 * same data folder, which appends the decision to this run's journal). Undefined once approved;
 * otherwise why the step will not run.
 */
async function waitForApproval(
  engine: RunEngine,
  run: Run,
  step: string,
  confirm: boolean,
  waitMs: number,
  notebookUrl: string | undefined,
  progress: (line: string) => void,
): Promise<{ code: string; message: string } | undefined> {
  try {
    await engine.executeStep(run.id, step, { user: run.user, confirm: false });
  } catch (err) {
    if (!isRbError(err) || (err.code !== 'RB_ERR_RUN_APPROVAL_REQUIRED' && err.code !== 'RB_ERR_RUN_CONFIRM_REQUIRED')) {
      return isRbError(err) ? { code: err.code, message: err.message } : { code: 'RB_ERR_INTERNAL', message: 'The approval could not be requested.' };
    }
  }
  const where = notebookUrl ? `${notebookUrl.replace(/\/$/, '')}/#/runs/${run.id}` : `#/runs/${run.id} in the notebook of a server on this data folder`;
  progress(`step ${step}: waiting up to ${Math.round(waitMs / 1000)} s for another person's approval — ${where}`);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const approval = (await engine.refreshRun(run.id)).approvals[step];
    if (approval?.status === 'approved') {
      progress(`step ${step}: approved by ${approval.decidedBy}${approval.comment ? ` (${approval.comment})` : ''}`);
      return confirm ? undefined : { code: 'RB_ERR_RUN_CONFIRM_REQUIRED', message: `Step ${step} was approved but writes data: pass --yes to run it.` };
    }
    if (approval && approval.status !== 'pending') {
      return {
        code: 'RB_ERR_RUN_APPROVAL_REQUIRED',
        message: `Step ${step} was not approved: its approval is ${approval.status}${approval.decidedBy ? ` (by ${approval.decidedBy})` : ''}.`,
      };
    }
    if (Date.now() >= deadline)
      return {
        code: 'RB_ERR_RUN_APPROVAL_REQUIRED',
        message: `Step ${step} waited ${Math.round(waitMs / 1000)} s for approval without a decision; completing the run cancels the request.`,
      };
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function defaultUser(): string {
  return process.env.USER || process.env.LOGNAME || 'cli';
}
