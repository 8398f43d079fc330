/**
 * Runs of the earlier layout — one `runs/<id>.json` per run, rewritten whole at every change — are
 * converted once to a header and a journal (./store.ts), and the old file is moved aside
 * (`<id>.json.migrated`), so that a data folder from before keeps its history.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isRbError } from '../errors.js';
import { retireLegacyFile } from './file-store.js';
import type { JournalEntry, JournalRecord, RunHeader, RunStore } from './store.js';
import type { Run } from './types.js';

export async function migrateLegacyRuns(dataDir: string, store: RunStore): Promise<void> {
  const dir = join(dataDir, 'runs');
  for (const name of (await readdir(dir)).filter((n) => /^[A-Za-z0-9_]+\.json$/.test(n))) {
    let run: Run;
    try {
      run = JSON.parse(await readFile(join(dir, name), 'utf8')) as Run;
    } catch {
      continue; // unreadable: left where it is; the audit log still holds what happened
    }
    const header: RunHeader = {
      id: run.id,
      runbook: run.runbook,
      title: run.title,
      user: run.user,
      params: run.params,
      roleArn: run.roleArn,
      startedAt: run.startedAt,
      source: { text: '', sha256: '' },
    };
    await store.create(header).catch((err: unknown) => {
      if (!isRbError(err) || err.code !== 'RB_ERR_STORE_CONFLICT') throw err;
    });
    const existing = await store.read(run.id);
    if (existing && existing.records.length === 0) {
      const records: JournalRecord[] = [];
      const add = (r: JournalEntry & { at?: string; auditHash?: string }) => records.push({ ...r, seq: records.length + 1, at: r.at ?? run.lastActivityAt });
      if (run.roleId && run.sessionsUntil)
        add({ type: 'session.noted', roleId: run.roleId, sessionsUntil: run.sessionsUntil, sessionsIssuedUntil: run.sessionsIssuedUntil ?? run.startedAt });
      for (const e of run.executions) {
        await store.putItems(run.id, e.step, e.n, 0, e.items);
        const { items, ...rest } = e;
        add({ type: 'execution', execution: { ...rest, itemCount: items.length }, at: e.startedAt });
      }
      const seen = new Set<string>();
      for (const a of [...(run.pastApprovals ?? []), ...Object.values(run.approvals)]) {
        add({ type: 'approval', approval: a, ...(seen.has(a.step) ? { past: true } : {}) });
        seen.add(a.step);
      }
      if (run.status !== 'active' && run.revocation && run.endReason) {
        add({
          type: 'run.ended',
          status: run.status,
          reason: run.endReason,
          endedAt: run.endedAt ?? run.lastActivityAt,
          revocation: run.revocation,
          revokedSessions: [],
          auditHash: run.auditHash,
        });
      } else if (records.length > 0 && run.auditHash) {
        records[records.length - 1].auditHash = run.auditHash;
      }
      for (const r of records) await store.append(run.id, r);
    }
    await retireLegacyFile(dataDir, name);
  }
}
