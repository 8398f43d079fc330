/**
 * `runbooks audit verify [--data DIR] [--key PUB] [--audit-key PATH] [--transcript FILE] [--json]`:
 * checks the audit log's hash chain from its first record, its signed digests against the audit key,
 * that no record follows the last digest unsigned, that every run's last recorded hash is in the log,
 * and a transcript's audit hash. Exit 0 when all holds; 1 with the first problem (its record, line,
 * kind and why); 2 when there is nothing to check (no log, no key, a transcript without a hash).
 *
 * With `--store dynamodb [--store-prefix P]` it checks the chain that server replicas share in the
 * table `<P>audit` (and each run's last hash in `<P>journal`) by the same rules, reaching DynamoDB
 * through the standard AWS chain (./store-target.ts); positions are the items' `seq` keys, where the
 * file's are lines. Same output and exit codes; DynamoDB unreachable or refusing is exit 2.
 *
 * `runbooks audit key [--audit-key PATH] [--json]`: the signing key's public key and fingerprint,
 * creating the key pair if there is none yet.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { isRbError } from '../errors.js';
import { auditLogPath, verifyAuditLog, type AuditVerification, type DynamoAuditVerification, type VerifyOptions } from '../runs/audit.js';
import { defaultAuditKeyPath, keyFingerprint, loadOrCreateAuditKey, publicKeyPem, readPublicKey } from '../runs/audit-key.js';
import type { StoreKind } from './store-target.js';

export interface AuditVerifyOptions {
  data: string;
  key?: string;
  auditKey?: string;
  transcript?: string;
  json?: boolean;
  store?: StoreKind;
  storePrefix?: string;
}

export interface AuditKeyOptions {
  auditKey?: string;
  json?: boolean;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Where the chain verified lives, as the output names it. */
interface Place {
  /** the JSON output's field naming it: `file` or `table` */
  field: 'file' | 'table';
  name: string;
  /** how the text output names it after the records that verify */
  described: string;
  /** what a position is called in the text output: `line`, or `item seq` */
  position: string;
  /** the JSON output's field for a position */
  positionField: 'line' | 'item';
  empty: string;
}

export async function auditVerifyCommand(opts: AuditVerifyOptions): Promise<number> {
  if (opts.store !== undefined && opts.store !== 'file' && opts.store !== 'dynamodb') {
    process.stderr.write(`runbooks: --store must be file or dynamodb, not ${JSON.stringify(opts.store)}\n`);
    return 2;
  }
  const dynamo = opts.store === 'dynamodb';
  let place: Place;
  if (dynamo) {
    const { DEFAULT_STORE_PREFIX, storeTables } = await import('../runs/dynamo-tables.js');
    let table: string;
    try {
      table = storeTables(opts.storePrefix ?? DEFAULT_STORE_PREFIX).audit;
    } catch (err) {
      // A prefix no table name can start with: bad input, before anything is sent.
      const message = isRbError(err) ? err.message : String(err);
      if (opts.json) process.stdout.write(`${JSON.stringify({ ok: false, error: message })}\n`);
      else process.stderr.write(`runbooks: ${message}\n`);
      return 2;
    }
    place = {
      field: 'table',
      name: table,
      described: `DynamoDB table ${table}`,
      position: 'item seq',
      positionField: 'item',
      empty: `the audit chain in DynamoDB table ${table} is empty: nothing to check`,
    };
  } else {
    const file = auditLogPath(resolve(opts.data));
    place = { field: 'file', name: file, described: file, position: 'line', positionField: 'line', empty: `the audit log ${file} is empty: nothing to check` };
  }
  const nothing = (message: string): number => {
    if (opts.json) process.stdout.write(`${JSON.stringify({ ok: false, [place.field]: place.name, error: message })}\n`);
    else process.stderr.write(`runbooks: ${message}\n`);
    return 2;
  };
  if (!dynamo && !existsSync(place.name)) return nothing(`no audit log at ${place.name}: nothing has run with this data folder, or --data names another one`);

  let result: AuditVerification | DynamoAuditVerification;
  try {
    const publicKey = opts.key ? await readPublicKey(resolve(opts.key)) : undefined;
    const options: VerifyOptions = {
      ...(publicKey ? { publicKey } : {}),
      keyPath: opts.auditKey ? resolve(opts.auditKey) : defaultAuditKeyPath(),
      ...(opts.transcript ? { transcript: resolve(opts.transcript) } : {}),
    };
    result = dynamo ? await verifyStore(opts.storePrefix, options) : await verifyAuditLog(resolve(opts.data), options);
  } catch (err) {
    if (isRbError(err)) return nothing(err.message);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && opts.transcript) return nothing(`no transcript at ${opts.transcript}`);
    throw err;
  }
  if (result.ok && result.records === 0) return nothing(place.empty);

  if (result.ok) {
    if (opts.json) {
      process.stdout.write(
        `${JSON.stringify({ ok: true, [place.field]: place.name, records: result.records, digests: result.digests, fingerprint: result.fingerprint, ...(result.transcript ? { transcript: result.transcript } : {}) })}\n`,
      );
    } else {
      process.stdout.write(`audit log OK: ${plural(result.records, 'record')}, ${plural(result.digests, 'digest')}, signed by ${result.fingerprint}\n`);
      if (result.transcript) process.stdout.write(`  transcript ${opts.transcript}: its audit hash is record ${result.transcript.seq}\n`);
    }
    return 0;
  }
  const bad = result.firstBad!;
  const at = 'item' in bad ? bad.item : bad.line;
  const record = bad.seq ?? at;
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({
        ok: false,
        [place.field]: place.name,
        records: result.records,
        digests: result.digests,
        ...(result.fingerprint ? { fingerprint: result.fingerprint } : {}),
        firstBad: { record, [place.positionField]: at, kind: bad.kind, reason: bad.reason },
      })}\n`,
    );
  } else {
    process.stdout.write(`audit log broken at record ${record} (${place.position} ${at}): ${bad.kind}: ${bad.reason}\n`);
    process.stdout.write(`  ${plural(result.records, 'record')} before it verify; ${place.described}\n`);
  }
  return 1;
}

/** Verifies the DynamoDB store's chain, with a client from the standard AWS chain. */
async function verifyStore(prefix: string | undefined, options: VerifyOptions): Promise<DynamoAuditVerification> {
  const { storeClientFromEnv } = await import('./store-target.js');
  const { verifyDynamoAudit } = await import('../runs/audit-verify.js');
  const { client } = await storeClientFromEnv();
  try {
    return await verifyDynamoAudit({ client, prefix }, options);
  } finally {
    client.destroy();
  }
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
