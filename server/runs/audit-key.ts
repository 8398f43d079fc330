/**
 * The audit log's signing key: an Ed25519 key pair kept outside the data folder (by default
 * `$XDG_CONFIG_HOME/runbooks/audit-key.pem`, else `~/.config/runbooks/audit-key.pem`), so that
 * whoever can write the data folder cannot also sign. Created on first use: the private key file
 * mode 0600 in a folder of mode 0700, created with an exclusive open so that two processes starting
 * at once end up with one key.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { RbError } from '../errors.js';

export interface AuditKey {
  path: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** sha256 of the public key's SPKI DER, hex */
  fingerprint: string;
}

/** `RUNBOOKS_AUDIT_KEY`, else the XDG config folder (an absolute XDG_CONFIG_HOME, else ~/.config). */
export function defaultAuditKeyPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RUNBOOKS_AUDIT_KEY) return resolve(env.RUNBOOKS_AUDIT_KEY);
  // The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
  const config = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(config, 'runbooks', 'audit-key.pem');
}

export function keyFingerprint(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

export function publicKeyPem(publicKey: KeyObject): string {
  return publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

function keyError(path: string, what: string, err?: unknown): RbError {
  const cause = err instanceof Error ? `: ${(err as NodeJS.ErrnoException).code ?? err.message}` : '';
  return new RbError(
    'RB_ERR_AUDIT_KEY',
    `The audit signing key ${path} ${what}${cause}. Point --audit-key (or RUNBOOKS_AUDIT_KEY) at a key file this user can read, or at a path where one can be created.`,
  );
}

function fromPem(path: string, pem: string): AuditKey {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`an ${privateKey.asymmetricKeyType} key, not Ed25519`);
  const publicKey = createPublicKey(privateKey);
  return { path, privateKey, publicKey, fingerprint: keyFingerprint(publicKey) };
}

/** Reads the key pair at `path`, or undefined when there is no file there. */
export async function readAuditKey(path: string): Promise<AuditKey | undefined> {
  // Another process may have created the file and not yet written it: a short wait, then it is whole.
  for (let attempt = 0; ; attempt++) {
    let pem: string;
    try {
      pem = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw keyError(path, 'cannot be read', err);
    }
    try {
      return fromPem(path, pem);
    } catch (err) {
      if (attempt >= 20) throw keyError(path, 'is not an Ed25519 private key in PEM', err);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** The key pair at `path`, created there if missing; `created` says whether this call made it. */
export async function loadOrCreateAuditKey(path: string = defaultAuditKeyPath()): Promise<AuditKey & { created: boolean }> {
  const existing = await readAuditKey(path);
  if (existing) return { ...existing, created: false };
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw keyError(path, 'cannot be created (its folder cannot be made)', err);
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  try {
    await writeFile(path, pem, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      // Another process created it first: use theirs, so that both sign with one key.
      const theirs = await readAuditKey(path);
      if (theirs) return { ...theirs, created: false };
    }
    // A half-written key must not stay to be read as a broken one.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') await unlink(path).catch(() => undefined);
    throw keyError(path, 'cannot be created', err);
  }
  return { ...fromPem(path, pem), created: true };
}

/** A public key to verify with, from a PEM file holding a public key (or a private key, whose public half is used). */
export async function readPublicKey(path: string): Promise<KeyObject> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (err) {
    throw new RbError('RB_ERR_AUDIT_KEY', `The public key ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`);
  }
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`an ${key.asymmetricKeyType} key`);
    return key;
  } catch (err) {
    throw new RbError(
      'RB_ERR_AUDIT_KEY',
      `${path} holds no Ed25519 public key in PEM (${err instanceof Error ? err.message : String(err)}): pass the output of \`runbooks audit key\`.`,
    );
  }
}
