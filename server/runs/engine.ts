/**
 * The run lifecycle, an orchestrator of named stages (docs/architecture.md): a run starts with
 * validated parameters and a copy of its runbook; a step executes as render → policy → approval →
 * confirmation → session → execute → record; approvals move through their own state machine
 * (./approvals.ts); a run ends — completed, idle-expired, at shutdown, or found interrupted after a
 * crash — and ending revokes every session it was issued (../access/revocation.ts).
 *
 * A run's state lives in the store as a header and a journal (./store.ts), folded into memory by
 * ./run-state.ts; every change is recorded (./recorder.ts) before it is announced. What lives only
 * here is what must not outlive the process: session credentials (inside broker Session objects),
 * key-schema caches and the per-run lock.
 */
import { EventEmitter } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { createBroker, forget, type Broker, type Session } from '../access/broker.js';
import { deriveSessionPolicy, tablesOf, type PolicyDocument } from '../access/derive-policy.js';
import { createKeySchemaCache, createKeySchemaStore, type KeySchemaCache } from '../access/key-schemas.js';
import { createIamRevoker, revokeRunSessions, type IamRevoker, type RoleSessions } from '../access/revocation.js';
import { sessionName } from '../access/session-name.js';
import { executeRequest, type Cursor, type ExecuteOptions, type ExecutionResult } from '../dynamo/execute.js';
import { RbError, isRbError } from '../errors.js';
import { DEFAULT_DURATION } from '../runbook/front-matter.js';
import { operations } from '../runbook/operations.js';
import { accountOfRoleArn, isRoleArn } from '../aws/arn.js';
import { needsKeySchema } from '../access/key-schema-needs.js';
import { coerceParams } from '../runbook/params.js';
import { parseRunbook } from '../runbook/parse.js';
import { renderStep } from '../runbook/render.js';
import { checkRedactList, createRedactor, holdsMask, redactedBy, type Redactor } from '../runbook/redact.js';
import { outputRefText, outputValue, redactedOutputMessage, type StepOutputs } from '../runbook/templates.js';
import type { RenderedRequest, Runbook, Step } from '../runbook/types.js';
import * as approvals from './approvals.js';
import { AuditLog, type AuditSink } from './audit.js';
import { failedExecution, mergeCapacity, newExecution, sessionInfo, toExecutionError } from './executions.js';
import { openFileStore } from './file-store.js';
import { diffItems, matchItems, readRequest, revertRequest, writeTargets, type KeyedItem, type WriteImages } from './write-images.js';
import { migrateLegacyRuns } from './legacy-runs.js';
import { cursorHoldsRedacted, redactImages, redactItems, redactResult } from './redaction.js';
import { ownerIsGone, ownerOf, ownerText } from './owner.js';
import { Recorder, type Change } from './recorder.js';
import { applyRecord, initialState, inlineKey, lastExecution, type RunState } from './run-state.js';
import { eventsOf } from './record-events.js';
import { FIRST_PAGE_ITEMS, firstPage, fitsInline, type JournalRecord, type RunHeader, type RunStore, type SharedStore } from './store.js';
import { runNotFound } from './store-ids.js';
import { summarizeRun } from './summary.js';
import type { Approval, EndReason, Run, RunEvent, RunSummary, StepExecution, StepInput } from './types.js';

export interface EngineOptions {
  /** runs/ and audit.jsonl live here */
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
  /**
   * Where runs and the audit chain live: the data folder (default), or DynamoDB tables that several
   * replicas share (docs/deploy.md), reached as the base principal. IAM revocation is always on
   * with a shared store: another replica's sessions can only be revoked through IAM.
   */
  store?: { kind: 'dynamodb'; prefix?: string; itemRetentionSeconds?: number };
  /** how many ended runs stay whole in memory, and how many are listed from memory (defaults below; tests make them small) */
  kept?: { whole?: number; listed?: number };
  /**
   * Attribute names and dotted paths masked in every run's results, besides each runbook's own
   * `redact` (docs/format.md, "Redaction"): `--redact` of `serve` and `run`.
   */
  redact?: string[];
}

/** What only this process holds of a run it runs. */
interface LiveRun {
  /** sessions issued to this run, credentials inside, forgotten at revocation */
  sessions: Session[];
  /** the latest expiry and issue time among them (what the journal must note for revocation after a crash) */
  latest?: { roleId: string; expiration: number; issuedAt: number };
  /** table → key schema, from DescribeTable through sessions of this run (cached per server) */
  keySchemas: KeySchemaCache;
  executionCounter: number;
  /** step → continuation of its execution `n` that may hold a redacted key value: never recorded */
  heldCursors: Map<string, { n: number; cursor: Cursor }>;
}

interface Entry {
  header: RunHeader;
  state: RunState;
  /** present while this process runs the run */
  live?: LiveRun;
  /** changes still to be written: the run is held while there are any */
  backlog: Change[];
  /** serialises the run's state changes */
  lock: Promise<unknown>;
  /** the last request on the run, for idle expiry (requests that change nothing count too) */
  touchedAt: number;
}

const IDENTITY_CHARS = /[^\w+=,.@-]/g;
// A run's noted session expiry runs this far ahead, so that it is noted about once an hour, not at
// every session: revocation after a crash only needs an expiry no earlier than the real one.
const NOTE_MARGIN_MS = 3_600_000;
// A replica asks the store's change feed this often what the others changed, looking back this far
// (the feed is keyed by the writers' clocks and its index is read a moment late; seen records are skipped).
const FOLLOW_EVERY_MS = 250;
const FOLLOW_LOOKBACK_MS = 3_000;
/** `{{steps.<step>.all.<attribute>}}` is at most this long: DynamoDB's IN lists and batches are short. */
const MAX_OUTPUT_LIST = 100;
// Ended runs whose whole state stays in memory, and how long any ended run stays whole at least.
const KEPT_ENDED = 50;
const ENDED_GRACE_MS = 10_000;
// Ended runs whose list form stays in memory (`GET /api/runs`); older ones are read from the store
// when the list is paged back to them (`olderRuns`).
const LISTED_ENDED = 200;
/** The approval of a revert of a step's write is filed under the step's name and this suffix. */
const REVERT_SUFFIX = '.revert';

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
  private readonly runs = new Map<string, Entry>();
  private readonly parsed = new Map<string, Runbook>();
  private readonly broker: Broker;
  private readonly revoker?: IamRevoker;
  private readonly clock: () => Date;
  private readonly recorder: Recorder;
  private readonly instance = randomBytes(6).toString('hex');
  private readonly keySchemas = createKeySchemaStore();
  private idleTimer?: NodeJS.Timeout;
  private lettingGo?: NodeJS.Timeout;
  /** set while several replicas share the store: changes are made under a run's lease */
  private readonly shared?: SharedStore;
  private following?: { timer?: NodeJS.Timeout; stopped: boolean; since: number };
  /** runs being read from the store, so that two requests for an unknown run read it once */
  private readonly loading = new Map<string, Promise<Entry | undefined>>();
  /** the list form of ended runs whose whole state this process let go of (see letGoOfEnded) */
  private readonly ended = new Map<string, RunSummary>();
  /** ended runs beyond LISTED_ENDED: only their ids stay, the rest is in the store */
  private readonly unlisted = new Set<string>();
  /** runs this process is creating: in the store before they are tracked here */
  private readonly starting = new Set<string>();
  private readonly syncing: { current?: Promise<void>; next?: Promise<void> } = {};
  /** the server-wide redaction list (checked by `create`) */
  private readonly serverRedact: readonly string[];

  private constructor(
    private readonly options: EngineOptions,
    private readonly store: RunStore,
    private readonly audit: AuditSink,
    private readonly release: () => void = () => undefined,
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.shared = store.shared;
    this.serverRedact = options.redact ?? [];
    const aws = { region: options.region, endpoint: options.endpoint, credentials: options.credentials };
    this.broker = createBroker(aws);
    if (options.iamRevocation || this.shared) {
      this.revoker = createIamRevoker({ ...aws, onCutoff: (roleArn, issuedBefore) => this.broker.noteCutoff(roleArn, issuedBefore) });
    }
    this.recorder = new Recorder(audit, store, this.clock);
    this.events.setMaxListeners(0);
  }

  /**
   * Opens the store and audit log, and ends the runs a crashed process left active (marked
   * `interrupted`, revoked). Runs of another live process on the same data folder are left to it.
   */
  static async create(options: EngineOptions): Promise<RunEngine> {
    const bad = checkRedactList(options.redact ?? []).problems[0];
    if (bad) throw new RbError('RB_ERR_CONFIG_INVALID', `--redact: ${bad.message}.`);
    if (options.store?.kind === 'dynamodb') return RunEngine.createShared(options);
    const repairs: Array<{ runId: string; info: object }> = [];
    const store = await openFileStore(options.dataDir, { onRepaired: (runId, info) => repairs.push({ runId, info }) });
    const audit = await AuditLog.open(options.dataDir, { clock: options.clock, keyPath: options.auditKeyPath, onError: options.onInternalError });
    const engine = new RunEngine(options, store, audit);
    await migrateLegacyRuns(options.dataDir, store);
    await engine.sync();
    for (const entry of engine.runs.values()) {
      if (entry.state.run.status === 'active' && engine.ownerIsGone(entry.header)) {
        await engine.serialised(entry, () => engine.end(entry, 'interrupted', 'system')).catch((err: unknown) => options.onInternalError?.(err));
      }
    }
    for (const { runId, info } of repairs) await audit.append({ type: 'log.repaired', runId, data: { log: 'journal', ...info } });
    engine.startIdleTimer();
    return engine;
  }

  /**
   * Opens an engine on the DynamoDB store that replicas share (docs/deploy.md, "Replicas"): nothing
   * is `interrupted` there — a run whose replica died continues on another — and each replica
   * follows the store's change feed, so that its viewers see what the others do.
   */
  private static async createShared(options: EngineOptions): Promise<RunEngine> {
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const { clientOptions } = await import('../aws/sdk.js');
    const { openDynamoStore } = await import('./dynamo-store.js');
    const { DynamoAuditLog } = await import('./dynamo-audit.js');
    const client = new DynamoDBClient({
      ...clientOptions({ region: options.region, endpoint: options.endpoint }),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });
    try {
      const prefix = options.store?.prefix;
      const store = await openDynamoStore({ client, prefix, itemRetentionSeconds: options.store?.itemRetentionSeconds });
      const audit = await DynamoAuditLog.open({ client, prefix, keyPath: options.auditKeyPath, clock: options.clock, onError: options.onInternalError });
      const engine = new RunEngine(options, store, audit, () => client.destroy());
      // Runs are read when asked for (and listed when the run list is): a replica starts at once
      // however many runs the store holds.
      engine.follow();
      engine.startIdleTimer();
      return engine;
    } catch (err) {
      client.destroy();
      throw err;
    }
  }

  private startIdleTimer(): void {
    // Runs that ended a while ago are let go of even when nothing else happens (the last of a busy hour).
    this.lettingGo = setInterval(() => this.letGoOfEnded(), ENDED_GRACE_MS);
    this.lettingGo.unref();
    const idle = this.options.idleTimeoutMs ?? 3_600_000;
    if (idle > 0) {
      this.idleTimer = setInterval(() => void this.expireIdle(idle), Math.min(idle / 4, 30_000));
      this.idleTimer.unref();
    }
  }

  /** Starts a run: parameters are validated and coerced against the runbook's declarations first. */
  async startRun(input: {
    runbook: Runbook;
    /** the runbook's text exactly as parsed: the run keeps it and its views and transcripts use it */
    source: string;
    runbookId: string;
    params: Record<string, unknown>;
    user: string;
    roleArn?: string;
  }): Promise<Run> {
    const { values, errors } = coerceParams(input.runbook.params, input.params);
    if (errors.length > 0) {
      const list = errors.map((e) => `${e.param}: ${e.message}`).join('; ');
      throw new RbError('RB_ERR_PARAM_INVALID', `Invalid parameters: ${list}`, { params: errors });
    }
    const roleArn = input.roleArn ?? input.runbook.access.role ?? this.options.defaultRoleArn;
    if (!isRoleArn(roleArn)) {
      throw new RbError('RB_ERR_CONFIG_INVALID', `The role ${JSON.stringify(roleArn)} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>).`);
    }
    const text = input.source;
    const header: RunHeader = {
      id: newRunId(),
      runbook: input.runbookId,
      title: input.runbook.title,
      user: input.user,
      params: values,
      roleArn,
      startedAt: this.clock().toISOString(),
      source: { text, sha256: createHash('sha256').update(text).digest('hex') },
      owner: ownerOf(this.instance),
    };
    const redact = [...new Set([...(input.runbook.redact ?? []), ...this.serverRedact])];
    if (redact.length > 0) header.redact = redact;
    const auditRecord = await this.audit.append({
      type: 'run.started',
      runId: header.id,
      user: input.user,
      data: { runbook: header.runbook, params: values, roleArn, runbookSha256: header.source.sha256, ...(header.redact ? { redact: header.redact } : {}) },
    });
    this.starting.add(header.id);
    let entry: Entry;
    try {
      await this.store.create(header);
      entry = this.track(header);
    } finally {
      this.starting.delete(header.id);
    }
    entry.state.run.auditHash = auditRecord.hash;
    this.parsed.set(header.id, input.runbook);
    entry.live = this.newLive(header);
    this.emit({ type: 'run.started', run: entry.state.run });
    return entry.state.run;
  }

  /**
   * Executes one step: render, derive the policy, check approval and confirmation, assume a session
   * with that policy, run the request with it, record it. Resolves with the execution whether it
   * succeeded or failed; throws only when nothing ran (bad state, confirmation or approval missing).
   */
  executeStep(runId: string, stepName: string, input: { user: string; confirm?: boolean }): Promise<StepExecution> {
    return this.locked(runId, async (entry, live) => {
      const run = entry.state.run;
      const step = this.stepOf(entry, stepName);
      let request: RenderedRequest;
      let inputs: StepInput[];
      let policy: PolicyDocument;
      let approval: Approval | undefined;
      if (step.needsApproval) {
        // The approved request is frozen: it runs exactly as the approver saw it, never re-rendered.
        const ready = await this.approvalForExecution(entry, live, step, input.user);
        if ('failed' in ready) return ready.failed;
        approval = ready.approval;
        request = approval.request;
        inputs = approval.inputs ?? [];
        policy = approval.policy as PolicyDocument;
      } else {
        ({ request, inputs } = await this.render(entry, step));
        try {
          policy = await this.policyFor(run, live, request);
        } catch (err) {
          return this.failedBeforeRun(entry, step, input.user, request, err);
        }
      }
      if (step.write && !input.confirm) {
        const before = redactImages(this.redactorOf(entry), await this.imagesBefore(entry, live, step.name, request, input.user));
        throw new RbError('RB_ERR_RUN_CONFIRM_REQUIRED', `Step ${step.name} writes data: confirm this execution to run it.`, { request, policy, before });
      }
      if (approval) {
        await this.transition(entry, approvals.markUsed(approval, { user: input.user, now: this.clock(), execution: this.nextN(run, step.name) }), input.user);
      }
      return this.runStep(entry, live, step, input, request, policy, { inputs });
    });
  }

  /**
   * Fetches the next page(s) of a step's last execution, with a fresh session of the same derived
   * policy: a session can be refused by a revocation cutoff in between (docs/security.md).
   */
  nextPage(runId: string, stepName: string, input: { user: string }): Promise<StepExecution> {
    return this.locked(runId, async (entry, live) => {
      const run = entry.state.run;
      const step = this.stepOf(entry, stepName);
      const execution = lastExecution(run, step.name);
      const held = live.heldCursors.get(step.name);
      const cursor = entry.state.cursors.get(step.name) ?? (held && held.n === execution?.n ? held.cursor : undefined);
      const redactor = this.redactorOf(entry);
      if (!execution || !execution.hasMore || !cursor) {
        throw new RbError('RB_ERR_RUN_NO_MORE_PAGES', `Step ${step.name} has no further page: run it again to start over.`);
      }
      const started = performance.now();
      const stored = execution.itemCount ?? execution.items.length;
      let sessionId: string | null = null;
      let outcome: { result: ExecutionResult } | { error: ReturnType<typeof toExecutionError> };
      try {
        const policy = execution.policy as PolicyDocument;
        const session = await this.assume(entry, live, step.name, policy, input.user);
        const sink = this.itemSink(run.id, step.name, execution.n, stored, redactor);
        const ran = await this.executeFresh(entry, live, step.name, policy, input.user, session, execution.request, {
          region: this.options.region,
          endpoint: this.options.endpoint,
          maxItems: step.maxItems,
          cursor,
          sink,
        });
        await sink.written();
        sessionId = ran.session.assumedRoleId;
        outcome = { result: redactResult(redactor, ran.result) };
      } catch (err) {
        if (isRbError(err) && err.code === 'RB_ERR_STORE_WRITE') throw err;
        outcome = { error: toExecutionError(err) };
      }
      const durationMs = (execution.durationMs ?? 0) + Math.round(performance.now() - started);
      const result = 'result' in outcome ? outcome.result : undefined;
      const error = 'error' in outcome ? outcome.error : undefined;
      const itemCount = stored + (result ? (result.returned ?? result.items.length) : 0);
      const next = result?.hasMore ? result.cursor : undefined;
      const recordCursor = this.holdCursor(live, redactor, step.name, execution.n, next);
      await this.recorder.commit(entry.state, entry.backlog, {
        entry: {
          type: 'page',
          step: step.name,
          n: execution.n,
          itemCount,
          count: execution.count + (result?.count ?? 0),
          ...(result?.scannedCount !== undefined ? { scannedCount: (execution.scannedCount ?? 0) + result.scannedCount } : {}),
          ...(result?.consumedCapacity !== undefined ? { consumedCapacity: mergeCapacity(execution.consumedCapacity, result.consumedCapacity) } : {}),
          hasMore: result?.hasMore ?? false,
          pages: execution.pages + (result ? 1 : 0),
          durationMs,
          ...(error ? { error } : {}),
          ...(recordCursor ? { cursor: recordCursor } : {}),
        },
        audit: [
          {
            type: 'step.page',
            runId: run.id,
            user: input.user,
            data: error ? { step: step.name, n: execution.n, error, sessionId } : { step: step.name, n: execution.n, items: result?.items.length ?? 0, sessionId },
          },
        ],
        // The first page tops up from this page's items while it has room.
        firstItems: result ? result.items.slice(0, Math.max(0, firstPage([...execution.items, ...result.items]).length - execution.items.length)) : [],
      });
      this.emit(error ? { type: 'step.failed', runId: run.id, step: step.name, execution } : { type: 'step.succeeded', runId: run.id, step: step.name, execution });
      return execution;
    });
  }

  /** Another user's decision on a pending approval request. */
  decideApproval(runId: string, stepName: string, input: { user: string; approve: boolean; comment?: string }): Promise<Approval> {
    return this.anywhere(runId, async (entry) => {
      const run = entry.state.run;
      // `<step>.revert` names the approval of a revert of the step's write (see `revert`).
      this.stepOf(entry, stepName.endsWith(REVERT_SUFFIX) ? stepName.slice(0, -REVERT_SUFFIX.length) : stepName);
      const now = this.clock();
      const expiry = approvals.expireIfDue(run.approvals[stepName], now);
      if (expiry) {
        await this.transition(entry, expiry, 'system');
        throw new RbError(
          'RB_ERR_APPROVAL_EXPIRED',
          `The approval request of step ${stepName} expired at ${expiry.approval.expiresAt}; ${expiry.approval.requestedBy} can run the step again to request a new one.`,
          { approval: expiry.approval },
        );
      }
      const decision = approvals.decide(run.approvals[stepName], { step: stepName, user: input.user, approve: input.approve, comment: input.comment, now });
      return this.transition(entry, decision, input.user);
    });
  }

  /**
   * Puts back the before-images of a recorded write (docs/api.md, "Revert"): a new write of the same
   * step, conditional on each item still being the write's after-image, confirmed and approved like
   * any write of the step, recorded as `revertOf` the write (which shows `revertedBy` it).
   */
  revert(runId: string, stepName: string, input: { user: string; n: number; confirm?: boolean }): Promise<StepExecution> {
    return this.locked(runId, async (entry, live) => {
      const run = entry.state.run;
      const step = this.stepOf(entry, stepName);
      const original = run.executions.find((e) => e.step === step.name && e.n === input.n);
      if (!original) throw new RbError('RB_ERR_RUN_NO_EXECUTION', `Step ${step.name} has no execution ${input.n} in run ${run.id}.`);
      const images = original.images;
      const why =
        original.status !== 'succeeded'
          ? `it ${original.status}`
          : !images || 'unavailable' in images
            ? `no before-image was recorded${images && 'unavailable' in images ? ` (${images.unavailable})` : ''}`
            : original.revertedBy !== undefined
              ? `execution ${original.revertedBy} reverted it already`
              : undefined;
      if (why || !images || 'unavailable' in images) throw new RbError('RB_ERR_REVERT_UNAVAILABLE', `Execution ${input.n} of step ${step.name} cannot be reverted: ${why}.`);
      const redacted = [...new Set(images.items.flatMap((item) => item.redacted ?? []))];
      if (redacted.length > 0) {
        // The images hold masks, not values: a revert would write the masks back, and its condition
        // (the item is still the after-image) could not be checked against values never kept.
        throw new RbError(
          'RB_ERR_REVERT_UNAVAILABLE',
          `Execution ${input.n} of step ${step.name} cannot be reverted: its before and after images are redacted (${redacted.join(', ')}), and putting the item back needs the real values, which are never kept. Read the item and write what it should be as a step of its own.`,
        );
      }
      const built = revertRequest(images.items);
      if ('unavailable' in built) throw new RbError('RB_ERR_REVERT_UNAVAILABLE', `Execution ${input.n} of step ${step.name} cannot be reverted: ${built.unavailable}`);
      // Approved as its own request: the step's name marked as a revert, its source naming the execution.
      const asStep: Step = { ...step, name: `${step.name}${REVERT_SUFFIX}`, title: `Revert of ${step.title}`, source: `revert of execution ${input.n} of step ${step.name}` };
      let request = built;
      let policy: PolicyDocument;
      let approval: Approval | undefined;
      if (step.needsApproval) {
        const ready = await this.approvalForExecution(entry, live, asStep, input.user, async () => ({ request: built, inputs: [] }));
        if ('failed' in ready) return ready.failed;
        approval = ready.approval;
        request = approval.request;
        policy = approval.policy as PolicyDocument;
      } else {
        policy = await this.policyFor(run, live, request);
      }
      if (!input.confirm) {
        const before = redactImages(this.redactorOf(entry), await this.imagesBefore(entry, live, step.name, request, input.user));
        throw new RbError('RB_ERR_RUN_CONFIRM_REQUIRED', `Reverting execution ${input.n} of step ${step.name} writes data: confirm it to run it.`, {
          request,
          policy,
          before,
          revertOf: input.n,
        });
      }
      if (approval) {
        await this.transition(entry, approvals.markUsed(approval, { user: input.user, now: this.clock(), execution: this.nextN(run, step.name) }), input.user);
      }
      return this.runStep(entry, live, step, { ...input, confirm: true }, request, policy, { revertOf: input.n });
    });
  }

  /**
   * Completes a run and revokes every session it was issued. On a run that ended with its IAM
   * revocation failed, tries that revocation again.
   */
  async complete(runId: string, input: { user: string; reason?: EndReason }): Promise<Run> {
    const entry = await this.entryOf(runId);
    if (entry && entry.state.run.status !== 'active' && entry.state.run.revocation?.iam === 'failed') {
      return this.serialised(entry, async () => {
        await this.retryRevocation(entry, input.user);
        return entry.state.run;
      });
    }
    return this.locked(runId, async (e) => {
      await this.end(e, input.reason ?? 'complete', input.user);
      return e.state.run;
    });
  }

  /** Reads what other processes appended to a run since (an approval decided through a server, say). */
  async refreshRun(runId: string): Promise<Run> {
    const entry = this.runs.get(runId);
    if (!entry) throw runNotFound(runId);
    await this.serialised(entry, () => this.refresh(entry));
    return entry.state.run;
  }

  getRun(runId: string): Run | undefined {
    return this.runs.get(runId)?.state.run;
  }

  /**
   * A run as the store holds it now: what other processes or replicas recorded since is read first
   * (an unknown run is read whole). Undefined for a run the store does not hold.
   */
  async load(runId: string): Promise<Run | undefined> {
    if (this.ended.has(runId) || this.unlisted.has(runId)) return (await this.loadRun(runId))?.state.run;
    if (!this.shared) {
      await this.sync();
      return this.getRun(runId);
    }
    const known = this.runs.get(runId);
    if (!known) return (await this.loadRun(runId))?.state.run;
    await this.serialised(known, () => this.refresh(known));
    return known.state.run;
  }

  /** A run for reading (views, items, exports): as known here, read from the store where it may have moved on. */
  async current(runId: string): Promise<Run | undefined> {
    const known = this.runs.get(runId);
    if (known) known.touchedAt = Math.max(known.touchedAt, this.clock().getTime());
    return this.shared ? this.load(runId) : (known?.state.run ?? this.load(runId));
  }

  /** The run's entry: in memory, or read from the store (a run another replica started, or an ended run let go). */
  private async entryOf(runId: string): Promise<Entry | undefined> {
    return this.runs.get(runId) ?? (this.shared || this.ended.has(runId) || this.unlisted.has(runId) ? this.loadRun(runId) : undefined);
  }

  /**
   * Lets go of the whole state of the runs that ended longest ago beyond the last KEPT_ENDED (their
   * first pages of items, requests, policies), keeping their list form: memory then stays flat
   * however many runs a server sees. A run let go is read back from the store when asked for.
   */
  private letGoOfEnded(): void {
    const cutoff = this.clock().getTime() - ENDED_GRACE_MS;
    const ended = [...this.runs.values()].filter((e) => e.state.run.status !== 'active' && !e.live && e.backlog.length === 0);
    const whole = this.options.kept?.whole ?? KEPT_ENDED;
    if (ended.length <= whole) return;
    const lastUse = (e: Entry) => Math.max(Date.parse(e.state.run.endedAt ?? '') || 0, e.touchedAt);
    ended.sort((a, b) => lastUse(a) - lastUse(b));
    for (const entry of ended.slice(0, ended.length - whole)) {
      // Runs that ended or were read a moment ago are still being looked at (a transcript, a last view).
      if (lastUse(entry) > cutoff) break;
      const id = entry.header.id;
      this.ended.set(id, summarizeRun(entry.state.run));
      this.runs.delete(id);
      this.parsed.delete(id);
    }
    // The list forms beyond the newest LISTED_ENDED go too (oldest let go of first): their runs are
    // listed from the store, a page at a time, when someone pages back to them.
    for (const id of this.ended.keys()) {
      if (this.ended.size <= (this.options.kept?.listed ?? LISTED_ENDED)) break;
      this.ended.delete(id);
      this.unlisted.add(id);
    }
  }

  /**
   * Ended runs older than the list keeps in memory, read from the store: the `limit` newest that
   * started before `before` (ISO time), newest first. Reads every such run: paging back is rare.
   */
  async olderRuns(before: string, limit: number): Promise<RunSummary[]> {
    const found: RunSummary[] = [];
    for (const id of this.unlisted) {
      const read = await this.store.read(id);
      if (!read || read.header.startedAt >= before) continue;
      const state = initialState(read.header);
      for (const r of read.records) applyRecord(state, r, []);
      found.push(summarizeRun(state.run));
    }
    return found.sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1)).slice(0, limit);
  }

  /** How many ended runs the list in memory leaves out (`olderRuns` reads them). */
  get unlistedRuns(): number {
    return this.unlisted.size;
  }

  /** Runs, newest first, in their list form (`GET /api/runs`): those in memory (see `olderRuns`). */
  listRuns(): RunSummary[] {
    const all = [...[...this.runs.values()].map((e) => summarizeRun(e.state.run)), ...this.ended.values()];
    return all.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
  }

  /**
   * Picks up what other processes on the same store did since: runs they started, and records
   * they appended to runs they run.
   */
  sync(): Promise<void> {
    // One pass at a time: callers that arrive during a pass share the next one, which starts after it
    // (and so sees what they expect to see), instead of two passes applying the same records twice.
    if (this.syncing.next) return this.syncing.next;
    if (!this.syncing.current) {
      this.syncing.current = this.syncOnce().finally(() => (this.syncing.current = undefined));
      return this.syncing.current;
    }
    this.syncing.next = this.syncing.current
      .catch(() => undefined)
      .then(() => {
        this.syncing.next = undefined;
        return this.sync();
      });
    return this.syncing.next;
  }

  private async syncOnce(): Promise<void> {
    await this.syncRuns();
    this.letGoOfEnded();
  }

  private async syncRuns(): Promise<void> {
    for (const id of await this.store.list()) {
      const entry = this.runs.get(id);
      // Replicas keep the runs they know current by following the change feed; a run this process
      // is starting is in the store a moment before it is tracked here, as its own.
      if (this.starting.has(id) || this.ended.has(id) || this.unlisted.has(id) || (entry && (entry.live || this.shared || entry.state.run.status !== 'active'))) continue;
      if (entry) {
        await this.serialised(entry, () => this.refresh(entry));
        continue;
      }
      const read = await this.store.read(id);
      if (!read || this.runs.has(id) || this.starting.has(id)) continue;
      const found = this.track(read.header);
      await this.serialised(found, () => this.applyAll(found, read.records));
    }
  }

  /**
   * The sessions an active run holds (plain data; credentials stay behind `credentialsOf` until
   * revocation forgets them). For diagnostics and for tests that prove what a session may do.
   */
  sessionsOf(runId: string): readonly Session[] {
    return this.runs.get(runId)?.live?.sessions ?? [];
  }

  /** The runbook exactly as the run started with it (the run's own copy, not today's file). */
  runbookOf(runId: string): Runbook | undefined {
    const known = this.parsed.get(runId);
    if (known) return known;
    const entry = this.runs.get(runId);
    // Runs recorded before runs kept their runbook have no copy to show.
    if (!entry || entry.header.source.text === '') return undefined;
    const { runbook } = parseRunbook(entry.header.source.text, `${entry.header.runbook}.md`, { id: entry.header.runbook });
    if (runbook) this.parsed.set(runId, runbook);
    return runbook;
  }

  /** The runbook's text and SHA-256 as the run started with it. */
  sourceOf(runId: string): { text: string; sha256: string } | undefined {
    return this.runs.get(runId)?.header.source;
  }

  /** Items `offset`… of execution `n` of a step (its last execution by default), from the store. */
  async items(
    runId: string,
    stepName: string,
    query: { n?: number; offset: number; limit: number },
  ): Promise<{ n: number; offset: number; total: number; items: Record<string, unknown>[] }> {
    const execution = this.executionOf(runId, stepName, query.n);
    const total = execution.itemCount ?? execution.items.length;
    const items = query.offset >= total ? [] : await this.readItems(runId, stepName, execution.n, query.offset, Math.min(query.limit, total - query.offset));
    return { n: execution.n, offset: query.offset, total, items };
  }

  /** Every item of an execution (its last by default), in order, read from the store a page at a time. */
  allItems(runId: string, stepName: string, n?: number): AsyncIterable<Record<string, unknown>> {
    const execution = this.executionOf(runId, stepName, n);
    return this.itemsOf(runId, stepName, execution.n);
  }

  /** The run with every item of every execution read back from the store (transcripts, `run --json`). */
  async withAllItems(runId: string): Promise<Run> {
    const run = this.getRun(runId);
    if (!run) throw runNotFound(runId);
    const executions: StepExecution[] = [];
    for (const e of run.executions) {
      const items: Record<string, unknown>[] = [];
      if ((e.itemCount ?? e.items.length) > e.items.length) for await (const item of this.itemsOf(run.id, e.step, e.n)) items.push(item);
      executions.push({ ...e, items: items.length > 0 ? items : e.items });
    }
    return { ...run, executions };
  }

  /** The rendered request and derived policy of a step, without running anything (for `runbooks policy`). */
  async previewStep(runId: string, stepName: string): Promise<{ request: RenderedRequest; policy: PolicyDocument }> {
    return this.locked(runId, async (entry, live) => {
      const step = this.stepOf(entry, stepName);
      const { request } = await this.render(entry, step);
      return { request, policy: await this.policyFor(entry.state.run, live, request) };
    });
  }

  /** Ends every active run of this process with reason `shutdown` (revoking its sessions) and closes the logs. */
  async close(): Promise<void> {
    if (this.idleTimer) clearInterval(this.idleTimer);
    if (this.lettingGo) clearInterval(this.lettingGo);
    if (this.following) {
      this.following.stopped = true;
      clearTimeout(this.following.timer);
    }
    for (const entry of this.runs.values()) {
      if (this.shared) {
        // The other replicas carry on with the run: this one only forgets its credentials.
        await this.serialised(entry, () => this.forgetLive(entry)).catch(() => undefined);
      } else if (entry.live && entry.state.run.status === 'active') {
        await this.serialised(entry, () => this.end(entry, 'shutdown', 'system')).catch((err: unknown) => this.options.onInternalError?.(err));
      }
    }
    await this.audit.close();
    await this.store.close();
    this.broker.destroy();
    this.revoker?.destroy();
    this.release();
  }

  // -- stages of an execution ---------------------------------------------------------------------

  /**
   * The approved request a step may run now, or a coded refusal: a closed (or absent) approval makes
   * a new pending request of a freshly rendered request; an expired or changed one is recorded as
   * such first. Never records a denial that no approver gave.
   */
  private async approvalForExecution(
    entry: Entry,
    live: LiveRun,
    step: Step,
    user: string,
    render: () => Promise<{ request: RenderedRequest; inputs: StepInput[] }> = () => this.render(entry, step),
  ): Promise<{ approval: Approval } | { failed: StepExecution }> {
    const run = entry.state.run;
    const now = this.clock();
    let approval = run.approvals[step.name];
    const expiry = approvals.expireIfDue(approval, now);
    if (expiry) approval = await this.transition(entry, expiry, 'system');
    if (approval?.status === 'approved') {
      const stale = approvals.checkUsable(approval, { step, user, now });
      if (stale) approval = await this.transition(entry, stale, 'system');
    }
    if (!approval || approvals.isClosed(approval)) {
      const { request, inputs } = await render();
      let policy: PolicyDocument;
      try {
        policy = await this.policyFor(run, live, request);
      } catch (err) {
        return { failed: await this.failedBeforeRun(entry, step, user, request, err) };
      }
      const ttlSeconds = this.runbookOf(run.id)?.access.approvalTtl ?? approvals.DEFAULT_APPROVAL_TTL_SECONDS;
      const before = step.write ? redactImages(this.redactorOf(entry), await this.imagesBefore(entry, live, step.name, request, user)) : undefined;
      const requested = await this.transition(entry, approvals.requestApproval({ step, user, now, ttlSeconds, request, policy, before, inputs }), user, approval !== undefined);
      const why = approval && approval.status !== 'used' && approval.status !== 'denied' ? ` (the previous one is ${approval.status})` : '';
      throw new RbError('RB_ERR_RUN_APPROVAL_REQUIRED', `Step ${step.name} needs the approval of another person; the request is now pending${why}.`, { approval: requested });
    }
    if (approval.status === 'pending') {
      throw new RbError('RB_ERR_RUN_APPROVAL_REQUIRED', `Step ${step.name} is waiting for approval (requested by ${approval.requestedBy}).`, { approval });
    }
    return { approval };
  }

  /** Records an approval's next state, then announces it. `past` moves the step's current one to the past ones. */
  private async transition(entry: Entry, t: approvals.Transition, user: string, past = false): Promise<Approval> {
    const run = entry.state.run;
    const record = await this.recorder.commit(entry.state, entry.backlog, {
      entry: { type: 'approval', approval: t.approval, ...(past ? { past: true } : {}) },
      audit: [{ type: t.record.type, runId: run.id, user, data: t.record.data }],
    });
    // Announced as every replica announces a recorded approval (./record-events.ts): one mapping of state to event.
    if (record) for (const event of eventsOf(run, record)) this.emit(event);
    return t.approval;
  }

  private async runStep(
    entry: Entry,
    live: LiveRun,
    step: Step,
    input: { user: string; confirm?: boolean },
    request: RenderedRequest,
    policy: PolicyDocument,
    made: { revertOf?: number; inputs?: StepInput[] } = {},
  ): Promise<StepExecution> {
    const run = entry.state.run;
    const { revertOf, inputs } = made;
    const redactor = this.redactorOf(entry);
    const execution = newExecution({ n: this.nextN(run, step.name), step: step.name, user: input.user, at: this.clock(), request, policy, confirmed: Boolean(input.confirm) });
    if (revertOf !== undefined) execution.revertOf = revertOf;
    if (inputs && inputs.length > 0) execution.inputs = inputs;
    this.emit({ type: 'step.started', runId: run.id, step: step.name, n: execution.n, user: input.user });
    const started = performance.now();
    let result: ExecutionResult | undefined;
    // A key-addressed write's items are read just before it runs, with a read-only session of their own.
    const before = step.write ? await this.imagesBefore(entry, live, step.name, request, input.user) : undefined;
    const sink = this.itemSink(run.id, step.name, execution.n, 0, redactor, true);
    try {
      const first = await this.assume(entry, live, step.name, policy, input.user);
      execution.session = sessionInfo(first, run.roleArn);
      this.emit({ type: 'session.issued', runId: run.id, step: step.name, session: execution.session });
      const ran = await this.executeFresh(entry, live, step.name, policy, input.user, first, request, {
        region: this.options.region,
        endpoint: this.options.endpoint,
        maxItems: step.maxItems,
        sink,
      });
      if (ran.session !== first) {
        execution.session = sessionInfo(ran.session, run.roleArn);
        this.emit({ type: 'session.issued', runId: run.id, step: step.name, session: execution.session });
      }
      // Redacted here, where DynamoDB's answer enters the engine: nothing after holds the raw values.
      result = redactResult(redactor, ran.result);
      execution.count = result.count;
      execution.itemCount = result.returned ?? result.items.length;
      if (result.scannedCount !== undefined) execution.scannedCount = result.scannedCount;
      if (result.consumedCapacity !== undefined) execution.consumedCapacity = result.consumedCapacity;
      if (result.attributes !== undefined) execution.attributes = result.attributes;
      execution.hasMore = result.hasMore;
      execution.pages = 1;
      const keys = result.items.length > 0 ? await this.keyAttributes(live, request) : undefined;
      if (keys) execution.keys = keys;
      execution.status = 'succeeded';
      // The difference is taken between the real images, then both are masked.
      if (before) execution.images = redactImages(redactor, await this.imagesAfter(entry, live, step.name, before, input.user));
    } catch (err) {
      execution.status = 'failed';
      execution.error = toExecutionError(err);
      if (!isRbError(err)) this.options.onInternalError?.(err);
      // A refused write changed nothing: what it would have changed stays on record.
      if (before) execution.images = redactImages(redactor, before);
      const awsCode = execution.error.awsCode;
      if (revertOf !== undefined && (awsCode === 'ConditionalCheckFailedException' || awsCode === 'TransactionCanceledException')) {
        execution.error = {
          code: 'RB_ERR_REVERT_CONFLICT',
          message: `The item changed since execution ${revertOf} wrote it, so nothing was reverted: read it again and decide what to do by hand.`,
          awsCode,
        };
      }
    }
    execution.durationMs = Math.round(performance.now() - started);
    const performed = step.write && execution.status === 'succeeded';
    // A few items and no more pages stay in the execution's record, with no file or item of their own.
    const total = execution.itemCount ?? 0;
    const inRecord = sink.settle(!this.store.itemsExpire && result !== undefined && total > 0 && !result.hasMore && total === result.items.length && fitsInline(result.items));
    // Already redacted: the sink masks only what it receives from the executor itself.
    if (!inRecord && result && result.returned === undefined && result.items.length > 0) void sink.write(result.items, 0, true);
    // The items' last write overlaps the audit append; the journal record waits for both (recorder.ts).
    const lost = sink.written().then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    const { items: _items, ...stored } = execution;
    const recordCursor = this.holdCursor(live, redactor, step.name, execution.n, result?.hasMore ? result.cursor : undefined);
    try {
      await this.recorder.commit(entry.state, entry.backlog, {
        entry: { type: 'execution', execution: stored, ...(recordCursor ? { cursor: recordCursor } : {}), ...(inRecord && result ? { items: result.items } : {}) },
        alongside: { failed: lost, without: { type: 'execution', execution: { ...stored, itemCount: 0 } } },
        audit: [
          {
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
              ...(execution.images ? { images: execution.images } : {}),
              ...(revertOf !== undefined ? { revertOf } : {}),
              ...(execution.inputs ? { inputs: execution.inputs } : {}),
            },
          },
        ],
        firstItems: result ? firstPage(result.items) : [],
        performed,
      });
    } catch (err) {
      // DynamoDB performed the write: say so, with its result, and that the run is held.
      if (!performed || !isRbError(err) || err.code !== 'RB_ERR_RUN_HELD') throw err;
      execution.items = result ? firstPage(result.items) : [];
      execution.unrecorded = { code: err.code, message: `The write was performed, but it could not be recorded yet: ${err.message}` };
      this.emit({ type: 'step.succeeded', runId: run.id, step: step.name, execution });
      return execution;
    }
    const recorded = lastExecution(run, step.name)!;
    this.emit(
      recorded.status === 'succeeded'
        ? { type: 'step.succeeded', runId: run.id, step: step.name, execution: recorded }
        : { type: 'step.failed', runId: run.id, step: step.name, execution: recorded },
    );
    // A read whose items could not be kept is recorded without them (its audit record went alongside) and fails.
    const failure = await lost;
    if (failure !== undefined && !performed && recorded.status === 'succeeded') throw failure;
    return recorded;
  }

  /** An execution that failed before its request could run (the key-schema lookup, for example). */
  private async failedBeforeRun(entry: Entry, step: Step, user: string, request: RenderedRequest, err: unknown): Promise<StepExecution> {
    const run = entry.state.run;
    const execution = failedExecution({ n: this.nextN(run, step.name), step: step.name, user, at: this.clock(), request, confirmed: false, error: err });
    const { items: _items, ...stored } = execution;
    await this.recorder.commit(entry.state, entry.backlog, {
      entry: { type: 'execution', execution: stored },
      audit: [{ type: 'step.executed', runId: run.id, user, data: { step: step.name, n: execution.n, status: 'failed', request, error: execution.error } }],
    });
    const recorded = lastExecution(run, step.name)!;
    this.emit({ type: 'step.failed', runId: run.id, step: step.name, execution: recorded });
    return recorded;
  }

  /**
   * The request exactly as it will be sent (and shown, confirmed, approved and audited): the
   * rendered step, asking for its consumed capacity (`TOTAL`) where the step does not say, so that
   * every cell can show what it cost.
   */
  private async render(entry: Entry, step: Step): Promise<{ request: RenderedRequest; inputs: StepInput[] }> {
    const { outputs, inputs } = await this.outputsFor(entry, step);
    return { request: withCapacity(renderStep(step, entry.state.run.params, this.clock(), outputs)), inputs };
  }

  /**
   * The earlier steps' outputs a step uses, from their last executions in the run: the first item
   * as the run shows it, the list over every item from the store (docs/format.md, "Step outputs").
   * RB_ERR_STEP_INPUT_MISSING, naming the step to run first, when one has not run or found nothing.
   */
  private async outputsFor(entry: Entry, step: Step): Promise<{ outputs?: StepOutputs; inputs: StepInput[] }> {
    const refs = step.inputs ?? [];
    if (refs.length === 0) return { inputs: [] };
    const run = entry.state.run;
    const outputs: StepOutputs = {};
    const inputs: StepInput[] = [];
    const redact = this.redactorOf(entry)?.paths ?? [];
    for (const ref of refs) {
      const text = `{{${outputRefText(ref)}}}`;
      // A mask passed on would be searched for, or written over the real value: refused instead.
      const redacted = redactedBy(ref.path, redact);
      if (redacted !== undefined) throw new RbError('RB_ERR_STEP_INPUT_REDACTED', `Step ${step.name}: ${redactedOutputMessage(outputRefText(ref), redacted)}.`, { step: ref.step });
      const source = lastExecution(run, ref.step);
      if (!source || source.status !== 'succeeded') {
        const why = source ? `its last execution ${source.status}` : 'it has not run in this run';
        throw new RbError('RB_ERR_STEP_INPUT_MISSING', `Step ${step.name} uses ${text}, but ${why}: run step ${ref.step} first.`, { step: ref.step });
      }
      const output = (outputs[ref.step] ??= {});
      if (ref.kind === 'first') {
        if (!source.items[0]) {
          throw new RbError(
            'RB_ERR_STEP_INPUT_MISSING',
            `Step ${step.name} uses ${text}, but execution ${source.n} of step ${ref.step} found no items: run step ${ref.step} again so that it finds one.`,
            { step: ref.step },
          );
        }
        output.first = source.items[0];
      } else {
        const all = (output.all ??= {});
        const attribute = ref.path[0];
        if (!Object.prototype.hasOwnProperty.call(all, attribute)) {
          const list: unknown[] = [];
          for await (const item of this.itemsOf(run.id, ref.step, source.n)) {
            if (!Object.prototype.hasOwnProperty.call(item, attribute)) continue;
            if (list.length >= MAX_OUTPUT_LIST) {
              throw new RbError(
                'RB_ERR_TEMPLATE_RENDER',
                `step \`${step.name}\`: ${text} would be a list of more than ${MAX_OUTPUT_LIST} values; narrow step ${ref.step} so that it returns fewer items.`,
              );
            }
            list.push(item[attribute]);
          }
          Object.defineProperty(all, attribute, { value: list, enumerable: true });
        }
      }
      let value: unknown;
      try {
        value = outputValue(outputs, ref);
      } catch (err) {
        throw new RbError('RB_ERR_TEMPLATE_RENDER', `step \`${step.name}\`: ${(err as Error).message}`);
      }
      // Masked by a redaction list no longer in force (an earlier server's --redact): refused all the same.
      if (holdsMask(value))
        throw new RbError('RB_ERR_STEP_INPUT_REDACTED', `Step ${step.name}: ${redactedOutputMessage(outputRefText(ref), ref.path.join('.'))}.`, { step: ref.step });
      inputs.push({ ref: outputRefText(ref), step: ref.step, n: source.n, value });
    }
    return { outputs, inputs };
  }

  /**
   * The current items a write addresses by key, read with a read-only session derived from their
   * keys alone (strongly consistent); or why there are none. Never fails the step: a read that is
   * refused says so in place of the images.
   */
  private async imagesBefore(entry: Entry, live: LiveRun, step: string, request: RenderedRequest, user: string): Promise<WriteImages> {
    try {
      const targets = await writeTargets(request, (table) => live.keySchemas.schema(table));
      if ('unavailable' in targets) return targets;
      if (targets.length === 0) return { unavailable: 'The write names no item.' };
      const current = await this.readCurrent(entry, live, step, targets, user);
      return { readAt: this.clock().toISOString(), items: targets.map((t, i) => ({ ...t, before: current[i] })) };
    } catch (err) {
      return { unavailable: `The current item could not be read (${isRbError(err) ? err.message : 'unexpected error'}).` };
    }
  }

  /** The same items read again after the write, and what changed in each. */
  private async imagesAfter(entry: Entry, live: LiveRun, step: string, before: WriteImages, user: string): Promise<WriteImages> {
    if ('unavailable' in before) return before;
    try {
      const now = await this.readCurrent(entry, live, step, before.items, user);
      return { readAt: before.readAt, items: before.items.map((item, i) => ({ ...item, after: now[i], diff: diffItems(item.before, now[i]) })) };
    } catch (err) {
      return { unavailable: `The written item could not be read back (${isRbError(err) ? err.message : 'unexpected error'}).` };
    }
  }

  private async readCurrent(entry: Entry, live: LiveRun, step: string, items: readonly KeyedItem[], user: string): Promise<Array<Record<string, unknown> | null>> {
    const request = readRequest(items);
    const policy = await this.policyFor(entry.state.run, live, request);
    const session = await this.assume(entry, live, `${step}@read`, policy, user);
    try {
      const result = await executeRequest(request, session, { region: this.options.region, endpoint: this.options.endpoint, maxItems: 100 });
      return matchItems(items, result.items, result.itemTables ?? []);
    } finally {
      forget(session);
    }
  }

  /**
   * Where a read's items go as they arrive: the store, at their place in the execution. A page is
   * written while the next is fetched (`write` resolves once the page before is on disk: memory holds
   * two pages at most); `written` settles once the last is, and rejects if any write failed. With
   * `holdFirst`, the first page is held until `settle` says whether the execution's record keeps
   * the items instead (a result of few items and no more pages: store.ts, INLINE_ITEMS), or a second
   * page shows it will not.
   */
  private itemSink(
    runId: string,
    step: string,
    n: number,
    base: number,
    redactor: Redactor | undefined,
    holdFirst = false,
  ): NonNullable<ExecuteOptions['sink']> & {
    write(items: Record<string, unknown>[], offset: number, redacted?: boolean): Promise<void>;
    settle(inRecord: boolean): boolean;
    written(): Promise<void>;
  } {
    let last: Promise<void> = Promise.resolve();
    let held: Record<string, unknown>[] | undefined;
    let wrote = false;
    let settled = false;
    const put = (items: Record<string, unknown>[], offset: number) => {
      wrote = true;
      const previous = last;
      last = previous.then(() => this.store.putItems(runId, step, n, base + offset, items));
      last.catch(() => undefined); // reported by the next write, or by `written`
      return previous;
    };
    const release = () => {
      if (held) void put(held, 0);
      held = undefined;
    };
    return {
      keep: FIRST_PAGE_ITEMS,
      write: (items, offset, redacted = false) => {
        // Items the executor streams here come straight from DynamoDB: masked before they are stored.
        const kept = redacted ? items : redactItems(redactor, items);
        if (holdFirst && !settled && !held && offset === 0) {
          held = kept;
          return Promise.resolve();
        }
        release();
        return put(kept, offset);
      },
      // True when the record keeps the items: asked for, and none of them went to the store yet.
      settle: (inRecord) => {
        settled = true;
        if (inRecord && !wrote) {
          held = undefined;
          return true;
        }
        release();
        return false;
      },
      written: () => last,
    };
  }

  /** The session policy of a request; key schemas come from DescribeTable through scoped sessions. */
  private async policyFor(run: Run, live: LiveRun, request: RenderedRequest): Promise<PolicyDocument> {
    const account = accountOfRoleArn(run.roleArn) ?? this.options.account ?? '000000000000';
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
    entry: Entry,
    live: LiveRun,
    step: string,
    policy: PolicyDocument,
    user: string,
    session: Session,
    request: RenderedRequest,
    options: Parameters<typeof executeRequest>[2],
  ): Promise<{ result: ExecutionResult; session: Session }> {
    try {
      return { result: await executeRequest(request, session, options), session };
    } catch (err) {
      const awsCode = isRbError(err) ? (err.details as { awsCode?: string } | undefined)?.awsCode : undefined;
      if (!this.revoker || awsCode !== 'AccessDeniedException') throw err;
      const cutoff = await this.revoker.cutoff(entry.state.run.roleArn).catch(() => undefined);
      if (!cutoff || session.issuedAt >= cutoff) throw err;
      const fresh = await this.assume(entry, live, step, policy, user);
      return { result: await executeRequest(request, fresh, options), session: fresh };
    }
  }

  private async assume(entry: Entry, live: LiveRun, step: string, policy: PolicyDocument, user: string): Promise<Session> {
    const run = entry.state.run;
    const session = await this.broker.assume({
      roleArn: run.roleArn,
      policy,
      sessionName: sessionName(run.id, step, ++live.executionCounter),
      durationSeconds: this.runbookOf(run.id)?.access.duration ?? DEFAULT_DURATION,
      // The session names who executes the step (CloudTrail blames them); the run's owner is a tag of its own.
      sourceIdentity: sourceIdentityOf(user === 'system' ? run.user : user),
      tags: { runbook: run.runbook, run: run.id, step, user: sourceIdentityOf(user === 'system' ? run.user : user), owner: sourceIdentityOf(run.user) },
    });
    addSession(live, session);
    await this.noteSessions(entry, live);
    return session;
  }

  /**
   * Keeps in the journal what revocation needs after a crash: the role id and an expiry no earlier
   * than any session's (with a margin, so it is noted about once an hour, not per session).
   */
  private async noteSessions(entry: Entry, live: LiveRun): Promise<void> {
    const run = entry.state.run;
    const latest = live.latest;
    if (!latest) return;
    if (run.roleId === latest.roleId && run.sessionsUntil !== undefined && Date.parse(run.sessionsUntil) >= latest.expiration) return;
    await this.recorder.commit(entry.state, entry.backlog, {
      entry: {
        type: 'session.noted',
        roleId: latest.roleId,
        sessionsUntil: new Date(latest.expiration + NOTE_MARGIN_MS).toISOString(),
        sessionsIssuedUntil: new Date(latest.issuedAt).toISOString(),
      },
    });
  }

  // -- ending a run ------------------------------------------------------------------------------

  private async end(entry: Entry, reason: EndReason, user: string): Promise<void> {
    const run = entry.state.run;
    if (run.status !== 'active') throw new RbError('RB_ERR_RUN_NOT_ACTIVE', `Run ${run.id} is already ${run.status}.`);
    for (const approval of Object.values(run.approvals)) {
      const cancelled = approvals.cancel(
        approval,
        this.clock(),
        `The run ended (${reason}) before the ${approval.status === 'pending' ? 'request was decided' : 'approved request ran'}.`,
      );
      if (cancelled) await this.transition(entry, cancelled, user);
    }
    const sessions = entry.live?.sessions ?? [];
    const infos = run.executions.flatMap((e) => (e.session ? [e.session] : []));
    const revocation = await this.revoke(entry, sessions);
    const status = reason === 'idle' ? 'expired' : reason === 'interrupted' ? 'interrupted' : 'completed';
    const sessionIds = infos.map((s) => s.assumedRoleId);
    const record = await this.recorder.commit(entry.state, entry.backlog, {
      entry: { type: 'run.ended', status, reason, endedAt: revocation.at, revocation, revokedSessions: sessionIds },
      audit: [
        { type: 'session.revoked', runId: run.id, user, data: { ...revocation, sessionIds } },
        { type: 'run.completed', runId: run.id, user, data: { status, reason } },
      ],
    });
    entry.live = undefined;
    // session.revoked, then run.completed: as the other replicas announce the same record.
    if (record) for (const event of eventsOf(run, record)) this.emit(event);
    this.letGoOfEnded();
  }

  /** Forgets every credential of the run at once, then denies its sessions through IAM where that is on. */
  private async revoke(entry: Entry, sessions: readonly Session[]): Promise<NonNullable<Run['revocation']>> {
    const run = entry.state.run;
    // Every session the run was issued, key-schema lookups included, is named rb-<run>-*: one deny
    // per role covers them all, even those whose credentials died with a crashed process.
    const recorded: RoleSessions[] = run.executions.flatMap((e) =>
      e.session
        ? [
            {
              roleArn: e.session.roleArn,
              roleId: e.session.assumedRoleId.split(':')[0],
              until: new Date(e.session.expiration),
              ...(e.session.issuedAt ? { issued: new Date(e.session.issuedAt) } : {}),
            },
          ]
        : [],
    );
    if (run.roleId && run.sessionsUntil) {
      recorded.push({
        roleArn: run.roleArn,
        roleId: run.roleId,
        until: new Date(run.sessionsUntil),
        ...(run.sessionsIssuedUntil ? { issued: new Date(run.sessionsIssuedUntil) } : {}),
      });
    }
    const infos = run.executions.filter((e) => e.session).length;
    const revocation: NonNullable<Run['revocation']> = { at: this.clock().toISOString(), sessions: sessions.length || infos, iam: this.revoker ? 'done' : 'off' };
    try {
      await revokeRunSessions(run.id, sessions, this.revoker, recorded);
    } catch (err) {
      revocation.iam = 'failed';
      revocation.error = isRbError(err) ? err.message : 'IAM refused the deny policy';
    }
    return revocation;
  }

  /** Completing an ended run whose IAM revocation failed tries that revocation again. */
  private async retryRevocation(entry: Entry, user: string): Promise<void> {
    const run = entry.state.run;
    const revocation = await this.revoke(entry, []);
    await this.recorder.commit(entry.state, entry.backlog, {
      entry: {
        type: 'run.ended',
        status: run.status as Exclude<Run['status'], 'active'>,
        reason: run.endReason ?? 'complete',
        endedAt: run.endedAt ?? revocation.at,
        revocation,
        revokedSessions: [],
      },
      audit: [{ type: 'session.revoked', runId: run.id, user, data: { ...revocation, retry: true } }],
    });
    this.emit({ type: 'session.revoked', runId: run.id, sessions: run.executions.flatMap((e) => (e.session ? [e.session] : [])), revocation });
    if (revocation.iam === 'failed') throw new RbError('RB_ERR_ACCESS_REVOKE', revocation.error ?? "Revoking the run's sessions through IAM failed again.");
  }

  private async expireIdle(idleMs: number): Promise<void> {
    const now = this.clock().getTime();
    for (const entry of this.runs.values()) {
      const last = Math.max(Date.parse(entry.state.run.lastActivityAt), entry.touchedAt);
      if ((entry.live || this.shared) && entry.state.run.status === 'active' && now - last >= idleMs) {
        // Under the run's lease and after reading its latest records: of several replicas, the first ends it, once.
        const stillIdle = () => entry.state.run.status === 'active' && this.clock().getTime() - Math.max(Date.parse(entry.state.run.lastActivityAt), entry.touchedAt) >= idleMs;
        await this.exclusive(entry, async () => {
          await this.refresh(entry);
          if (stillIdle()) await this.end(entry, 'idle', 'system');
        }).catch(() => undefined);
      }
    }
  }

  // -- bookkeeping -------------------------------------------------------------------------------

  /** Runs `fn` with the run's lock held, once its backlog is written, so that requests on one run do not interleave. */
  private async locked<T>(runId: string, fn: (entry: Entry, live: LiveRun) => Promise<T> | T): Promise<T> {
    const entry = await this.entryOf(runId);
    if (!entry) throw runNotFound(runId);
    const refusal = () => {
      const run = entry.state.run;
      if (run.status !== 'active') return new RbError('RB_ERR_RUN_NOT_ACTIVE', `Run ${run.id} is ${run.status}; start a new run.`);
      // On a shared store any replica runs any run, with sessions of its own.
      if (!entry.live && !this.shared) return new RbError('RB_ERR_RUN_ELSEWHERE', `Run ${run.id} is run by ${ownerText(entry.header)} on this data folder; continue it there.`);
      return undefined;
    };
    const early = refusal();
    if (early) throw early;
    return this.exclusive(entry, async () => {
      // Another process may have appended (an approver deciding through a server on the folder, another replica).
      await this.refresh(entry);
      const late = refusal();
      if (late) throw late;
      entry.live ??= this.newLive(entry.header);
      entry.touchedAt = this.clock().getTime();
      await this.recorder.flush(entry.state, entry.backlog);
      return fn(entry, entry.live);
    });
  }

  /**
   * Runs a change of a run alone: in this process (its lock), and on a shared store also across
   * replicas (the run's lease, SharedStore). The lease is waited for before the lock is taken, so
   * that while a request waits for another replica, this one still reads and announces what the
   * others record.
   */
  private exclusive<T>(entry: Entry, fn: () => Promise<T>): Promise<T> {
    return this.shared ? this.shared.hold(entry.header.id, () => this.serialised(entry, fn)) : this.serialised(entry, fn);
  }

  /** Reads a run this replica does not know from the store (once, however many ask at a time). */
  private loadRun(runId: string, announce = false): Promise<Entry | undefined> {
    const known = this.runs.get(runId);
    if (known) return Promise.resolve(known);
    let loading = this.loading.get(runId);
    if (!loading) {
      loading = (async () => {
        const read = await this.store.read(runId).catch((err: unknown) => {
          // An id the store cannot hold is simply not a run.
          if (isRbError(err) && err.code === 'RB_ERR_STORE_CONFLICT') return undefined;
          throw err;
        });
        if (!read || this.runs.has(runId)) return this.runs.get(runId);
        // On a shared store an active run new to this replica is announced to its viewers, whoever
        // asked for it first (a request can reach a run before the change feed does); a run read
        // back from history is not.
        const tell = announce || (this.shared !== undefined && !read.records.some((r) => r.type === 'run.ended'));
        const entry = this.track(read.header);
        if (tell) this.emit({ type: 'run.started', run: entry.state.run });
        // Under the run's lock: a refresh asked for meanwhile reads past these records, not them again.
        await this.serialised(entry, () => this.applyAll(entry, read.records, tell));
        return entry;
      })().finally(() => this.loading.delete(runId));
      this.loading.set(runId, loading);
    }
    return loading;
  }

  /**
   * Follows the store's change feed: reads the records other replicas append to the runs this one
   * knows (announcing them to its viewers), and the runs they start. One feed query per table per
   * tick, whatever the number of runs (docs/deploy.md, "Replicas").
   */
  private follow(): void {
    const shared = this.shared!;
    const following = { stopped: false, since: Date.now() - FOLLOW_LOOKBACK_MS, timer: undefined as NodeJS.Timeout | undefined };
    const pending = new Set<string>();
    this.following = following;
    const tick = async () => {
      const asked = Date.now();
      const latest = new Map<string, number>();
      for (const change of await shared.changes(new Date(following.since))) latest.set(change.run, Math.max(latest.get(change.run) ?? 0, change.seq));
      following.since = asked - FOLLOW_LOOKBACK_MS;
      const reads: Array<Promise<unknown>> = [];
      for (const [runId, seq] of latest) {
        if (following.stopped) return;
        const entry = this.runs.get(runId);
        if (!entry) reads.push(this.loadRun(runId, true));
        // Not behind a request that holds the run (a long Scan): that request reads the run itself first.
        else if (seq > entry.state.seq && !pending.has(runId)) {
          pending.add(runId);
          void this.serialised(entry, () => this.refresh(entry))
            .catch((err: unknown) => this.options.onInternalError?.(err))
            .finally(() => pending.delete(runId));
        }
      }
      await Promise.all(reads);
    };
    const again = () => {
      if (following.stopped) return;
      following.timer = setTimeout(() => {
        tick()
          .catch((err: unknown) => this.options.onInternalError?.(err))
          .finally(again);
      }, FOLLOW_EVERY_MS);
      following.timer.unref();
    };
    again();
  }

  /** Forgets this process's sessions of a run: their credentials, at once (revocation is the store's run.ended). */
  private forgetLive(entry: Entry): void {
    for (const session of entry.live?.sessions ?? []) forget(session);
    entry.live = undefined;
  }

  /** Applies what other processes appended to a run's journal since this one last looked. */
  private async refresh(entry: Entry): Promise<void> {
    // A held run's backlog goes first on a store of its own; replicas must read past what others appended.
    if (entry.backlog.length > 0 && !this.shared) return;
    const read = await this.store.read(entry.header.id, entry.state.seq + 1);
    if (read && read.records.length > 0) await this.applyAll(entry, read.records, true);
  }

  /**
   * Runs a change that needs no session (an approver's decision) on any active run of the store,
   * including one another process runs: read its latest records, change, append at the next
   * number; if another writer took that number meanwhile, read again and retry once.
   */
  private async anywhere<T>(runId: string, fn: (entry: Entry) => Promise<T>): Promise<T> {
    if (!this.runs.has(runId)) await (this.shared ? this.loadRun(runId) : this.sync());
    const entry = this.runs.get(runId);
    if (!entry) throw runNotFound(runId);
    return this.exclusive(entry, async () => {
      for (let attempt = 1; ; attempt++) {
        await this.refresh(entry);
        if (entry.state.run.status !== 'active') throw new RbError('RB_ERR_RUN_NOT_ACTIVE', `Run ${runId} is ${entry.state.run.status}; start a new run.`);
        try {
          return await fn(entry);
        } catch (err) {
          if (attempt >= 2 || !isRbError(err) || err.code !== 'RB_ERR_STORE_CONFLICT') throw err;
        }
      }
    });
  }

  private serialised<T>(entry: Entry, fn: () => Promise<T> | T): Promise<T> {
    const next = entry.lock.then(fn);
    entry.lock = next.catch(() => undefined);
    return next;
  }

  private track(header: RunHeader): Entry {
    // Read just now: an ended run read back from the store stays whole while it is being looked at.
    const entry: Entry = { header, state: initialState(header), backlog: [], lock: Promise.resolve(), touchedAt: this.clock().getTime() };
    this.ended.delete(header.id);
    this.unlisted.delete(header.id);
    this.runs.set(header.id, entry);
    return entry;
  }

  /**
   * Folds records into a run, giving each step's last execution its first page from the store;
   * `announce` emits what they record (records another process appended), and an end learnt so
   * forgets this process's sessions of the run.
   */
  private async applyAll(entry: Entry, records: JournalRecord[], announce = false): Promise<void> {
    const lastOfStep = new Map<string, number>();
    for (const r of records) if (r.type === 'execution') lastOfStep.set(r.execution.step, r.seq);
    for (const r of records) {
      // A record already applied (read twice by overlapping reads) is skipped, never applied again.
      if (r.seq <= entry.state.seq) continue;
      let first: Record<string, unknown>[] = [];
      if (r.type === 'execution' && !r.items && lastOfStep.get(r.execution.step) === r.seq && (r.execution.itemCount ?? 0) > 0) {
        first = firstPage(await this.store.readItems(entry.header.id, r.execution.step, r.execution.n, 0, 100));
      }
      applyRecord(entry.state, r, first);
      if (announce) for (const event of eventsOf(entry.state.run, r)) this.emit(event);
    }
    if (entry.state.run.status !== 'active' && entry.live) this.forgetLive(entry);
    const ownedElsewhere = !this.shared && entry.state.run.status === 'active' && !this.ownerIsGone(entry.header) && entry.header.owner?.instance !== this.instance;
    if (ownedElsewhere) entry.state.run.elsewhere = ownerText(entry.header);
    else delete entry.state.run.elsewhere;
  }

  private newLive(header: RunHeader): LiveRun {
    const sessions: Session[] = [];
    const keySchemas = createKeySchemaCache({
      broker: this.broker,
      region: this.options.region,
      endpoint: this.options.endpoint,
      roleArn: header.roleArn,
      runId: header.id,
      account: accountOfRoleArn(header.roleArn) ?? this.options.account ?? '000000000000',
      sourceIdentity: sourceIdentityOf(header.user),
      tags: { runbook: header.runbook, run: header.id, step: 'keys', user: sourceIdentityOf(header.user) },
      // Noted with the step's own session right after.
      onSession: (session) => addSession(live, session),
      store: this.keySchemas,
    });
    const live: LiveRun = { sessions, keySchemas, executionCounter: 0, heldCursors: new Map() };
    return live;
  }

  /**
   * What a run's results are redacted by: the list it started with (its runbook's and the server's
   * then), this server's, and its runbook's; undefined when nothing is.
   */
  private redactorOf(entry: Entry): Redactor | undefined {
    return createRedactor([...(entry.header.redact ?? []), ...this.serverRedact, ...(this.runbookOf(entry.header.id)?.redact ?? [])]);
  }

  /**
   * The cursor to record with an execution or page; one that may hold a redacted key value is kept
   * in this process only (another process, or this one after a restart, asks to run the step again).
   */
  private holdCursor(live: LiveRun, redactor: Redactor | undefined, step: string, n: number, cursor: Cursor | undefined): Cursor | undefined {
    live.heldCursors.delete(step);
    if (!cursor || !cursorHoldsRedacted(redactor, cursor)) return cursor;
    live.heldCursors.set(step, { n, cursor });
    return undefined;
  }

  private ownerIsGone(header: RunHeader): boolean {
    return ownerIsGone(header, this.instance);
  }

  private stepOf(entry: Entry, name: string): Step {
    const step = this.runbookOf(entry.header.id)?.steps.find((s) => s.name === name);
    if (!step) throw new RbError('RB_ERR_STEP_NOT_FOUND', `The runbook has no step named ${JSON.stringify(name)}.`);
    return step;
  }

  private nextN(run: Run, step: string): number {
    return (lastExecution(run, step)?.n ?? 0) + 1;
  }

  /** The items an execution's record holds, all of them, if it holds any. */
  private inlineOf(runId: string, step: string, n: number): Record<string, unknown>[] | undefined {
    return this.runs.get(runId)?.state.inline.get(inlineKey(step, n));
  }

  /** Items `offset`… of an execution: from its record where it holds them all (store.ts, INLINE_ITEMS), else from the store. */
  private async readItems(runId: string, step: string, n: number, offset: number, limit: number): Promise<Record<string, unknown>[]> {
    const inline = this.inlineOf(runId, step, n);
    return inline ? inline.slice(offset, offset + limit) : this.store.readItems(runId, step, n, offset, limit);
  }

  /** Every item of an execution, in order: from its record, or from the store a page at a time. */
  private itemsOf(runId: string, step: string, n: number): AsyncIterable<Record<string, unknown>> {
    const inline = this.inlineOf(runId, step, n);
    if (!inline) return this.store.items(runId, step, n);
    return (async function* () {
      yield* inline;
    })();
  }

  private executionOf(runId: string, stepName: string, n?: number): StepExecution {
    const run = this.getRun(runId);
    if (!run) throw runNotFound(runId);
    const execution = n === undefined ? lastExecution(run, stepName) : run.executions.find((e) => e.step === stepName && e.n === n);
    if (!execution) {
      const runbook = this.runbookOf(runId);
      if (runbook && !runbook.steps.some((s) => s.name === stepName)) throw new RbError('RB_ERR_STEP_NOT_FOUND', `The runbook has no step named ${JSON.stringify(stepName)}.`);
      throw new RbError('RB_ERR_RUN_NO_EXECUTION', `Step ${stepName} has ${n === undefined ? 'not been executed' : `no execution ${n}`} in run ${runId}.`);
    }
    return execution;
  }

  private emit(event: RunEvent): void {
    this.events.emit('event', event);
  }
}

function addSession(live: LiveRun, session: Session): void {
  live.sessions.push(session);
  const prior = live.latest;
  live.latest = {
    roleId: session.roleId,
    expiration: Math.max(prior?.expiration ?? 0, session.expiration.getTime()),
    issuedAt: Math.max(prior?.issuedAt ?? 0, session.issuedAt.getTime()),
  };
}

/** A request that asks for its consumed capacity (`TOTAL`) where the step does not say otherwise. */
function withCapacity(request: RenderedRequest): RenderedRequest {
  const takesCapacity = request.operation === 'ExecuteStatement' || 'ReturnConsumedCapacity' in operations[request.operation].fields;
  if (!takesCapacity || (request.input as Record<string, unknown>).ReturnConsumedCapacity !== undefined) return request;
  return { ...request, input: { ...request.input, ReturnConsumedCapacity: 'TOTAL' } } as RenderedRequest;
}
