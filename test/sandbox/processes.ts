/** Process inspection for the lifecycle tests (Linux /proc): which processes are alive, and where. */
import { readdirSync, readFileSync } from 'node:fs';

interface ProcStat {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
}

function stats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name is in parentheses and may itself contain spaces or parentheses.
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      out.push({ pid: Number(entry), state: fields[0], ppid: Number(fields[1]), pgid: Number(fields[2]) });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** Live (not zombie) processes of a process group. */
export function liveInGroup(pgid: number): number[] {
  return stats()
    .filter((p) => p.pgid === pgid && p.state !== 'Z')
    .map((p) => p.pid);
}

/** Live JVMs (argv[0] is java) whose command line holds every one of `parts`. */
export function liveJvms(...parts: string[]): number[] {
  return stats()
    .filter((p) => p.state !== 'Z')
    .filter((p) => {
      try {
        const args = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0');
        return /(^|\/)java$/.test(args[0]) && parts.every((part) => args.includes(part));
      } catch {
        return false;
      }
    })
    .map((p) => p.pid);
}

/** Direct children of a process. */
export function childrenOf(pid: number): number[] {
  return stats()
    .filter((p) => p.ppid === pid)
    .map((p) => p.pid);
}

export { eventually } from '../helpers/eventually.js';
