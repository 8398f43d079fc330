/**
 * `runbooks audit verify [--data DIR]`: checks the audit log's hash chain from its first record.
 * Exit 0 when every record holds; 1 with the first broken record (its number, line and why);
 * 2 when there is no audit log to check.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { auditLogPath, verifyAuditLog } from '../runs/audit.js';

export interface AuditVerifyOptions {
  data: string;
  json?: boolean;
}

export async function auditVerifyCommand(opts: AuditVerifyOptions): Promise<number> {
  const dataDir = resolve(opts.data);
  const file = auditLogPath(dataDir);
  if (!existsSync(file)) {
    const message = `no audit log at ${file}: nothing has run with this data folder, or --data names another one`;
    if (opts.json) process.stdout.write(`${JSON.stringify({ ok: false, file, error: message })}\n`);
    else process.stderr.write(`runbooks: ${message}\n`);
    return 2;
  }
  const result = await verifyAuditLog(dataDir);
  if (result.ok) {
    if (opts.json) process.stdout.write(`${JSON.stringify({ ok: true, file, records: result.records })}\n`);
    else process.stdout.write(`audit log OK: ${result.records} record${result.records === 1 ? '' : 's'}\n`);
    return 0;
  }
  const bad = result.firstBad!;
  // The record number is the sequence number it claims, else its position in the file.
  const record = bad.seq ?? bad.line;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ ok: false, file, records: result.records, firstBad: { record, line: bad.line, reason: bad.reason } })}\n`);
  } else {
    process.stdout.write(`audit log broken at record ${record} (line ${bad.line}): ${bad.reason}\n`);
    process.stdout.write(`  ${result.records} record${result.records === 1 ? '' : 's'} before it verify; ${file}\n`);
  }
  return 1;
}
