/**
 * Which process runs a run on the embedded store. Several processes may share a data folder (a
 * server and `runbooks run`, two servers): each run's header names its owner, and only a run whose
 * owner is gone — its process dead on this host — is taken for a crash's and marked `interrupted`.
 */
import { hostname } from 'node:os';
import type { RunHeader } from './store.js';

const HOST = hostname();

export function ownerOf(instance: string): NonNullable<RunHeader['owner']> {
  return { pid: process.pid, host: HOST, instance };
}

/** True when the run's process is gone (or unknown, for runs of the earlier layout); never for `self`'s own runs. */
export function ownerIsGone(header: RunHeader, self: string): boolean {
  const owner = header.owner;
  if (!owner) return true;
  if (owner.instance === self) return false;
  return owner.host === HOST && !isAlive(owner.pid);
}

export function ownerText(header: RunHeader): string {
  return header.owner ? `process ${header.owner.pid} on ${header.owner.host}` : 'another process';
}

/** Whether a process of this host exists (EPERM: it does, but belongs to someone else). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
