// Verifying the audit log against tampering: copies of one real log (three runs, each completed, so
// three digests) with one change each, every change reported at its first bad record with its kind.
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, auditLogPath, hashRecord, verifyAuditLog, type AuditRecord } from '../../server/runs/audit.js';
import { signDigest, type DigestData } from '../../server/runs/audit-digest.js';
import { loadOrCreateAuditKey, readPublicKey } from '../../server/runs/audit-key.js';
import { transcriptAuditHash } from '../../server/runs/audit-verify.js';
import { appendThreeRuns, rechain, THREE_RUNS_TYPES } from '../helpers/audit.js';

let work: string;
let dataDir: string;
let keyPath: string;
let original: AuditRecord[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'rb-audit-verify-'));
  dataDir = join(work, 'data');
  keyPath = join(work, 'config', 'audit-key.pem');
  const log = await AuditLog.open(dataDir, { keyPath, digestIntervalMs: 0 });
  await mkdir(join(dataDir, 'runs'));
  await appendThreeRuns(log, async (runId, last) => {
    // As the run store keeps it: the run's journal, whose last record names its last audit record.
    await mkdir(join(dataDir, 'runs', runId));
    await writeFile(join(dataDir, 'runs', runId, 'journal.jsonl'), `${JSON.stringify({ seq: 1, at: last.at, type: 'run.ended', auditHash: last.hash })}\n`);
  });
  await log.close();
  original = (await readFile(auditLogPath(dataDir), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as AuditRecord);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

let copies = 0;
/** Verifies a copy of the log (and its run files) with `change` applied to its records. */
async function verifyChanged(change: (recs: AuditRecord[]) => AuditRecord[], options: { runs?: boolean; transcript?: string } = {}) {
  const dir = join(work, `copy-${++copies}`);
  await mkdir(dir);
  if (options.runs !== false) await cp(join(dataDir, 'runs'), join(dir, 'runs'), { recursive: true });
  const recs = change(original.map((r) => structuredClone(r)));
  await writeFile(auditLogPath(dir), recs.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return verifyAuditLog(dir, { keyPath, ...(options.transcript ? { transcript: options.transcript } : {}) });
}

describe('the log under test', () => {
  it('holds three runs, each completed and followed by a digest, and verifies', async () => {
    expect(original.map((r) => r.type)).toEqual(THREE_RUNS_TYPES);
    expect(original[8].data).toMatchObject({ previous: { seq: 5, hash: original[4].hash }, first: 6, last: 8, head: original[7].hash });
    const key = await loadOrCreateAuditKey(keyPath);
    expect(await verifyAuditLog(dataDir, { keyPath })).toEqual({ ok: true, records: 13, digests: 3, fingerprint: key.fingerprint });
    // The public key alone verifies as well.
    const pub = join(work, 'public.pem');
    await writeFile(pub, key.publicKey.export({ type: 'spki', format: 'pem' }));
    expect((await verifyAuditLog(dataDir, { publicKey: await readPublicKey(pub) })).ok).toBe(true);
  });
});

describe('tampering', () => {
  it('an edited record', async () => {
    const res = await verifyChanged((r) => {
      r[6].user = 'mallory';
      return r;
    });
    expect(res).toMatchObject({ ok: false, records: 6, firstBad: { kind: 'edited', seq: 7, line: 7 } });
  });

  it('a removed record', async () => {
    const res = await verifyChanged((r) => [...r.slice(0, 6), ...r.slice(7)]);
    expect(res.firstBad).toMatchObject({ kind: 'removed', seq: 8, line: 7, reason: expect.stringContaining('record 7 was removed') });
  });

  it('a removed digest', async () => {
    const res = await verifyChanged((r) => [...r.slice(0, 8), ...r.slice(9)]);
    expect(res.firstBad).toMatchObject({ kind: 'removed', seq: 10, line: 9 });
  });

  it('two records swapped', async () => {
    const res = await verifyChanged((r) => [...r.slice(0, 5), r[6], r[5], ...r.slice(7)]);
    expect(res.firstBad).toMatchObject({ kind: 'reordered', seq: 7, line: 6 });
  });

  it('the last record cut (the final digest): what it signed is left unsigned', async () => {
    const res = await verifyChanged((r) => r.slice(0, -1));
    expect(res).toMatchObject({ ok: false, records: 9, digests: 2, firstBad: { kind: 'unsigned', seq: 10, line: 10, reason: expect.stringContaining('records 10–12') } });
  });

  it("the last 5 records cut: a run's last record is missing", async () => {
    const res = await verifyChanged((r) => r.slice(0, -5));
    expect(res.firstBad).toMatchObject({ kind: 'run-cut', seq: 9, line: 9, reason: expect.stringContaining(`run r3's last record ${original[11].hash} is not in the log`) });
  });

  it('a cut back to a digest: found through the run files, or a transcript', async () => {
    const res = await verifyChanged((r) => r.slice(0, -4));
    expect(res.firstBad).toMatchObject({ kind: 'run-cut', seq: 10, line: 10 });
    // Without the run files the folder alone cannot tell: the signatures hold up to that digest.
    expect((await verifyChanged((r) => r.slice(0, -4), { runs: false })).ok).toBe(true);
    const transcript = join(work, 'r3.md');
    await writeFile(transcript, `| Audit hash | \`${original[11].hash}\` |\n`);
    const withTranscript = await verifyChanged((r) => r.slice(0, -4), { runs: false, transcript });
    expect(withTranscript.firstBad).toMatchObject({ kind: 'transcript', seq: 10, reason: expect.stringContaining(original[11].hash) });
  });

  it('a forged record appended with a correct prev and hash', async () => {
    const res = await verifyChanged((r) => {
      const body = { seq: 14, at: new Date().toISOString(), type: 'run.completed', runId: 'r9', user: 'mallory', prev: r[12].hash };
      return [...r, { ...body, hash: hashRecord(body) }];
    });
    expect(res).toMatchObject({ ok: false, records: 13, digests: 3, firstBad: { kind: 'unsigned', seq: 14, line: 14 } });
  });

  it('the tail of the chain rewritten (a record changed, the hashes after it recomputed)', async () => {
    const res = await verifyChanged((r) => {
      r[10].data = { step: 'read', n: 1, note: 'nothing to see' };
      return rechain(r, 10);
    });
    expect(res.firstBad).toMatchObject({ kind: 'rewritten', seq: 13, line: 13, reason: expect.stringContaining('records 10–12 do not end in the head hash') });
    // …and with the digest's head changed to fit, its signature no longer holds.
    const refit = await verifyChanged((r) => {
      r[10].data = { step: 'read', n: 1, note: 'nothing to see' };
      rechain(r, 10);
      (r[12].data as unknown as DigestData).head = r[11].hash;
      return rechain(r, 12);
    });
    expect(refit.firstBad).toMatchObject({ kind: 'rewritten', seq: 13, reason: expect.stringContaining('signature does not hold') });
  });

  it('signed records cut out and the chain rebuilt: the digest names records that are missing', async () => {
    const res = await verifyChanged((r) => {
      const kept = [...r.slice(0, 5), ...r.slice(8)];
      kept.forEach((rec, i) => (rec.seq = i + 1));
      return rechain(kept, 5);
    });
    expect(res.firstBad).toMatchObject({ kind: 'truncated', seq: 6, reason: expect.stringContaining('it signed records 6–8') });
  });

  it('a digest replaced by one signed with another key', async () => {
    const other = await loadOrCreateAuditKey(join(work, 'other', 'audit-key.pem'));
    const res = await verifyChanged((r) => {
      const d = r[8].data as unknown as DigestData;
      r[8].data = { ...signDigest({ previous: d.previous, first: d.first, last: d.last, head: d.head }, other) };
      return rechain(r, 8);
    });
    expect(res.firstBad).toMatchObject({ kind: 'forged-digest', seq: 9, line: 9, reason: expect.stringContaining(`signed by key ${other.fingerprint}`) });
  });

  it('the whole log verified against another key', async () => {
    const other = await loadOrCreateAuditKey(join(work, 'another', 'audit-key.pem'));
    const res = await verifyAuditLog(dataDir, { publicKey: other.publicKey });
    expect(res).toMatchObject({ ok: false, records: 4, firstBad: { kind: 'forged-digest', seq: 5 } });
  });

  it('a torn last line', async () => {
    const dir = join(work, 'torn');
    await mkdir(dir);
    const text = await readFile(auditLogPath(dataDir), 'utf8');
    await writeFile(auditLogPath(dir), text.slice(0, -40));
    expect((await verifyAuditLog(dir, { keyPath })).firstBad).toMatchObject({ kind: 'torn', seq: 13, line: 13 });
  });
});

describe('transcripts', () => {
  it('finds the audit hash as each format prints it', () => {
    const h = 'ab'.repeat(32);
    expect(transcriptAuditHash(JSON.stringify({ run: {}, auditHash: h }, null, 2))).toBe(h);
    expect(transcriptAuditHash(`| Role | \`arn\` |\n| Audit hash | \`${h}\` |\n`)).toBe(h);
    expect(transcriptAuditHash(`<tr><th scope="row">Audit hash</th><td><code>${h}</code></td></tr>`)).toBe(h);
    expect(transcriptAuditHash('| Audit hash |  |')).toBeUndefined();
  });

  it('verifies a transcript whose hash is in the log, naming its record', async () => {
    const transcript = join(work, 'r2.json');
    await writeFile(transcript, JSON.stringify({ auditHash: original[7].hash }));
    expect(await verifyAuditLog(dataDir, { keyPath, transcript })).toMatchObject({ ok: true, transcript: { auditHash: original[7].hash, seq: 8 } });
  });
});
