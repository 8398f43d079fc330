/**
 * Where a session's credentials live: a WeakMap keyed by the Session object, never a property of
 * it, so that JSON.stringify, util.inspect, structuredClone, a log line or a transcript of a
 * session cannot carry its keys. Forgetting a session drops its credentials and tells the holders
 * of derived objects (the executor's SDK clients) to drop theirs.
 */
import { RbError } from '../errors.js';

/** AWS credentials, structurally the SDK's AwsCredentialIdentity. */
export interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** A function that resolves credentials, as the SDK's credential providers are. */
export type AwsCredentialIdentityProvider = () => Promise<AwsCredentialIdentity>;

/** A session as the rest of the server sees it: plain data, no secret. */
export interface Session {
  /** `AROA…:rb-<run>-<step>`, what CloudTrail and `aws:userid` show */
  assumedRoleId: string;
  /** arn:aws:sts::<account>:assumed-role/<role>/<session name> */
  arn: string;
  expiration: Date;
  /** when STS issued it, on STS's clock (expiration − duration): what `aws:TokenIssueTime` says */
  issuedAt: Date;
  /** the role's unique id (the `AROA…` part of assumedRoleId) */
  roleId: string;
  /** the role assumed, as given to AssumeRole */
  roleArn: string;
  sessionName: string;
}

const held = new WeakMap<Session, Readonly<AwsCredentialIdentity>>();
const forgetHooks: Array<(session: Session) => void> = [];

/** Keeps a session's credentials (the broker calls this once per session). */
export function holdCredentials(session: Session, credentials: AwsCredentialIdentity): void {
  held.set(session, Object.freeze({ ...credentials }));
}

/** The credentials of a session, for building its SDK client only; throws once it is forgotten. */
export function credentialsOf(session: Session): Readonly<AwsCredentialIdentity> {
  const credentials = held.get(session);
  if (!credentials) throw new RbError('RB_ERR_ACCESS_SESSION_REVOKED');
  return credentials;
}

/** true while the server still holds the session's credentials. */
export function isHeld(session: Session): boolean {
  return held.has(session);
}

/** Drops a session's credentials at once, and everything built from them. */
export function forget(session: Session): void {
  if (!held.delete(session)) return;
  for (const hook of forgetHooks) hook(session);
}

/** Registers a hook run when any session is forgotten (used by the holders of per-session clients). */
export function onForget(hook: (session: Session) => void): void {
  forgetHooks.push(hook);
}

/** The secret strings of a session, to scrub from any text that might echo them. */
export function secretsOf(session: Session): string[] {
  const c = held.get(session);
  return c ? [c.secretAccessKey, c.sessionToken ?? ''].filter((s) => s.length > 0) : [];
}
