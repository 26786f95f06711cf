import { readFileSync } from 'node:fs';
import { listProcesses, type ProcessEntry } from '@codepiper/sdk/testing';

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
export const groupPids = (pgid: number): number[] => listProcesses().flatMap((p) => (p.group === pgid ? [p.pid] : []));

/** The processes whose parent is `pid`. */
export const childProcesses = (pid: number): ProcessEntry[] => listProcesses().filter((p) => p.parent === pid);
