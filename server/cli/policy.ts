/**
 * `runbooks policy PATH… [--trust ARN]`: the minimal role policy the runbooks need (the union of
 * every step's actions by resource, without conditions), as JSON an admin pastes into IAM; PATHs
 * are files or folders, and no parameter values are needed (./role-policy.ts). With `--trust ARN`
 * also the role's trust policy for the server's principal.
 *
 * `runbooks policy FILE -p k=v…` adds each step's session policy as the engine would derive it for
 * those values. Key schemas (for `dynamodb:LeadingKeys`) come from the sandbox file's tables; with
 * `--aws`, from DescribeTable through scoped sessions, as in a run.
 */
import { deriveSessionPolicy, describeTablePolicy, minimalRolePolicy, tablesOf, type PolicyDocument } from '../access/derive-policy.js';
import { accountOfRoleArn } from '../aws/arn.js';
import { needsKeySchema } from '../access/key-schema-needs.js';
import { RbError } from '../errors.js';
import { coerceParams } from '../runbook/params.js';
import { renderStep } from '../runbook/render.js';
import type { RenderedRequest } from '../runbook/types.js';
import { placeholderOutputs, rolePolicyOf, trustPolicy } from './role-policy.js';
import { findSandboxFile, openTarget, parseParamFlags, prepareRunbook, reportBadInput, type TargetOptions } from './target.js';

export interface PolicyOptions extends TargetOptions {
  param: string[];
  /** the server's principal, for the role's trust policy */
  trust?: string;
}

interface StepPolicy {
  name: string;
  operation: string;
  write: boolean;
  request: RenderedRequest;
  policy: PolicyDocument;
}

export async function policyCommand(paths: string[], opts: PolicyOptions): Promise<number> {
  try {
    const trust = opts.trust === undefined ? undefined : trustPolicy(opts.trust);
    if (opts.param.length === 0) {
      const out = await rolePolicyOf(paths, opts);
      process.stdout.write(`${JSON.stringify({ ...out, ...(trust ? { trustPolicy: trust } : {}) }, null, 2)}\n`);
      return 0;
    }
    if (paths.length !== 1) throw new RbError('RB_ERR_CLI_USAGE', `--param values are for one runbook file; without them, ${paths.length} paths get one role policy.`);
    const [file] = paths;
    const { runbook, runbookId, source } = await prepareRunbook(file, opts);
    const raw = parseParamFlags(opts.param);
    let steps: StepPolicy[];
    let roleArn: string;
    let region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    if (opts.aws) {
      const target = await openTarget(file, opts, (l) => process.stderr.write(`${l}\n`));
      try {
        const run = await target.engine.startRun({ runbook, runbookId, source, params: raw, user: process.env.USER || 'cli', roleArn: opts.role });
        roleArn = run.roleArn;
        steps = [];
        for (const step of runbook.steps) {
          const { request, policy } = await target.engine.previewStep(run.id, step.name);
          steps.push({ name: step.name, operation: step.operation, write: step.write, request, policy });
        }
        await target.engine.complete(run.id, { user: run.user });
      } finally {
        await target.close();
      }
    } else {
      const { values, errors } = coerceParams(runbook.params, raw);
      if (errors.length > 0) {
        throw new RbError('RB_ERR_PARAM_INVALID', 'Invalid parameters (the policy depends on them):', { params: errors });
      }
      const sandboxFile = findSandboxFile(file, opts);
      if (!sandboxFile) throw new RbError('RB_ERR_CONFIG_INVALID', `No sandbox.yaml in ${file}'s folder or above it: pass --sandbox-file PATH, or --aws.`);
      const { loadSandboxFile } = await import('../sandbox/index.js');
      const config = loadSandboxFile(sandboxFile);
      const partitionKeys: Record<string, string> = {};
      for (const { input } of config.tables) {
        const keySchema = (input.KeySchema ?? []) as Array<{ AttributeName: string; KeyType: string }>;
        const hash = keySchema.find((k) => k.KeyType === 'HASH');
        if (hash) partitionKeys[input.TableName] = hash.AttributeName;
      }
      roleArn = opts.role ?? runbook.access.role ?? `arn:aws:iam::${config.account}:role/${config.roles[0].name}`;
      region = config.region;
      const account = accountOfRoleArn(roleArn) ?? config.account;
      steps = runbook.steps.map((step) => {
        // A step's values from earlier steps are not known before a run: placeholders stand for them.
        const request = renderStep(step, values, new Date(), step.inputs ? placeholderOutputs(step) : undefined);
        return { name: step.name, operation: step.operation, write: step.write, request, policy: deriveSessionPolicy(request, { region: config.region, account, partitionKeys }) };
      });
    }
    const scope = { region, account: accountOfRoleArn(roleArn) ?? '000000000000' };
    const out = {
      runbook: runbookId,
      role: roleArn,
      steps: steps.map(({ name, operation, write, policy }) => ({ name, operation, write, policy })),
      // The role must also allow the DescribeTable lookups that pin dynamodb:LeadingKeys.
      rolePolicy: minimalRolePolicy([
        ...steps.map((s) => s.policy),
        ...steps.filter((s) => needsKeySchema(s.request)).flatMap((s) => tablesOf(s.request).map((t) => describeTablePolicy(t, scope))),
      ]),
      ...(trust ? { trustPolicy: trust } : {}),
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  } catch (err) {
    return reportBadInput(err);
  }
}
