import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A shell step's process group, as recorded in its state: the leader's pid
 * (which is the group's id) and its start time, which tells that leader apart
 * from a later process given the same pid.
 */
export interface ProcessGroup {
  pgid: number;
  /** Field 22 of /proc/PID/stat: clock ticks after boot. */
  startTime: string;
}

/** After SIGTERM, how long a step's processes get before SIGKILL. */
export const KILL_GRACE_MS = 2000;

/** The start time of a live process, or undefined (gone, or no /proc to read). */
export async function processStartTime(pid: number): Promise<string | undefined> {
  try {
    // The command name in field 2 may hold spaces and parentheses; the fields after it are counted from its closing one.
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Sends `signal` to every process of the group; false when none is left. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Ends what is left of a group an earlier daemon started, if its leader still
 * runs: SIGTERM, then SIGKILL after the grace. Returns whether there was
 * anything to end. A group whose leader has gone is left alone: its id may
 * belong to someone else's processes by now.
 */
export async function endLeftoverGroup(group: ProcessGroup): Promise<boolean> {
  if ((await processStartTime(group.pgid)) !== group.startTime) return false;
  signalGroup(group.pgid, 'SIGTERM');
  const deadline = Date.now() + KILL_GRACE_MS;
  while (Date.now() < deadline && (await processStartTime(group.pgid)) === group.startTime) await sleep(50);
  signalGroup(group.pgid, 'SIGKILL');
  return true;
}
