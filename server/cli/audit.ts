/**
 * `runbooks audit verify [--data DIR] [--key PUB] [--audit-key PATH] [--transcript FILE] [--json]`:
 * checks the audit log's hash chain from its first record, its signed digests against the audit key,
 * that no record follows the last digest unsigned, that every run's last recorded hash is in the log,
 * and a transcript's audit hash. Exit 0 when all holds; 1 with the first problem (its record, line,
 * kind and why); 2 when there is nothing to check (no log, no key, a transcript without a hash).
 *
 * `runbooks audit key [--audit-key PATH] [--json]`: the signing key's public key and fingerprint,
 * creating the key pair if there is none yet.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { isRbError } from '../errors.js';
import { auditLogPath, verifyAuditLog } from '../runs/audit.js';
import { defaultAuditKeyPath, keyFingerprint, loadOrCreateAuditKey, publicKeyPem, readPublicKey } from '../runs/audit-key.js';

export interface AuditVerifyOptions {
  data: string;
  key?: string;
  auditKey?: string;
  transcript?: string;
  json?: boolean;
}

export interface AuditKeyOptions {
  auditKey?: string;
  json?: boolean;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export async function auditVerifyCommand(opts: AuditVerifyOptions): Promise<number> {
  const dataDir = resolve(opts.data);
  const file = auditLogPath(dataDir);
  const nothing = (message: string): number => {
    if (opts.json) process.stdout.write(`${JSON.stringify({ ok: false, file, error: message })}\n`);
    else process.stderr.write(`runbooks: ${message}\n`);
    return 2;
  };
  if (!existsSync(file)) return nothing(`no audit log at ${file}: nothing has run with this data folder, or --data names another one`);

  let result;
  try {
    const publicKey = opts.key ? await readPublicKey(resolve(opts.key)) : undefined;
    result = await verifyAuditLog(dataDir, {
      ...(publicKey ? { publicKey } : {}),
      keyPath: opts.auditKey ? resolve(opts.auditKey) : defaultAuditKeyPath(),
      ...(opts.transcript ? { transcript: resolve(opts.transcript) } : {}),
    });
  } catch (err) {
    if (isRbError(err)) return nothing(err.message);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && opts.transcript) return nothing(`no transcript at ${opts.transcript}`);
    throw err;
  }
  if (result.ok && result.records === 0) return nothing(`the audit log ${file} is empty: nothing to check`);

  if (result.ok) {
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ ok: true, file, records: result.records, digests: result.digests, fingerprint: result.fingerprint, ...(result.transcript ? { transcript: result.transcript } : {}) })}\n`);
    } else {
      process.stdout.write(`audit log OK: ${plural(result.records, 'record')}, ${plural(result.digests, 'digest')}, signed by ${result.fingerprint}\n`);
      if (result.transcript) process.stdout.write(`  transcript ${opts.transcript}: its audit hash is record ${result.transcript.seq}\n`);
    }
    return 0;
  }
  const bad = result.firstBad!;
  const record = bad.seq ?? bad.line;
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ ok: false, file, records: result.records, digests: result.digests, ...(result.fingerprint ? { fingerprint: result.fingerprint } : {}), firstBad: { record, line: bad.line, kind: bad.kind, reason: bad.reason } })}\n`,
    );
  } else {
    process.stdout.write(`audit log broken at record ${record} (line ${bad.line}): ${bad.kind}: ${bad.reason}\n`);
    process.stdout.write(`  ${plural(result.records, 'record')} before it verify; ${file}\n`);
  }
  return 1;
}

export async function auditKeyCommand(opts: AuditKeyOptions): Promise<number> {
  const path = opts.auditKey ? resolve(opts.auditKey) : defaultAuditKeyPath();
  let key;
  try {
    key = await loadOrCreateAuditKey(path);
  } catch (err) {
    process.stderr.write(`runbooks: ${isRbError(err) ? err.message : err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const pem = publicKeyPem(key.publicKey);
  const fingerprint = keyFingerprint(key.publicKey);
  if (key.created) process.stderr.write(`runbooks: created the audit signing key ${path} (keep it private; give verifiers the public key below)\n`);
  if (opts.json) process.stdout.write(`${JSON.stringify({ path, fingerprint, publicKey: pem, created: key.created })}\n`);
  else process.stdout.write(`${pem}fingerprint ${fingerprint}\n`);
  return 0;
}
