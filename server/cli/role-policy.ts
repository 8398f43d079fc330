/**
 * The role policy a set of runbooks needs, without parameter values (`runbooks policy PATH…`): each
 * step is rendered with placeholders for its parameters and for the earlier steps' outputs it uses,
 * and its session policy derived without key schemas, so every resource is the table or index ARN
 * without `dynamodb:LeadingKeys` (the sessions narrow that per step at run time). Table and index
 * names cannot be templates (docs/format.md), so placeholders never change what a step touches.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { deriveSessionPolicy, describeTablePolicy, minimalRolePolicy, tablesOf, type PolicyDocument } from '../access/derive-policy.js';
import { accountOfRoleArn } from '../aws/arn.js';
import { needsKeySchema } from '../access/key-schema-needs.js';
import { RbError } from '../errors.js';
import { listRunbooks, loadRunbookFile } from '../runbook/load.js';
import { renderStep } from '../runbook/render.js';
import type { StepOutputs } from '../runbook/templates.js';
import type { ParamDecl, ParamValues, Runbook, RunbookProblem, Step } from '../runbook/types.js';
import { findSandboxFile, type TargetOptions } from './target.js';

const PRINCIPAL_ARN = /^arn:aws[\w-]*:(?:iam|sts)::\d{12}:(?:root|role\/[\w+=,.@/-]+|user\/[\w+=,.@/-]+|assumed-role\/[\w+=,.@/-]+)$/;

/** A value of the parameter's type that every helper accepts. */
function placeholder(decl: ParamDecl): string | number | boolean {
  switch (decl.type) {
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    case 'enum':
      return decl.values?.[0] ?? 'x';
    case 'date':
      return '2026-01-01';
    case 'datetime':
      return '2026-01-01T00:00:00Z';
    default:
      return 'x';
  }
}

/** Stand-ins for the earlier steps' outputs a step uses: a string at every path, a list for `all`. */
export function placeholderOutputs(step: Step): StepOutputs {
  const outputs: StepOutputs = {};
  for (const ref of step.inputs ?? []) {
    const output = (outputs[ref.step] ??= {});
    if (ref.kind === 'all') {
      (output.all ??= {})[ref.path[0]] = ['x'];
      continue;
    }
    let node = (output.first ??= {});
    ref.path.forEach((key, i) => {
      if (i === ref.path.length - 1) node[key] ??= 'x';
      else node = (node[key] ??= {}) as Record<string, unknown>;
    });
  }
  return outputs;
}

/** The trust policy that lets the server's principal assume the role and name the session's user. */
export function trustPolicy(principal: string): PolicyDocument & Record<string, unknown> {
  if (!PRINCIPAL_ARN.test(principal)) {
    throw new RbError(
      'RB_ERR_CLI_USAGE',
      `--trust ${JSON.stringify(principal)}: the ARN of the principal the server runs as (arn:aws:iam::<account>:role/<name>, a user, or the account's root).`,
    );
  }
  return {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession'] }],
  } as unknown as PolicyDocument & Record<string, unknown>;
}

/** Every runbook under the paths (files, or folders searched recursively), refusing any with problems. */
async function runbooksOf(paths: string[]): Promise<Array<{ id: string; runbook: Runbook }>> {
  const found: Array<{ id: string; runbook: Runbook }> = [];
  const problems: RunbookProblem[] = [];
  for (const path of paths) {
    let folder: boolean;
    try {
      folder = statSync(path).isDirectory();
    } catch {
      throw new RbError('RB_ERR_CLI_USAGE', `${path}: no such file or folder.`);
    }
    const loaded = folder ? await listRunbooks(path) : [{ id: path.replace(/\.md$/, ''), file: path, ...(await loadRunbookFile(path)) }];
    for (const l of loaded) {
      problems.push(...l.problems);
      if (l.runbook && l.problems.length === 0) found.push({ id: l.id, runbook: l.runbook });
    }
  }
  if (problems.length > 0) {
    const lines = problems.map((p) => `${p.file}:${p.line}:${p.column}: error: ${p.message}`);
    throw new RbError(
      'RB_ERR_RUNBOOK_INVALID',
      `${lines.join('\n')}\n${problems.length} error${problems.length === 1 ? '' : 's'}; fix them (runbooks check) before deriving their policy.`,
    );
  }
  if (found.length === 0) throw new RbError('RB_ERR_CLI_USAGE', `No runbooks in ${paths.join(', ')}.`);
  return found;
}

export async function rolePolicyOf(paths: string[], opts: TargetOptions): Promise<{ runbooks: string[]; roles?: string[]; rolePolicy: PolicyDocument }> {
  const runbooks = await runbooksOf(paths);
  const declared = [...new Set(runbooks.flatMap(({ runbook }) => (runbook.access.role ? [runbook.access.role] : [])))];
  const sandboxFile = opts.aws ? undefined : findSandboxFile(resolve(paths[0], statSync(paths[0]).isDirectory() ? 'x.md' : ''), opts);
  let region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  let account = accountOfRoleArn(opts.role ?? declared[0] ?? '');
  if (sandboxFile) {
    const { loadSandboxFile } = await import('../sandbox/index.js');
    const config = loadSandboxFile(sandboxFile);
    region ??= config.region;
    account ??= config.account;
  }
  if (!region) throw new RbError('RB_ERR_CLI_USAGE', 'Name the region the tables are in: AWS_REGION=eu-west-1 (or a sandbox.yaml above the runbooks).');
  if (!account)
    throw new RbError('RB_ERR_CLI_USAGE', 'Name the account the tables are in: --role arn:aws:iam::<account>:role/<name> (or access.role in the runbooks, or a sandbox.yaml).');
  const scope = { region, account };
  const policies: PolicyDocument[] = [];
  for (const { runbook } of runbooks) {
    const values: ParamValues = Object.fromEntries(runbook.params.map((p) => [p.name, placeholder(p)]));
    for (const step of runbook.steps) {
      const request = renderStep(step, values, new Date(), placeholderOutputs(step));
      policies.push(deriveSessionPolicy(request, { ...scope, partitionKeys: {} }));
      // The engine looks key schemas up (DescribeTable) to pin dynamodb:LeadingKeys.
      if (needsKeySchema(request)) policies.push(...tablesOf(request).map((t) => describeTablePolicy(t, scope)));
    }
  }
  return { runbooks: runbooks.map((r) => r.id), ...(declared.length > 0 ? { roles: declared } : {}), rolePolicy: minimalRolePolicy(policies) };
}
