import { readdirSync, readFileSync } from 'node:fs';

/** A process as Linux's /proc shows it: what tests look for among the processes a daemon left or started. */
export interface ProcessEntry {
  pid: number;
  /** The command name (`comm`), as `ps` shows it. */
  name: string;
  /** One letter, as `ps` shows it: `R` running, `S` sleeping, `Z` a zombie... */
  state: string;
  parent: number;
  group: number;
  /** The command line, its arguments joined by spaces (empty for a zombie). */
  command: string;
}

/** Process `pid`, or undefined once it has ended (or when it is not this user's to read). */
export function readProcess(pid: number): ProcessEntry | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The name is in parentheses and may hold spaces and parentheses of its own.
    const [state = '', parent, group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '').replaceAll('\0', ' ');
    return { pid, name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), state, parent: Number(parent), group: Number(group), command };
  } catch {
    return undefined;
  }
}

/** Every process this user can read; those that end while the list is made are left out. */
export function listProcesses(): ProcessEntry[] {
  return readdirSync('/proc').flatMap((entry) => {
    const found = /^\d+$/.test(entry) ? readProcess(Number(entry)) : undefined;
    return found ? [found] : [];
  });
}

/** The environment process `pid` started with, as `NAME=value` strings; empty once it has ended. */
export function processEnvironment(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}
