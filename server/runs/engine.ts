/**
 * The run lifecycle: a run starts with validated parameters, its steps execute in any order and any
 * number of times (writes only when confirmed, approvals where the runbook asks), and it ends —
 * completed, idle-expired, at shutdown, or found interrupted after a crash. Ending revokes every
 * session the run was issued: the credentials are forgotten at once and, with IAM revocation on, an
 * inline deny for `<role id>:rb-<run>-*` is put on each role used.
 *
 * Each execution gets its own STS session whose policy is derived from the rendered request alone.
 * Credentials live only inside broker Session objects held in memory here; run records, events,
 * audit records and errors name a session by its assumed-role id and expiry only.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { createBroker, forget, type Broker, type Session } from '../access/broker.js';
import { deriveSessionPolicy, tablesOf, type PolicyDocument } from '../access/derive-policy.js';
import { createKeySchemaCache, type KeySchemaCache } from '../access/key-schemas.js';
import { createIamRevoker, revokeRunSessions, type IamRevoker, type RoleSessions } from '../access/revocation.js';
import { sessionName } from '../access/session-name.js';
import { executeRequest, type Cursor } from '../dynamo/execute.js';
import { RbError, isRbError } from '../errors.js';
import { operations } from '../runbook/operations.js';
import { coerceParams } from '../runbook/params.js';
import { renderStep } from '../runbook/render.js';
import type { RenderedRequest, Runbook, Step } from '../runbook/types.js';
import * as approvals from './approvals.js';
import { AuditLog, type AuditEntry } from './audit.js';
import { openFileStore, type RunStore } from './store.js';
import type { Approval, EndReason, ExecutionError, Run, RunEvent, SessionInfo, StepExecution } from './types.js';

export interface EngineOptions {
  /** runs/<id>.json and audit.jsonl live here */
  dataDir: string;
  region: string;
  /** the account of table ARNs when a role ARN does not say (it always does) */
  account?: string;
  /** the sandbox's endpoint for STS, IAM and DynamoDB; absent means real AWS */
  endpoint?: string;
  /** the base principal; absent means the default AWS credential chain */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  defaultRoleArn: string;
  iamRevocation: boolean;
  /** complete runs with no activity for this long (default 1 hour) */
  idleTimeoutMs?: number;
  clock?: () => Date;
  /** where unexpected errors are reported (never to the user, whose message stays generic) */
  onInternalError?: (err: unknown) => void;
  /** the audit log's signing key file (default: see defaultAuditKeyPath in audit-key.ts) */
  auditKeyPath?: string;
}

interface LiveRun {
  runbook: Runbook;
  /** sessions issued to this run, credentials inside, forgotten at revocation */
  sessions: Session[];
  /** table → key schema, from DescribeTable through scoped sessions (cached per run) */
  keySchemas: KeySchemaCache;
  /** step → continuation of its last execution (each page gets a fresh session with the execution's policy) */
  cursors: Map<string, Cursor>;
  executionCounter: number;
  /** serialises the run's state changes */
  lock: Promise<unknown>;
}

const ROLE_ARN = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/;
const IDENTITY_CHARS = /[^\w+=,.@-]/g;

/** SourceIdentity and tag-safe form of a user name: `[\w+=,.@-]{2,64}`, as STS requires. */
export function sourceIdentityOf(user: string): string {
  const cleaned = user.replace(IDENTITY_CHARS, '-').slice(0, 64);
  return cleaned.length >= 2 ? cleaned : `${cleaned}--`.slice(0, 2);
}

function newRunId(): string {
  // Short, so that `rb-<run>-<step>` leaves room for the step name within STS's 64 characters.
  return randomBytes(5).toString('hex');
}

export class RunEngine {
  readonly events = new EventEmitter();
  private readonly runs = new Map<string, Run>();
  private readonly live = new Map<string, LiveRun>();
  private readonly broker: Broker;
  private readonly revoker?: IamRevoker;
  private readonly clock: () => Date;
  private idleTimer?: NodeJS.Timeout;

  private constructor(
    private readonly options: EngineOptions,
    private readonly store: RunStore,
    private readonly audit: AuditLog,
  ) {
    this.clock = options.clock ?? (() => new Date());
    const aws = { region: options.region, endpoint: options.endpoint, credentials: options.credentials };
    this.broker = createBroker(aws);
    if (options.iamRevocation) {
      this.revoker = createIamRevoker({ ...aws, onCutoff: (roleArn, issuedBefore) => this.broker.noteCutoff(roleArn, issuedBefore) });
    }
    this.events.setMaxListeners(0);
  }

  /** Opens the store and audit log, and ends runs a crash left active (marked `interrupted`, revoked). */
  static async create(options: EngineOptions): Promise<RunEngine> {
    const store = await openFileStore(options.dataDir);
    const audit = await AuditLog.open(options.dataDir, { clock: options.clock, keyPath: options.auditKeyPath, onError: options.onInternalError });
    const engine = new RunEngine(options, store, audit);
    for (const run of await store.loadAll()) engine.runs.set(run.id, run);
    for (const run of engine.listRuns()) {
      if (run.status === 'active') await engine.end(run, 'interrupted', 'system');
    }
    const idle = options.idleTimeoutMs ?? 3_600_000;
    if (idle > 0) {
      engine.idleTimer = setInterval(() => void engine.expireIdle(idle), Math.min(idle / 4, 30_000));
      engine.idleTimer.unref();
    }
    return engine;
  }

  /** Starts a run: parameters are validated and coerced against the runbook's declarations first. */
  async startRun(input: { runbook: Runbook; runbookId: string; params: Record<string, unknown>; user: string; roleArn?: string }): Promise<Run> {
    const { values, errors } = coerceParams(input.runbook.params, input.params);
    if (errors.length > 0) {
      const list = errors.map((e) => `${e.param}: ${e.message}`).join('; ');
      throw new RbError('RB_ERR_PARAM_INVALID', `Invalid parameters: ${list}`, { params: errors });
    }
    const roleArn = input.roleArn ?? input.runbook.access.role ?? this.options.defaultRoleArn;
    if (!ROLE_ARN.test(roleArn)) {
      throw new RbError('RB_ERR_CONFIG_INVALID', `The role ${JSON.stringify(roleArn)} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>).`);
    }
    const now = this.clock().toISOString();
    const run: Run = {
      id: newRunId(),
      runbook: input.runbookId,
      title: input.runbook.title,
      user: input.user,
      status: 'active',
      params: values,
      roleArn,
      startedAt: now,
      lastActivityAt: now,
      executions: [],
      approvals: {},
    };
    const sessions: Session[] = [];
    const keySchemas = createKeySchemaCache({
      broker: this.broker,
      region: this.options.region,
      endpoint: this.options.endpoint,
      roleArn,
      runId: run.id,
      account: accountOf(roleArn) ?? this.options.account ?? '000000000000',
      sourceIdentity: sourceIdentityOf(input.user),
      tags: { runbook: run.runbook, run: run.id, step: 'keys', user: sourceIdentityOf(input.user) },
      onSession: (session) => {
        sessions.push(session);
        this.noteSession(run, session).catch((err: unknown) => this.options.onInternalError?.(err));
      },
    });
    this.runs.set(run.id, run);
    this.live.set(run.id, {
      runbook: input.runbook,
      sessions,
      keySchemas,
      cursors: new Map(),
      executionCounter: 0,
      lock: Promise.resolve(),
    });
    await this.record(run, { type: 'run.started', runId: run.id, user: input.user, data: { runbook: run.runbook, params: values, roleArn } });
    this.emit({ type: 'run.started', run });
    return run;
  }

  /**
   * Executes one step: render, derive the policy, check confirmation and approval, assume a session
   * with that policy, run the request with it. Resolves with the execution whether it succeeded or
   * failed; throws only when nothing ran (bad state, confirmation or approval missing).
   */
  executeStep(runId: string, stepName: string, input: { user: string; confirm?: boolean }): Promise<StepExecution> {
    return this.locked(runId, async (run, live) => {
      const step = this.stepOf(live, stepName);
      let request: RenderedRequest;
      let policy: PolicyDocument;
      let approval: Approval | undefined;
      if (step.needsApproval) {
        // The approved request is frozen: it runs exactly as the approver saw it, never re-rendered.
        const ready = await this.approvalForExecution(run, live, step, input.user);
        if ('failed' in ready) return ready.failed;
        approval = ready.approval;
        request = approval.request;
        policy = approval.policy as PolicyDocument;
      } else {
        request = this.render(step, run);
        try {
          policy = await this.policyFor(run, live, request);
        } catch (err) {
          return this.failedBeforeRun(run, step, input.user, request, undefined, err);
        }
      }
      if (step.write && !input.confirm) {
        throw new RbError('RB_ERR_RUN_CONFIRM_REQUIRED', `Step ${step.name} writes data: confirm this execution to run it.`, { request, policy });
      }
      if (approval) {
        const n = run.executions.filter((e) => e.step === step.name).length + 1;
        await this.transition(run, approvals.markUsed(approval, { user: input.user, now: this.clock(), execution: n }), input.user);
      }
      return this.runStep(run, live, step, input, request, policy);
    });
  }

  /**
   * The approved request a step may run now, or a coded refusal: a closed (or absent) approval makes
   * a new pending request of a freshly rendered request; an expired or changed one is recorded as
   * such first. Never records a denial that no approver gave.
   */
  private async approvalForExecution(run: Run, live: LiveRun, step: Step, user: string): Promise<{ approval: Approval } | { failed: StepExecution }> {
    const now = this.clock();
    let approval = run.approvals[step.name];
    const expiry = approvals.expireIfDue(approval, now);
    if (expiry) approval = await this.transition(run, expiry, 'system');
    if (approval?.status === 'approved') {
      const stale = approvals.checkUsable(approval, { step, user, now });
      if (stale) approval = await this.transition(run, stale, 'system');
    }
    if (!approval || approvals.isClosed(approval)) {
      const request = this.render(step, run);
      let policy: PolicyDocument;
      try {
        policy = await this.policyFor(run, live, request);
      } catch (err) {
        return { failed: await this.failedBeforeRun(run, step, user, request, undefined, err) };
      }
      if (approval) (run.pastApprovals ??= []).push(approval);
      const ttlSeconds = live.runbook.access.approvalTtl ?? approvals.DEFAULT_APPROVAL_TTL_SECONDS;
      const requested = await this.transition(run, approvals.requestApproval({ step, user, now, ttlSeconds, request, policy }), user);
      const why = approval && approval.status !== 'used' && approval.status !== 'denied' ? ` (the previous one is ${approval.status})` : '';
      throw new RbError('RB_ERR_RUN_APPROVAL_REQUIRED', `Step ${step.name} needs the approval of another person; the request is now pending${why}.`, { approval: requested });
    }
    if (approval.status === 'pending') {
      throw new RbError('RB_ERR_RUN_APPROVAL_REQUIRED', `Step ${step.name} is waiting for approval (requested by ${approval.requestedBy}).`, { approval });
    }
    return { approval };
  }

  /** Stores an approval's next state, records its audit record, then announces it. */
  private async transition(run: Run, t: approvals.Transition, user: string): Promise<Approval> {
    run.approvals[t.approval.step] = t.approval;
    await this.record(run, { type: t.record.type, runId: run.id, user, data: t.record.data });
    const type = t.record.type === 'approval.requested' ? 'approval.requested' : t.record.type === 'approval.decided' ? 'approval.decided' : 'approval.updated';
    this.emit({ type, runId: run.id, step: t.approval.step, approval: t.approval });
    return t.approval;
  }

  /**
   * Fetches the next page(s) of a step's last execution, with a fresh session of the same derived
   * policy: a session can be refused by a revocation cutoff in between (docs/security.md).
   */
  more(runId: string, stepName: string, input: { user: string }): Promise<StepExecution> {
    return this.locked(runId, async (run, live) => {
      const step = this.stepOf(live, stepName);
      const execution = lastExecution(run, step.name);
      const cursor = live.cursors.get(step.name);
      if (!execution || !execution.hasMore || !cursor) {
        throw new RbError('RB_ERR_RUN_NO_MORE_PAGES', `Step ${step.name} has no further page: run it again to start over.`);
      }
      const started = performance.now();
      let sessionId: string | undefined;
      try {
        const policy = execution.policy as PolicyDocument;
        const session = await this.assume(run, live, step.name, policy, input.user);
        const { result, session: used } = await this.executeFresh(run, live, step.name, policy, input.user, session, execution.request, {
          region: this.options.region,
          endpoint: this.options.endpoint,
          maxItems: step.maxItems,
          cursor,
        });
        sessionId = used.assumedRoleId;
        execution.items.push(...result.items);
        execution.count += result.count;
        if (result.scannedCount !== undefined) execution.scannedCount = (execution.scannedCount ?? 0) + result.scannedCount;
        execution.consumedCapacity = mergeCapacity(execution.consumedCapacity, result.consumedCapacity);
        execution.hasMore = result.hasMore;
        execution.pages += 1;
        if (result.hasMore && result.cursor) live.cursors.set(step.name, result.cursor);
        else live.cursors.delete(step.name);
        await this.record(run, {
          type: 'step.page',
          runId: run.id,
          user: input.user,
          data: { step: step.name, n: execution.n, items: result.items.length, sessionId },
        });
      } catch (err) {
        execution.error = toExecutionError(err);
        execution.hasMore = false;
        live.cursors.delete(step.name);
        await this.record(run, { type: 'step.page', runId: run.id, user: input.user, data: { step: step.name, n: execution.n, error: execution.error, sessionId: sessionId ?? null } });
      }
      execution.durationMs = (execution.durationMs ?? 0) + Math.round(performance.now() - started);
      this.emit(execution.error ? { type: 'step.failed', runId: run.id, step: step.name, execution } : { type: 'step.succeeded', runId: run.id, step: step.name, execution });
      return execution;
    });
  }

  /** Another user's decision on a pending approval request. */
  decideApproval(runId: string, stepName: string, input: { user: string; approve: boolean; comment?: string }): Promise<Approval> {
    return this.locked(runId, async (run, live) => {
      const step = this.stepOf(live, stepName);
      const now = this.clock();
      const expiry = approvals.expireIfDue(run.approvals[step.name], now);
      if (expiry) {
        await this.transition(run, expiry, 'system');
        throw new RbError('RB_ERR_APPROVAL_EXPIRED', `The approval request of step ${step.name} expired at ${expiry.approval.expiresAt}; ${expiry.approval.requestedBy} can run the step again to request a new one.`, { approval: expiry.approval });
      }
      return this.transition(run, approvals.decide(run.approvals[step.name], { step: step.name, user: input.user, approve: input.approve, comment: input.comment, now }), input.user);
    });
  }

  /** Completes a run and revokes every session it was issued. */
  complete(runId: string, input: { user: string; reason?: EndReason }): Promise<Run> {
    return this.locked(runId, async (run) => {
      await this.end(run, input.reason ?? 'complete', input.user);
      return run;
    });
  }

  getRun(runId: string): Run | undefined {
    return this.runs.get(runId);
  }

  /** Runs, newest first. */
  listRuns(): Run[] {
    return [...this.runs.values()].sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
  }

  /**
   * The sessions an active run holds (plain data; credentials stay behind `credentialsOf` until
   * revocation forgets them). For diagnostics and for tests that prove what a session may do.
   */
  sessionsOf(runId: string): readonly Session[] {
    return this.live.get(runId)?.sessions ?? [];
  }

  runbookOf(runId: string): Runbook | undefined {
    return this.live.get(runId)?.runbook;
  }

  /** The rendered request and derived policy of a step, without running anything (for `runbooks policy`). */
  async previewStep(runId: string, stepName: string): Promise<{ request: RenderedRequest; policy: PolicyDocument }> {
    return this.locked(runId, async (run, live) => {
      const step = this.stepOf(live, stepName);
      const request = this.render(step, run);
      return { request, policy: await this.policyFor(run, live, request) };
    });
  }

  /** Ends every active run with reason `shutdown` (revoking its sessions) and closes the audit log. */
  async close(): Promise<void> {
    if (this.idleTimer) clearInterval(this.idleTimer);
    for (const run of this.listRuns()) {
      if (run.status === 'active') await this.locked(run.id, (r) => this.end(r, 'shutdown', 'system')).catch(() => undefined);
    }
    await this.audit.close();
    this.broker.destroy();
    this.revoker?.destroy();
  }

  // ---------------------------------------------------------------------------------------------

  private async runStep(run: Run, live: LiveRun, step: Step, input: { user: string; confirm?: boolean }, request: RenderedRequest, policy: PolicyDocument): Promise<StepExecution> {
    const execution: StepExecution = {
      n: run.executions.filter((e) => e.step === step.name).length + 1,
      step: step.name,
      user: input.user,
      status: 'running',
      startedAt: this.clock().toISOString(),
      request,
      policy,
      items: [],
      count: 0,
      hasMore: false,
      pages: 0,
      confirmed: Boolean(input.confirm),
    };
    run.executions.push(execution);
    live.cursors.delete(step.name);
    this.emit({ type: 'step.started', runId: run.id, step: step.name, n: execution.n, user: input.user });
    const started = performance.now();
    try {
      const first = await this.assume(run, live, step.name, policy, input.user);
      execution.session = sessionInfo(first, run.roleArn);
      this.emit({ type: 'session.issued', runId: run.id, step: step.name, session: execution.session });
      const { result, session } = await this.executeFresh(run, live, step.name, policy, input.user, first, request, {
        region: this.options.region,
        endpoint: this.options.endpoint,
        maxItems: step.maxItems,
      });
      if (session !== first) {
        execution.session = sessionInfo(session, run.roleArn);
        this.emit({ type: 'session.issued', runId: run.id, step: step.name, session: execution.session });
      }
      execution.items = result.items;
      execution.count = result.count;
      if (result.scannedCount !== undefined) execution.scannedCount = result.scannedCount;
      if (result.consumedCapacity !== undefined) execution.consumedCapacity = result.consumedCapacity;
      if (result.attributes !== undefined) execution.attributes = result.attributes;
      execution.hasMore = result.hasMore;
      execution.pages = 1;
      if (result.hasMore && result.cursor) live.cursors.set(step.name, result.cursor);
      const keys = execution.items.length > 0 ? await this.keyAttributes(live, request) : undefined;
      if (keys) execution.keys = keys;
      execution.status = 'succeeded';
    } catch (err) {
      execution.status = 'failed';
      execution.error = toExecutionError(err);
      if (!isRbError(err)) this.options.onInternalError?.(err);
    }
    execution.durationMs = Math.round(performance.now() - started);
    await this.record(run, {
      type: 'step.executed',
      runId: run.id,
      user: input.user,
      data: {
        step: step.name,
        n: execution.n,
        status: execution.status,
        write: step.write,
        confirmed: execution.confirmed,
        request,
        policy,
        sessionId: execution.session?.assumedRoleId ?? null,
        expiration: execution.session?.expiration ?? null,
        count: execution.count,
        error: execution.error ?? null,
      },
    });
    this.emit(
      execution.status === 'succeeded'
        ? { type: 'step.succeeded', runId: run.id, step: step.name, execution }
        : { type: 'step.failed', runId: run.id, step: step.name, execution },
    );
    return execution;
  }

  /** An execution that failed before its request could run (the key-schema lookup, for example). */
  private async failedBeforeRun(run: Run, step: Step, user: string, request: RenderedRequest, policy: unknown, err: unknown): Promise<StepExecution> {
    const execution: StepExecution = {
      n: run.executions.filter((e) => e.step === step.name).length + 1,
      step: step.name,
      user,
      status: 'failed',
      startedAt: this.clock().toISOString(),
      durationMs: 0,
      request,
      ...(policy !== undefined ? { policy } : {}),
      items: [],
      count: 0,
      hasMore: false,
      pages: 0,
      confirmed: false,
      error: toExecutionError(err),
    };
    run.executions.push(execution);
    await this.record(run, { type: 'step.executed', runId: run.id, user, data: { step: step.name, n: execution.n, status: 'failed', request, error: execution.error } });
    this.emit({ type: 'step.failed', runId: run.id, step: step.name, execution });
    return execution;
  }

  /**
   * The request exactly as it will be sent (and shown, confirmed, approved and audited): the
   * rendered step, asking for its consumed capacity (`TOTAL`) where the step does not say, so that
   * every cell can show what it cost.
   */
  private render(step: Step, run: Run): RenderedRequest {
    const request = renderStep(step, run.params, this.clock());
    const takesCapacity = request.operation === 'ExecuteStatement' || 'ReturnConsumedCapacity' in operations[request.operation].fields;
    if (!takesCapacity || (request.input as Record<string, unknown>).ReturnConsumedCapacity !== undefined) return request;
    return { ...request, input: { ...request.input, ReturnConsumedCapacity: 'TOTAL' } } as RenderedRequest;
  }

  /** The session policy of a request; key schemas come from DescribeTable through scoped sessions. */
  private async policyFor(run: Run, live: LiveRun, request: RenderedRequest): Promise<PolicyDocument> {
    const account = accountOf(run.roleArn) ?? this.options.account ?? '000000000000';
    const partitionKeys = needsKeySchema(request) ? await live.keySchemas.partitionKeys(tablesOf(request)) : {};
    return deriveSessionPolicy(request, { region: this.options.region, account, partitionKeys });
  }

  /**
   * The key attributes of the items a single-table request returns (index keys first for an index),
   * so results can show keys first. Best effort: a role that may not DescribeTable gets none.
   */
  private async keyAttributes(live: LiveRun, request: RenderedRequest): Promise<string[] | undefined> {
    const tables = tablesOf(request);
    if (tables.length !== 1) return undefined;
    try {
      const schema = await live.keySchemas.schema(tables[0]);
      const indexName = request.operation === 'ExecuteStatement' ? undefined : request.input.IndexName;
      const index = typeof indexName === 'string' ? schema.indexes[indexName] : undefined;
      const names = [index?.partitionKey, index?.sortKey, schema.partitionKey, schema.sortKey];
      return [...new Set(names.filter((n): n is string => typeof n === 'string'))];
    } catch {
      return undefined;
    }
  }

  /**
   * Runs a request with a session. When IAM refuses it because a revocation cutoff — put by another
   * run's completion, here or in another process — now covers the session, assumes a fresh one with
   * the same policy and runs the request once more: a refused request did nothing, so this is safe.
   */
  private async executeFresh(
    run: Run,
    live: LiveRun,
    step: string,
    policy: PolicyDocument,
    user: string,
    session: Session,
    request: RenderedRequest,
    options: Parameters<typeof executeRequest>[2],
  ): Promise<{ result: Awaited<ReturnType<typeof executeRequest>>; session: Session }> {
    try {
      return { result: await executeRequest(request, session, options), session };
    } catch (err) {
      const awsCode = isRbError(err) ? (err.details as { awsCode?: string } | undefined)?.awsCode : undefined;
      if (!this.revoker || awsCode !== 'AccessDeniedException') throw err;
      const cutoff = await this.revoker.cutoff(run.roleArn).catch(() => undefined);
      if (!cutoff || session.issuedAt >= cutoff) throw err;
      const fresh = await this.assume(run, live, step, policy, user);
      return { result: await executeRequest(request, fresh, options), session: fresh };
    }
  }

  private async assume(run: Run, live: LiveRun, step: string, policy: PolicyDocument, user: string): Promise<Session> {
    const runbook = live.runbook;
    const session = await this.broker.assume({
      roleArn: run.roleArn,
      policy,
      sessionName: sessionName(run.id, step, ++live.executionCounter),
      durationSeconds: runbook.access.duration,
      sourceIdentity: sourceIdentityOf(user === 'system' ? run.user : user),
      tags: { runbook: run.runbook, run: run.id, step, user: sourceIdentityOf(run.user) },
    });
    live.sessions.push(session);
    await this.noteSession(run, session);
    return session;
  }

  private async end(run: Run, reason: EndReason, user: string): Promise<void> {
    if (run.status !== 'active') {
      throw new RbError('RB_ERR_RUN_NOT_ACTIVE', `Run ${run.id} is already ${run.status}.`);
    }
    for (const approval of Object.values(run.approvals)) {
      const cancelled = approvals.cancel(approval, this.clock(), `The run ended (${reason}) before the ${approval.status === 'pending' ? 'request was decided' : 'approved request ran'}.`);
      if (cancelled) await this.transition(run, cancelled, user);
    }
    const live = this.live.get(run.id);
    const sessions = live?.sessions ?? [];
    live?.cursors.clear();

    // Every session the run was issued, key-schema lookups included, is named rb-<run>-*: one deny
    // per role covers them all, even those whose credentials died with a crashed process.
    const infos = run.executions.flatMap((e) => (e.session ? [e.session] : []));
    const recorded: RoleSessions[] = infos.map((info) => ({
      roleArn: info.roleArn,
      roleId: info.assumedRoleId.split(':')[0],
      until: new Date(info.expiration),
      ...(info.issuedAt ? { issued: new Date(info.issuedAt) } : {}),
    }));
    if (run.roleId && run.sessionsUntil) {
      const issued = run.sessionsIssuedUntil ? { issued: new Date(run.sessionsIssuedUntil) } : {};
      recorded.push({ roleArn: run.roleArn, roleId: run.roleId, until: new Date(run.sessionsUntil), ...issued });
    }

    const revocation: Run['revocation'] = { at: this.clock().toISOString(), sessions: sessions.length || infos.length, iam: this.revoker ? 'done' : 'off' };
    try {
      await revokeRunSessions(run.id, sessions, this.revoker, recorded);
    } catch (err) {
      revocation.iam = 'failed';
      revocation.error = isRbError(err) ? err.message : 'IAM refused the deny policy';
    }
    for (const info of infos) info.revoked = true;
    run.status = reason === 'idle' ? 'expired' : reason === 'interrupted' ? 'interrupted' : 'completed';
    run.endReason = reason;
    run.endedAt = revocation.at;
    run.revocation = revocation;
    this.live.delete(run.id);
    await this.record(run, { type: 'session.revoked', runId: run.id, user, data: { ...revocation, sessionIds: infos.map((s) => s.assumedRoleId) } });
    this.emit({ type: 'session.revoked', runId: run.id, sessions: infos, revocation });
    await this.record(run, { type: 'run.completed', runId: run.id, user, data: { status: run.status, reason } });
    this.emit({ type: 'run.completed', run });
  }

  /** Keeps in the run record what revocation needs after a crash: the role id and the latest expiry. */
  private async noteSession(run: Run, session: Session): Promise<void> {
    const until = session.expiration.toISOString();
    const issued = session.issuedAt.toISOString();
    const known = run.roleId === session.roleId && run.sessionsUntil !== undefined && run.sessionsUntil >= until;
    if (known && run.sessionsIssuedUntil !== undefined && run.sessionsIssuedUntil >= issued) return;
    run.roleId = session.roleId;
    if (run.sessionsUntil === undefined || run.sessionsUntil < until) run.sessionsUntil = until;
    if (run.sessionsIssuedUntil === undefined || run.sessionsIssuedUntil < issued) run.sessionsIssuedUntil = issued;
    await this.store.save(run);
  }

  private async expireIdle(idleMs: number): Promise<void> {
    const now = this.clock().getTime();
    for (const run of this.listRuns()) {
      if (run.status === 'active' && now - Date.parse(run.lastActivityAt) >= idleMs) {
        await this.locked(run.id, (r) => (r.status === 'active' ? this.end(r, 'idle', 'system') : undefined)).catch(() => undefined);
      }
    }
  }

  /** Runs `fn` with the run's lock held, so that concurrent requests on one run do not interleave. */
  private locked<T>(runId: string, fn: (run: Run, live: LiveRun) => Promise<T> | T): Promise<T> {
    const run = this.runs.get(runId);
    if (!run) return Promise.reject(new RbError('RB_ERR_RUN_NOT_FOUND', `No run with id ${JSON.stringify(runId)}.`));
    const live = this.live.get(runId);
    if (run.status !== 'active' || !live) {
      // Ending an ended run, or anything on it, is refused with its state.
      return Promise.reject(new RbError('RB_ERR_RUN_NOT_ACTIVE', `Run ${run.id} is ${run.status}; start a new run.`));
    }
    const next = live.lock.then(async () => {
      if (run.status !== 'active') throw new RbError('RB_ERR_RUN_NOT_ACTIVE', `Run ${run.id} is ${run.status}; start a new run.`);
      run.lastActivityAt = this.clock().toISOString();
      return fn(run, live);
    });
    live.lock = next.catch(() => undefined);
    return next;
  }

  private stepOf(live: LiveRun, name: string): Step {
    const step = live.runbook.steps.find((s) => s.name === name);
    if (!step) throw new RbError('RB_ERR_STEP_NOT_FOUND', `The runbook has no step named ${JSON.stringify(name)}.`);
    return step;
  }

  /** Appends to the audit log (flushed), then persists the run with the record's hash. */
  private async record(run: Run, entry: AuditEntry): Promise<void> {
    const rec = await this.audit.append(entry);
    run.auditHash = rec.hash;
    await this.store.save(run);
  }

  private emit(event: RunEvent): void {
    this.events.emit('event', event);
  }
}

export function createEngine(options: EngineOptions): Promise<RunEngine> {
  return RunEngine.create(options);
}

function accountOf(roleArn: string): string | undefined {
  return ROLE_ARN.exec(roleArn)?.[1];
}

/** Key schemas matter only where the policy can pin `dynamodb:LeadingKeys`. */
export function needsKeySchema(request: RenderedRequest): boolean {
  if (request.operation === 'ExecuteStatement') return false;
  const fact = operations[request.operation];
  return fact.pinsLeadingKey && !(request.operation === 'Query' && request.input.IndexName !== undefined);
}

function lastExecution(run: Run, step: string): StepExecution | undefined {
  for (let i = run.executions.length - 1; i >= 0; i--) if (run.executions[i].step === step) return run.executions[i];
  return undefined;
}

function sessionInfo(session: Session, roleArn: string): SessionInfo {
  const name = session.assumedRoleId.slice(session.assumedRoleId.indexOf(':') + 1);
  return {
    assumedRoleId: session.assumedRoleId,
    sessionName: name,
    roleArn,
    expiration: session.expiration.toISOString(),
    issuedAt: session.issuedAt.toISOString(),
    revoked: false,
  };
}

function toExecutionError(err: unknown): ExecutionError {
  if (isRbError(err)) {
    const details = (err.details ?? {}) as { awsCode?: string };
    return { code: err.code, message: err.message, ...(details.awsCode ? { awsCode: details.awsCode } : {}) };
  }
  // Unexpected errors are reported by kind only: their text could carry request internals.
  return { code: 'RB_ERR_INTERNAL', message: 'The step failed unexpectedly; the server log has details.' };
}

function mergeCapacity(a: unknown, b: unknown): unknown {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const sum = (x: unknown) => (Array.isArray(x) ? x : [x]);
  return [...sum(a), ...sum(b)];
}
