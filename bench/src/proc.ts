import { readdirSync, readFileSync } from 'node:fs';

/** A memory field of /proc/PID/status (Linux), in MB. */
function statusMegabytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU time process `pid` has used (user and system), in seconds. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Resident memory of process `pid`, in MB. */
export const rssMegabytes = (pid: number): number => statusMegabytes(pid, 'VmRSS');

/** The most resident memory process `pid` has had so far, in MB. */
export const peakRssMegabytes = (pid: number): number => statusMegabytes(pid, 'VmHWM');

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

/** The processes whose parent is `pid`, with their command names. */
export function childProcesses(pid: number): { pid: number; name: string }[] {
  return readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.split(') ')[1]!.split(' ');
      return Number(fields[1]) === pid ? [{ pid: Number(entry), name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) }] : [];
    } catch {
      return [];
    }
  });
}
