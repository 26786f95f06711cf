import { readdirSync, readFileSync } from 'node:fs';

/** Resident memory of process `pid`, in MB (Linux /proc). */
export function rssMegabytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
}

/** The processes of process group `pgid`. */
export function groupPids(pgid: number): number[] {
  return readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return Number(fields[2]) === pgid ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}
