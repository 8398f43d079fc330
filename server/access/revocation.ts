/**
 * Revocation through IAM: STS sessions cannot be ended early, but an explicit Deny on the role
 * matching their `aws:userid` makes every one of them useless at once (DESIGN §3). The deny lives in
 * one inline role policy (./revocation-policy.ts), updated read-modify-write with GetRolePolicy and
 * PutRolePolicy. Updates of one role are serialised within this process; several servers sharing
 * a role could race (the last write wins), which the run engine avoids by retrying completion.
 */
import {
  DeleteRolePolicyCommand,
  GetRolePolicyCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { RbError } from '../errors.js';
import { parseRoleArn } from './arn.js';
import { forget, type AwsCredentialIdentity, type AwsCredentialIdentityProvider, type Session } from './credentials.js';
import type { PolicyDocument } from './derive-policy.js';
import {
  INLINE_POLICY_MAX_CHARS,
  REVOCATION_POLICY_NAME,
  addEntry,
  compactEntries,
  policySize,
  pruneEntries,
  readEntries,
  revocationDocument,
  type RevocationEntry,
} from './revocation-policy.js';
import { clientOptions, scrub, type AwsTarget } from './sdk.js';
import { runUserIdPattern } from './session-name.js';

export interface RevokerOptions extends AwsTarget {
  /** the server's own principal (needs iam:GetRolePolicy, iam:PutRolePolicy, iam:DeleteRolePolicy on the role) */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

export interface RevokeRunInput {
  roleArn: string;
  /** the role's unique id, `AROA…` (Session.roleId) */
  roleId: string;
  runId: string;
  /** the latest expiry of the run's sessions */
  until: Date;
}

export interface IamRevoker {
  /** Denies every session `rb-<run>-*` of the role until `until`; prunes expired entries on the way. */
  revokeRun(input: RevokeRunInput): Promise<void>;
  /** Drops the entries whose sessions have all expired; deletes the policy when none is left. */
  prune(roleArn: string, now?: Date): Promise<void>;
  /** The current entries of a role's revocation policy (for status pages and tests). */
  entries(roleArn: string): Promise<RevocationEntry[]>;
  destroy(): void;
}

/** Creates a revoker that edits role policies with the given principal. */
export function createIamRevoker(options: RevokerOptions): IamRevoker {
  const iam = new IAMClient({ ...clientOptions(options), ...(options.credentials ? { credentials: options.credentials } : {}) });
  const queues = new Map<string, Promise<unknown>>();

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
    await iam.send(
      new PutRolePolicyCommand({ RoleName: roleName, PolicyName: REVOCATION_POLICY_NAME, PolicyDocument: JSON.stringify(doc) }),
    );
  }

  return {
    revokeRun({ roleArn, roleId, runId, until }) {
      const { roleName } = parseRoleArn(roleArn);
      const pattern = runUserIdPattern(roleId, runId);
      return serialised(roleName, async () => {
        try {
          const { entries, foreign } = readEntries(await read(roleName));
          let next = pruneEntries(addEntry(entries, pattern, until), new Date());
          let doc = revocationDocument(next, foreign);
          if (policySize(doc) > INLINE_POLICY_MAX_CHARS) {
            next = compactEntries(next);
            doc = revocationDocument(next, foreign);
          }
          if (policySize(doc) > INLINE_POLICY_MAX_CHARS) throw full(roleName, next, policySize(doc));
          try {
            await write(roleName, doc);
          } catch (err) {
            // LimitExceeded: the role's other inline policies leave less room than 10,240; compact and retry once.
            if (!isLimitExceeded(err) || next.length <= 1) throw err;
            next = compactEntries(next);
            doc = revocationDocument(next, foreign);
            await write(roleName, doc).catch((again) => {
              throw isLimitExceeded(again) ? full(roleName, next, policySize(doc)) : again;
            });
          }
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
          const { entries, foreign } = readEntries(current);
          const kept = pruneEntries(entries, now);
          if (kept.length === entries.length) return;
          if (kept.length === 0 && foreign.length === 0) {
            await iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: REVOCATION_POLICY_NAME }));
          } else {
            await write(roleName, revocationDocument(kept, foreign));
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

function full(roleName: string, entries: RevocationEntry[], size: number): RbError {
  const latest = new Date(Math.max(...entries.map((e) => e.until.getTime())));
  return new RbError(
    'RB_ERR_ACCESS_REVOKE',
    `The revocation policy of role ${roleName} would be ${size} characters, over IAM's ${INLINE_POLICY_MAX_CHARS} for a role's inline ` +
      `policies, even after pruning and compacting (${entries.reduce((n, e) => n + e.patterns.length, 0)} runs with live sessions). ` +
      `The credentials are forgotten, but this run's sessions stay usable by whoever holds them until they expire (at the latest ${latest.toISOString()}). ` +
      'Use shorter session durations, or spread runbooks over more roles.',
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

/**
 * Revokes every session of a run: forgets all their credentials first (at once, whatever IAM says),
 * then, with a revoker, denies each role's `rb-<run>-*` until the latest expiry of its sessions.
 * Every role is attempted; the first failure is thrown afterwards.
 */
export async function revokeRunSessions(runId: string, sessions: readonly Session[], revoker?: IamRevoker): Promise<void> {
  sessions.forEach(forget);
  if (!revoker) return;
  const byRole = new Map<string, { roleArn: string; roleId: string; until: Date }>();
  for (const s of sessions) {
    const key = `${s.roleArn}\n${s.roleId}`;
    const prior = byRole.get(key);
    if (!prior || prior.until < s.expiration) byRole.set(key, { roleArn: s.roleArn, roleId: s.roleId, until: s.expiration });
  }
  const results = await Promise.allSettled([...byRole.values()].map((r) => revoker.revokeRun({ ...r, runId })));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
