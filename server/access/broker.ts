/**
 * The STS broker: one AssumeRole per step execution, with the step's session policy, a session name
 * `rb-<run>-<step>`, the user as SourceIdentity and session tags naming runbook, run, step and user.
 * It returns a Session that is plain data; the credentials stay in ../aws/credentials.ts.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { RbError } from '../errors.js';
import { forget, holdCredentials, type AwsCredentialIdentity, type AwsCredentialIdentityProvider, type Session } from '../aws/credentials.js';
import type { PolicyDocument } from './derive-policy.js';
import { clientOptions, scrub, type AwsTarget } from '../aws/sdk.js';

export { credentialsOf, forget, isHeld, type Session } from '../aws/credentials.js';

export interface BrokerOptions extends AwsTarget {
  /** the server's own principal; absent means the SDK's default chain (real AWS) */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

export interface AssumeInput {
  roleArn: string;
  policy: PolicyDocument;
  sessionName: string;
  durationSeconds: number;
  sourceIdentity: string;
  tags: Record<string, string>;
}

export interface Broker {
  /**
   * Assumes the role for one step execution; STS errors become coded step errors. Never returns a
   * session issued before the role's revocation cutoff (see `noteCutoff`), which IAM would refuse.
   */
  assume(input: AssumeInput): Promise<Session>;
  /** The tool's sessions of `roleArn` issued before `issuedBefore` are revoked: issue none such. */
  noteCutoff(roleArn: string, issuedBefore: Date): void;
  /** The role's cutoff as far as this broker knows it. */
  cutoffOf(roleArn: string): Date | undefined;
  /** Closes the STS client's connections. */
  destroy(): void;
}

// AssumeRole limits: a session policy of at most 2,048 characters of plaintext, at most 50 session
// tags with keys of 128 and values of 256 characters from a restricted set, and a SourceIdentity
// of 2-64 characters of [\w+=,.@-].
const POLICY_MAX_CHARS = 2048;
// A session issued before a cutoff is discarded and another one assumed once the cutoff has passed
// on STS's clock; a few tries absorb a skew between this server's clock and STS's.
const CUTOFF_TRIES = 4;
const TAG_CHARS = /[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu;

/** Creates a broker that assumes roles with the given base principal. */
export function createBroker(options: BrokerOptions): Broker {
  const sts = new STSClient({
    ...clientOptions(options),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const cutoffs = new Map<string, Date>();

  async function assumeOnce(input: AssumeInput, policy: string): Promise<Session> {
    let out;
    try {
      out = await sts.send(
        new AssumeRoleCommand({
          RoleArn: input.roleArn,
          RoleSessionName: input.sessionName,
          Policy: policy,
          DurationSeconds: input.durationSeconds,
          SourceIdentity: sourceIdentity(input.sourceIdentity),
          Tags: Object.entries(input.tags)
            .slice(0, 50)
            .map(([k, v]) => ({ Key: tagText(k, 128) || '_', Value: tagText(v, 256) })),
        }),
      );
    } catch (err) {
      throw stsError(err, input.roleArn);
    }
    const c = out.Credentials;
    const user = out.AssumedRoleUser;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration || !user?.AssumedRoleId || !user.Arn) {
      throw new RbError('RB_ERR_ACCESS_ASSUME_ROLE', 'STS answered AssumeRole without complete credentials; check the STS endpoint.');
    }
    const [roleId, name] = splitAssumedRoleId(user.AssumedRoleId);
    const session: Session = {
      assumedRoleId: user.AssumedRoleId,
      arn: user.Arn,
      expiration: new Date(c.Expiration),
      roleId,
      roleArn: input.roleArn,
      sessionName: name ?? input.sessionName,
      issuedAt: new Date(new Date(c.Expiration).getTime() - input.durationSeconds * 1000),
    };
    holdCredentials(session, {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: session.expiration,
    });
    return session;
  }

  return {
    async assume(input) {
      const policy = JSON.stringify(input.policy);
      if (policy.length > POLICY_MAX_CHARS) {
        throw new RbError(
          'RB_ERR_ACCESS_POLICY_TOO_LARGE',
          `The step's session policy is ${policy.length} characters; STS accepts at most ${POLICY_MAX_CHARS}. ` +
            'Split the step into smaller requests (fewer keys or tables per step).',
          { chars: policy.length, limit: POLICY_MAX_CHARS },
        );
      }
      for (let attempt = 1; ; attempt++) {
        const session = await assumeOnce(input, policy);
        const cutoff = cutoffs.get(input.roleArn);
        if (!cutoff || session.issuedAt >= cutoff || attempt >= CUTOFF_TRIES) return session;
        forget(session);
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, cutoff.getTime() - session.issuedAt.getTime())));
      }
    },
    noteCutoff(roleArn, issuedBefore) {
      const known = cutoffs.get(roleArn);
      if (!known || known < issuedBefore) cutoffs.set(roleArn, issuedBefore);
    },
    cutoffOf(roleArn) {
      return cutoffs.get(roleArn);
    },
    destroy() {
      sts.destroy();
    },
  };
}

function splitAssumedRoleId(id: string): [string, string | undefined] {
  const at = id.indexOf(':');
  return at < 0 ? [id, undefined] : [id.slice(0, at), id.slice(at + 1)];
}

function tagText(text: string, max: number): string {
  return text.replace(TAG_CHARS, '_').slice(0, max);
}

function sourceIdentity(user: string): string {
  const s = user.replace(/[^\w+=,.@-]/g, '_').slice(0, 64);
  return s.length >= 2 ? s : s.padEnd(2, '_');
}

/** Turns an STS failure into a coded error that says what to do; never echoes a secret. */
export function stsError(err: unknown, roleArn: string): RbError {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const awsCode = e?.name ?? 'Error';
  const awsMessage = scrub(String(e?.message ?? err));
  const details = { awsCode, awsMessage };
  switch (awsCode) {
    case 'PackedPolicyTooLarge':
    case 'PackedPolicyTooLargeException':
      return new RbError('RB_ERR_ACCESS_POLICY_TOO_LARGE', `STS refused the step's session policy as too large (${awsMessage}); split the step into smaller requests.`, details);
    case 'Throttling':
    case 'ThrottlingException':
    case 'RequestLimitExceeded':
    case 'TooManyRequestsException':
      return new RbError('RB_ERR_ACCESS_THROTTLED', `STS is throttling AssumeRole (${awsMessage}); wait a moment and run the step again.`, details);
    case 'AccessDenied':
    case 'AccessDeniedException':
      return new RbError(
        'RB_ERR_ACCESS_ASSUME_ROLE',
        `STS refused to let the server assume ${roleArn} (AccessDenied: ${awsMessage}). The role's trust policy must allow ` +
          "the server's identity sts:AssumeRole, sts:SetSourceIdentity and sts:TagSession.",
        details,
      );
    case 'MalformedPolicyDocument':
    case 'MalformedPolicyDocumentException':
      return new RbError('RB_ERR_ACCESS_ASSUME_ROLE', `STS rejected the step's session policy (${awsMessage}).`, details);
    case 'ExpiredToken':
    case 'ExpiredTokenException':
    case 'InvalidClientTokenId':
    case 'UnrecognizedClientException':
    case 'SignatureDoesNotMatch':
      return new RbError(
        'RB_ERR_ACCESS_ASSUME_ROLE',
        `STS did not accept the server's own credentials (${awsCode}: ${awsMessage}); refresh the server's AWS credentials.`,
        details,
      );
    case 'ValidationError':
      if (/policy/i.test(awsMessage) && /length|size|large/i.test(awsMessage)) {
        return new RbError('RB_ERR_ACCESS_POLICY_TOO_LARGE', `STS refused the step's session policy as too long (${awsMessage}); split the step.`, details);
      }
      return new RbError('RB_ERR_ACCESS_ASSUME_ROLE', `STS rejected the AssumeRole request (${awsMessage}); check the runbook's access.duration and role.`, details);
    default:
      if (e?.$metadata?.httpStatusCode === undefined) {
        return new RbError('RB_ERR_ACCESS_ASSUME_ROLE', `STS could not be reached (${awsCode}: ${awsMessage}); check the network and the STS endpoint.`, details);
      }
      return new RbError('RB_ERR_ACCESS_ASSUME_ROLE', `STS refused AssumeRole on ${roleArn} (${awsCode}: ${awsMessage}).`, details);
  }
}
