/**
 * `runbooks policy runbooks/`: one role policy for every sample runbook, without parameter values,
 * proven sufficient by running every step of every sample with a role that holds that policy and
 * nothing else — in a sandbox of its own, so the writes touch no other test's data — and proven
 * minimal in the one way that matters here: take one of its actions away and a step is refused.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRbError } from '../../server/errors.js';
import { listRunbooks } from '../../server/runbook/load.js';
import type { RunEngine } from '../../server/runs/engine.js';
import type { StepExecution } from '../../server/runs/types.js';
import { loadSandboxFile, startSandbox, type Sandbox } from '../../server/cli/local-sandbox.js';
import { requireBuild, runCli } from '../helpers/cli.js';
import { sandboxEngine } from '../helpers/engine.js';

const SAMPLES = fileURLToPath(new URL('../../runbooks', import.meta.url));
const PARAMS: Record<string, Record<string, string>> = {
  'customers/hold-order-by-email': { email: 'grace@example.com' },
  'customers/lookup-customer': { customerId: 'C1001', email: 'ada@example.com' },
  'orders/fix-stuck-order': { customerId: 'C1001', orderId: 'C9', orderDate: '2026-11-25', ticket: 'SUP-1' },
  'orders/orders-by-status': {},
  'orders/recent-orders': { customerId: 'C1001' },
  'orders/stuck-pending-scan': {},
  'payments/payments-for-order': { orderId: 'C9' },
};

interface Policy {
  Version: string;
  Statement: Array<{ Effect: string; Action: string[]; Resource: string[] }>;
}

describe('runbooks policy on a folder', () => {
  let printed: { runbooks: string[]; rolePolicy: Policy; trustPolicy: unknown };
  let sandbox: Sandbox;
  let dataDir: string;
  let engine: RunEngine;

  beforeAll(async () => {
    requireBuild();
    const r = await runCli(['policy', SAMPLES, '--trust', 'arn:aws:iam::000000000000:role/runbooks-server']);
    expect(r.code, r.stderr).toBe(0);
    printed = JSON.parse(r.stdout);
    const config = loadSandboxFile(join(SAMPLES, 'sandbox.yaml'));
    // The same policy without UpdateItem: what a step is refused when the role lacks one action.
    const short: Policy = {
      ...printed.rolePolicy,
      Statement: printed.rolePolicy.Statement.map((s) => ({ ...s, Action: s.Action.filter((a) => a !== 'dynamodb:UpdateItem') })).filter((s) => s.Action.length > 0),
    };
    sandbox = await startSandbox({
      config: {
        ...config,
        roles: [
          { name: 'printed-policy', maxSessionDuration: 3600, policies: [printed.rolePolicy as never] },
          { name: 'without-update', maxSessionDuration: 3600, policies: [short as never] },
        ],
      },
    });
    dataDir = await mkdtemp(join(tmpdir(), 'rb-policy-folder-'));
    engine = await sandboxEngine(sandbox, { dataDir });
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    await sandbox?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Every step of a sample in order, approved by a second person where it needs it. */
  async function runAll(id: string, roleArn?: string): Promise<StepExecution[]> {
    const loaded = (await listRunbooks(SAMPLES)).find((r) => r.id === id)!;
    const run = await engine.startRun({ runbook: loaded.runbook!, source: loaded.text!, runbookId: id, params: PARAMS[id], user: 'alice', ...(roleArn ? { roleArn } : {}) });
    const out: StepExecution[] = [];
    for (const step of loaded.runbook!.steps) {
      const execute = () => engine.executeStep(run.id, step.name, { user: 'alice', confirm: true });
      const first = await execute().catch((err: unknown) => err);
      if (isRbError(first) && first.code === 'RB_ERR_RUN_APPROVAL_REQUIRED') {
        await engine.decideApproval(run.id, step.name, { user: 'bob', approve: true });
        out.push(await execute());
      } else if (first instanceof Error) {
        throw first;
      } else {
        out.push(first as StepExecution);
      }
    }
    await engine.complete(run.id, { user: 'alice' });
    return out;
  }

  it('prints one role policy, without conditions, and the trust policy for the server', () => {
    expect(printed.runbooks).toEqual(Object.keys(PARAMS));
    expect(JSON.stringify(printed.rolePolicy)).not.toContain('Condition');
    expect(printed.trustPolicy).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:role/runbooks-server' }, Action: ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession'] }],
    });
  });

  it('lets every step of every sample run with a role holding only that policy', async () => {
    for (const id of Object.keys(PARAMS)) {
      const executions = await runAll(id);
      expect(
        executions.map((e) => [e.step, e.status, e.error?.awsCode ?? null]),
        id,
      ).toEqual(executions.map((e) => [e.step, 'succeeded', null]));
    }
  });

  it('is what the steps need: without UpdateItem, the write of a sample is refused by IAM', async () => {
    const executions = await runAll('orders/fix-stuck-order', sandbox.roles[1].arn);
    expect(executions.map((e) => [e.step, e.status, e.error?.awsCode ?? null])).toEqual([
      ['read-order', 'succeeded', null],
      ['captured-payment', 'succeeded', null],
      ['set-pending', 'failed', 'AccessDeniedException'],
    ]);
  });
});
