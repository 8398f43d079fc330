/**
 * Who may call the sandbox: the base principal (an IAM user whose only rights are to assume the
 * sandbox's roles, edit their inline policies and use the run store's tables) and the STS sessions
 * issued to it. Keys look
 * like AWS's: `AKIA…`/`ASIA…` access key ids of 20 characters, 40-character secrets, long opaque
 * session tokens. Everything is in memory; nothing here is ever logged.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { RbError } from '../../errors.js';
import type { PolicyDocument, RoleConfig } from '../types.js';

/**
 * The run store policy of docs/deploy.md ("the server's identity needs exactly these calls on the
 * store's tables"), which the base principal holds on `table/<prefix>*`. The sandbox keeps its own
 * copy of the documented policy rather than the store's list of its calls: a call the store makes
 * beyond what the documentation grants is then refused here, as it would be on AWS.
 */
export const STORE_POLICY_ACTIONS = ['dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:Scan'] as const;
/** The store prefix the documented policy is written for (`table/runbooks-*`). */
export const STORE_POLICY_PREFIX = 'runbooks-';

/**
 * `arn:aws:dynamodb:<region>:<account>:table/<prefix>*`, the resource of the store policy. A prefix
 * no table name can start with is RB_ERR_CONFIG_INVALID: a `*` or `?` in it would widen the grant.
 */
export function storeTablesArn(region: string, account: string, prefix: string): string {
  if (!/^[A-Za-z0-9_.-]{1,248}$/.test(prefix)) {
    throw new RbError(
      'RB_ERR_CONFIG_INVALID',
      `The store prefix ${JSON.stringify(prefix)} cannot start a DynamoDB table name: use 1-248 characters of A-Z a-z 0-9 _ . - (default ${STORE_POLICY_PREFIX}).`,
    );
  }
  return `arn:aws:dynamodb:${region}:${account}:table/${prefix}*`;
}

export interface RoleState {
  name: string;
  arn: string;
  roleId: string;
  maxSessionDuration: number;
  createdAt: number;
  /** attached identity policies, from the sandbox file */
  policies: readonly PolicyDocument[];
  /** inline policies put through IAM, by name: the document and the text as given */
  inline: Map<string, { document: PolicyDocument; text: string }>;
}

export interface SessionInfo {
  role: RoleState;
  sessionName: string;
  sourceIdentity?: string;
  tags: ReadonlyArray<{ key: string; value: string }>;
  /** the session policy, when AssumeRole was given one */
  policy?: PolicyDocument;
  issuedAt: number;
  expiresAt: number;
}

export interface Principal {
  kind: 'user' | 'session';
  /** arn:aws:iam::<account>:user/<name> or arn:aws:sts::<account>:assumed-role/<role>/<session> */
  arn: string;
  /** aws:userid: AIDA… for the user, <role id>:<session name> for a session */
  userId: string;
  account: string;
  session?: SessionInfo;
}

interface Credential {
  secretAccessKey: string;
  sessionToken?: string;
  principal: Principal;
}

export type Lookup = { ok: true; principal: Principal; secretAccessKey: string } | { ok: false; failure: 'unknown-key' | 'bad-token' | 'expired' };

const BASE_USER = 'runbooks-server';
// Session records are kept a day past expiry so a late request still gets ExpiredToken, as AWS's
// self-contained tokens do, then forgotten.
const KEEP_EXPIRED_MS = 24 * 3600_000;
const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export class Identities {
  readonly base: { accessKeyId: string; secretAccessKey: string; principal: Principal };
  readonly roles = new Map<string, RoleState>();
  private readonly credentials = new Map<string, Credential>();
  /**
   * Session keys by duration, each queue in issue order and so in expiry order: pruning looks only
   * at the heads, so issuing costs amortised constant time however many sessions were issued.
   */
  private readonly expiring = new Map<number, { keys: string[]; head: number }>();

  constructor(
    readonly account: string,
    roles: readonly RoleConfig[],
    private readonly clock: () => number,
    /** the run store's tables, `arn:aws:dynamodb:<region>:<account>:table/<prefix>*`, if it has any */
    private readonly storeTables?: string,
  ) {
    const principal: Principal = {
      kind: 'user',
      arn: `arn:aws:iam::${account}:user/${BASE_USER}`,
      userId: uniqueId('AIDA', `${account}:user:${BASE_USER}`),
      account,
    };
    this.base = { accessKeyId: randomKeyId('AKIA'), secretAccessKey: randomSecret(), principal };
    this.credentials.set(this.base.accessKeyId, { secretAccessKey: this.base.secretAccessKey, principal });
    const now = clock();
    for (const r of roles) {
      this.roles.set(r.name, {
        name: r.name,
        arn: `arn:aws:iam::${account}:role/${r.name}`,
        roleId: uniqueId('AROA', `${account}:role:${r.name}`),
        maxSessionDuration: r.maxSessionDuration,
        createdAt: now,
        policies: r.policies,
        inline: new Map(),
      });
    }
  }

  /**
   * The identity policy of the base principal: assume the sandbox roles and edit their inline
   * policies, and use the run store's tables with the calls of the documented store policy. Runbook
   * tables stay reachable only through the sessions of steps.
   */
  basePolicy(): PolicyDocument {
    const roles = `arn:aws:iam::${this.account}:role/*`;
    return {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession'], Resource: roles },
        { Effect: 'Allow', Action: ['iam:PutRolePolicy', 'iam:GetRolePolicy', 'iam:DeleteRolePolicy', 'iam:ListRolePolicies', 'iam:GetRole'], Resource: roles },
        ...(this.storeTables ? [{ Effect: 'Allow' as const, Action: [...STORE_POLICY_ACTIONS], Resource: this.storeTables }] : []),
      ],
    };
  }

  /** The identity policies in force for a principal now (inline role policies are read at request time). */
  identityPolicies(principal: Principal): PolicyDocument[] {
    if (!principal.session) return [this.basePolicy()];
    const role = principal.session.role;
    return [...role.policies, ...[...role.inline.values()].map((p) => p.document)];
  }

  /** Finds the credential of an access key id and checks its session token and expiry. */
  lookup(accessKeyId: string, sessionToken: string | undefined): Lookup {
    const c = this.credentials.get(accessKeyId);
    if (!c) return { ok: false, failure: 'unknown-key' };
    if (c.sessionToken !== undefined) {
      if (sessionToken === undefined || !sameString(sessionToken, c.sessionToken)) return { ok: false, failure: 'bad-token' };
      if (this.clock() >= c.principal.session!.expiresAt) return { ok: false, failure: 'expired' };
    } else if (sessionToken !== undefined) {
      // A token sent with a long-term key belongs to nothing AWS issued.
      return { ok: false, failure: 'bad-token' };
    }
    return { ok: true, principal: c.principal, secretAccessKey: c.secretAccessKey };
  }

  /** Issues session credentials for a role (checks are the caller's: see sts.ts). */
  issueSession(info: Omit<SessionInfo, 'issuedAt' | 'expiresAt'> & { durationSeconds: number }): {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken: string;
    principal: Principal;
  } {
    this.prune();
    // AWS reports times in whole seconds; the token issue time is what aws:TokenIssueTime tests.
    const issuedAt = Math.floor(this.clock() / 1000) * 1000;
    const session: SessionInfo = {
      role: info.role,
      sessionName: info.sessionName,
      sourceIdentity: info.sourceIdentity,
      tags: info.tags,
      policy: info.policy,
      issuedAt,
      expiresAt: issuedAt + info.durationSeconds * 1000,
    };
    const principal: Principal = {
      kind: 'session',
      arn: `arn:aws:sts::${this.account}:assumed-role/${info.role.name}/${info.sessionName}`,
      userId: `${info.role.roleId}:${info.sessionName}`,
      account: this.account,
      session,
    };
    const accessKeyId = randomKeyId('ASIA');
    const secretAccessKey = randomSecret();
    const sessionToken = randomBytes(264).toString('base64');
    this.credentials.set(accessKeyId, { secretAccessKey, sessionToken, principal });
    let queue = this.expiring.get(info.durationSeconds);
    if (!queue) this.expiring.set(info.durationSeconds, (queue = { keys: [], head: 0 }));
    queue.keys.push(accessKeyId);
    return { accessKeyId, secretAccessKey, sessionToken, principal };
  }

  /** How many issued sessions are still remembered (for tests of pruning). */
  get sessionCount(): number {
    return this.credentials.size - 1;
  }

  private prune(): void {
    const cutoff = this.clock() - KEEP_EXPIRED_MS;
    for (const queue of this.expiring.values()) {
      while (queue.head < queue.keys.length) {
        const key = queue.keys[queue.head];
        const session = this.credentials.get(key)?.principal.session;
        if (session && session.expiresAt >= cutoff) break;
        this.credentials.delete(key);
        queue.head += 1;
      }
      // Drop the consumed front now and then, so the array does not grow without bound.
      if (queue.head > 1024 && queue.head * 2 > queue.keys.length) {
        queue.keys = queue.keys.slice(queue.head);
        queue.head = 0;
      }
    }
  }
}

function randomKeyId(prefix: string): string {
  const bytes = randomBytes(16);
  let id = prefix;
  for (const b of bytes) id += KEY_ALPHABET[b & 31];
  return id;
}

function randomSecret(): string {
  // 30 random bytes are exactly 40 base64 characters, the length of an AWS secret access key.
  return randomBytes(30).toString('base64');
}

/** A stable IAM-style unique id: prefix + 17 upper-case letters and digits derived from `seed`. */
function uniqueId(prefix: string, seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let id = prefix;
  for (let i = 0; i < 17; i++) id += alphabet[digest[i] % alphabet.length];
  return id;
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
