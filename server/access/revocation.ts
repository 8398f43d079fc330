/**
 * Revocation through IAM: STS sessions cannot be ended early, but an explicit Deny on the role
 * matching their `aws:userid` makes every one of them useless at once (docs/security.md,
 * "Revocation"). The deny lives in one inline role policy (./revocation-policy.ts), of bounded size
 * whatever the number of runs, updated read-modify-write with GetRolePolicy and PutRolePolicy.
 * Updates of one role are serialised within this process; several servers sharing a role could
 * race (the last write wins), which the run engine avoids by retrying completion.
 */
import { DeleteRolePolicyCommand, GetRolePolicyCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { RbError } from '../errors.js';
import { parseRoleArn } from '../aws/arn.js';
import { forget, type AwsCredentialIdentity, type AwsCredentialIdentityProvider, type Session } from '../aws/credentials.js';
import type { PolicyDocument } from './derive-policy.js';
import {
  INLINE_POLICY_MAX_CHARS,
  REVOCATION_POLICY_NAME,
  planRevocation,
  policySize,
  pruneState,
  readEntries,
  stateDocument,
  type RevocationEntry,
  type RevocationState,
} from './revocation-policy.js';
import { clientOptions, scrub, type AwsTarget } from '../aws/sdk.js';
import { runUserIdPattern } from './session-name.js';

export interface RevokerOptions extends AwsTarget {
  /** the server's own principal (needs iam:GetRolePolicy, iam:PutRolePolicy, iam:DeleteRolePolicy on the role) */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** the size the policy is kept under (IAM's 10,240 for all of a role's inline policies, less what others use) */
  maxChars?: number;
  /** told of every cutoff this revoker puts or reads: sessions of the role issued before it are refused */
  onCutoff?: (roleArn: string, issuedBefore: Date) => void;
}

export interface RevokeRunInput {
  roleArn: string;
  /** the role's unique id, `AROA…` (Session.roleId) */
  roleId: string;
  runId: string;
  /** the latest expiry of the run's sessions */
  until: Date;
  /** the latest issue time of the run's sessions (STS's clock), when known */
  issued?: Date;
}

export interface IamRevoker {
  /** Denies every session `rb-<run>-*` of the role until `until`; prunes expired entries on the way. */
  revokeRun(input: RevokeRunInput): Promise<void>;
  /** Drops the entries whose sessions have all expired; deletes the policy when none is left. */
  prune(roleArn: string, now?: Date): Promise<void>;
  /** The current entries of a role's revocation policy (for status pages and tests). */
  entries(roleArn: string): Promise<RevocationEntry[]>;
  /** The role's current cutoff, read from IAM: the tool's sessions issued before it are refused. */
  cutoff(roleArn: string): Promise<Date | undefined>;
  destroy(): void;
}

/** Creates a revoker that edits role policies with the given principal. */
export function createIamRevoker(options: RevokerOptions): IamRevoker {
  const iam = new IAMClient({ ...clientOptions(options), ...(options.credentials ? { credentials: options.credentials } : {}) });
  const queues = new Map<string, Promise<unknown>>();
  const maxChars = options.maxChars ?? INLINE_POLICY_MAX_CHARS;

  /** Runs updates of one role one after another, so that no read-modify-write loses another's entry. */
  function serialised<T>(roleName: string, work: () => Promise<T>): Promise<T> {
    const previous = queues.get(roleName) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    queues.set(roleName, tail);
    void tail.then(() => {
      if (queues.get(roleName) === tail) queues.delete(roleName);
    });
    return next;
  }

  async function read(roleName: string): Promise<PolicyDocument | undefined> {
    try {
      const out = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: REVOCATION_POLICY_NAME }));
      return parseDocument(out.PolicyDocument ?? '');
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchEntity' || (err as { name?: string }).name === 'NoSuchEntityException') return undefined;
      throw err;
    }
  }

  async function write(roleName: string, doc: PolicyDocument): Promise<void> {
    await iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: REVOCATION_POLICY_NAME, PolicyDocument: JSON.stringify(doc) }));
  }

  return {
    revokeRun({ roleArn, roleId, runId, until, issued }) {
      const { roleName } = parseRoleArn(roleArn);
      const pattern = runUserIdPattern(roleId, runId);
      return serialised(roleName, async () => {
        try {
          const current = readEntries(await read(roleName));
          const plan = (budget: number) => planRevocation(current, { roleId, pattern, until, issued, now: new Date(), maxChars: budget });
          let next = plan(maxChars);
          check(roleName, next.state);
          for (;;) {
            try {
              await write(roleName, stateDocument(next.state));
              break;
            } catch (err) {
              // LimitExceeded: the role's other inline policies leave less room than planned; plan
              // smaller (compacted, then folded) until it fits.
              if (!isLimitExceeded(err)) throw err;
              if (next.folded || next.state.entries.length === 0) throw full(roleName, next.state);
              next = plan(Math.floor(policySize(stateDocument(next.state)) * 0.75));
            }
          }
          if (next.state.cutoff) options.onCutoff?.(roleArn, next.state.cutoff.issuedBefore);
        } catch (err) {
          throw revokeError(err, roleArn);
        }
      });
    },

    prune(roleArn, now = new Date()) {
      const { roleName } = parseRoleArn(roleArn);
      return serialised(roleName, async () => {
        try {
          const current = await read(roleName);
          if (!current) return;
          const state = readEntries(current);
          const kept = pruneState(state, now);
          if (kept.entries.length === state.entries.length && kept.cutoff === state.cutoff) return;
          if (kept.entries.length === 0 && kept.foreign.length === 0 && !kept.cutoff) {
            await iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: REVOCATION_POLICY_NAME }));
          } else {
            await write(roleName, stateDocument(kept));
          }
        } catch (err) {
          throw revokeError(err, roleArn);
        }
      });
    },

    async entries(roleArn) {
      const { roleName } = parseRoleArn(roleArn);
      return readEntries(await read(roleName)).entries;
    },

    async cutoff(roleArn) {
      const { roleName } = parseRoleArn(roleArn);
      const cutoff = readEntries(await read(roleName)).cutoff?.issuedBefore;
      if (cutoff) options.onCutoff?.(roleArn, cutoff);
      return cutoff;
    },

    destroy() {
      iam.destroy();
    },
  };
}

/** IAM returns policy documents URL-encoded (RFC 3986); accept plain JSON as well. */
function parseDocument(raw: string): PolicyDocument | undefined {
  for (const text of [raw, safeDecode(raw)]) {
    try {
      return JSON.parse(text) as PolicyDocument;
    } catch {
      // try the next form
    }
  }
  return undefined;
}

function safeDecode(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function isLimitExceeded(err: unknown): boolean {
  const name = (err as { name?: string }).name;
  return name === 'LimitExceeded' || name === 'LimitExceededException';
}

/** Over the limit with no entry left to fold: the role's own statements fill it. */
function check(roleName: string, state: RevocationState): void {
  if (policySize(stateDocument(state)) > INLINE_POLICY_MAX_CHARS) throw full(roleName, state);
}

function full(roleName: string, state: RevocationState): RbError {
  const size = policySize(stateDocument(state));
  return new RbError(
    'RB_ERR_ACCESS_REVOKE',
    `The revocation policy of role ${roleName} would be ${size} characters, over what IAM leaves for a role's inline ` +
      `policies, although it holds nothing but a cutoff and ${state.foreign.length} statements that are not the tool's. ` +
      "The credentials are forgotten, but this run's sessions stay usable by whoever holds them until they expire. " +
      `Remove statements from the role's ${REVOCATION_POLICY_NAME} policy or its other inline policies.`,
    { awsCode: 'LimitExceeded', size, limit: INLINE_POLICY_MAX_CHARS },
  );
}

function revokeError(err: unknown, roleArn: string): RbError {
  if (err instanceof RbError) return err;
  const e = err as { name?: string; message?: string };
  const awsCode = e?.name ?? 'Error';
  const awsMessage = scrub(String(e?.message ?? err));
  return new RbError(
    'RB_ERR_ACCESS_REVOKE',
    `Revoking the run's sessions through IAM failed on ${roleArn} (${awsCode}: ${awsMessage}). The credentials are forgotten; ` +
      "the server's identity needs iam:GetRolePolicy and iam:PutRolePolicy on the role. Retry completing the run.",
    { awsCode, awsMessage },
  );
}

/** A role a run's sessions were issued under, with their latest expiry and issue time. */
export interface RoleSessions {
  roleArn: string;
  roleId: string;
  until: Date;
  issued?: Date;
}

/** Merges the roles of sessions (and of what a run record remembers) to one entry per role. */
export function rolesOf(list: Iterable<RoleSessions>): RoleSessions[] {
  const byRole = new Map<string, RoleSessions>();
  for (const r of list) {
    const key = `${r.roleArn}\n${r.roleId}`;
    const prior = byRole.get(key);
    const until = prior && prior.until > r.until ? prior.until : r.until;
    const issued = [prior?.issued, r.issued].filter((d): d is Date => d !== undefined).sort((a, b) => b.getTime() - a.getTime())[0];
    byRole.set(key, { roleArn: r.roleArn, roleId: r.roleId, until, ...(issued ? { issued } : {}) });
  }
  return [...byRole.values()];
}

/**
 * Revokes every session of a run: forgets all their credentials first (at once, whatever IAM says),
 * then, with a revoker, denies each role's `rb-<run>-*` until the latest expiry of its sessions,
 * including roles known only from the run's record (sessions of a process that died). Every role is
 * attempted; the first failure is thrown afterwards, so completing again retries what failed.
 */
export async function revokeRunSessions(runId: string, sessions: readonly Session[], revoker?: IamRevoker, recorded: RoleSessions[] = []): Promise<void> {
  sessions.forEach(forget);
  if (!revoker) return;
  const roles = rolesOf([...sessions.map((s) => ({ roleArn: s.roleArn, roleId: s.roleId, until: s.expiration, issued: s.issuedAt })), ...recorded]);
  const results = await Promise.allSettled(roles.map((r) => revoker.revokeRun({ ...r, runId })));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
