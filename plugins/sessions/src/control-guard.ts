import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { LocalControlRefusal, LocalControlRequest } from '@codepiper/sdk';

/** Every session's program gets its session id in this variable; it is kept in the tmux session's environment. */
export const SESSION_MARKER = 'CODEPIPER_SESSION';

/** Longest ancestry followed; a longer one is a loop (pids reused while walking) or absurd. */
const MAX_DEPTH = 4096;
/** Walks restarted because an ancestor exited meanwhile (its children then have a new parent). */
const WALK_ATTEMPTS = 3;

/** What the guard needs to know about the sessions' processes. */
export interface SessionProcesses {
  /** The private tmux server's pid, when known: every session's program descends from it. */
  serverPid(): number | undefined;
  /** Each live session's program: its pid → the session id (undefined for a tmux session no record owns). */
  panes(): Promise<ReadonlyMap<number, string | undefined>>;
  /** The name of one of this daemon's sessions. */
  sessionName(id: string): Promise<string | undefined>;
}

/** Where a process was found to run: `tree` through its parents, `marker` through its environment. */
type Verdict =
  | { kind: 'outside' }
  | { kind: 'gone' }
  | { kind: 'unreadable'; pid: number; reason: string }
  | { kind: 'inside'; pid: number; how: 'tree' | 'marker'; sessionId: string | undefined };

class Gone extends Error {}

/**
 * Judges a control-plane request arriving on the Unix socket: refused when
 * any process holding the client's end runs inside a CodePiper session, by
 * its ancestry (the private tmux server or a session's program) or by the
 * CODEPIPER_SESSION marker in its environment (which survives a double fork
 * out of the tree). A process that exited meanwhile proves nothing; when all
 * have, the sender cannot be told and is refused.
 */
export async function judgeControlRequest(request: LocalControlRequest, sessions: SessionProcesses): Promise<LocalControlRefusal | undefined> {
  // Platforms that cannot name the peer (anything but Linux): nothing to judge.
  if (request.peerPids.length === 0) return undefined;
  const what = `${request.method} ${request.route}`;
  const panes = await sessions.panes();
  const verdicts = await Promise.all(request.peerPids.map((pid) => judgeProcess(pid, sessions.serverPid(), panes)));
  const insides = verdicts.filter((v) => v.kind === 'inside');
  const inside = insides.find((v) => v.sessionId !== undefined) ?? insides[0];
  if (inside) return { code: 'inside_session', message: `${what} refused: ${await insideMessage(inside, sessions)}` };
  const unreadable = verdicts.find((v) => v.kind === 'unreadable');
  if (unreadable) {
    return { code: 'unknown_sender', message: `${what} refused: cannot tell whether pid ${unreadable.pid}, which sent it, runs inside a CodePiper session (${unreadable.reason})` };
  }
  if (verdicts.every((v) => v.kind === 'gone')) {
    return { code: 'unknown_sender', message: `${what} refused: the program that sent it (pid ${request.peerPids.join(', ')}) exited before it could be checked` };
  }
  return undefined;
}

async function insideMessage(verdict: Extract<Verdict, { kind: 'inside' }>, sessions: SessionProcesses): Promise<string> {
  const { pid, how, sessionId } = verdict;
  const name = sessionId === undefined ? undefined : await sessions.sessionName(sessionId);
  const session = sessionId === undefined ? undefined : name === undefined ? `session ${sessionId}` : `session ${name}, id ${sessionId}`;
  const where =
    how === 'tree' ? `pid ${pid} runs in ${session ?? "CodePiper's tmux server"}` : `pid ${pid} was started in ${session ?? 'a CodePiper session'}: its environment has ${SESSION_MARKER}`;
  return (
    `policy changes, approvals, secrets and auth are refused to programs running inside a CodePiper session (${where}), ` +
    'so that an agent cannot loosen the rules that govern it; run the command from a terminal outside CodePiper sessions'
  );
}

async function judgeProcess(pid: number, serverPid: number | undefined, panes: ReadonlyMap<number, string | undefined>): Promise<Verdict> {
  try {
    const marker = await sessionMarker(pid);
    const chain = await ancestry(pid);
    const below = serverPid === undefined ? -1 : chain.indexOf(serverPid);
    // The pane's program is the ancestor right below the server.
    const pane = below > 0 ? chain[below - 1] : chain.find((p) => panes.has(p));
    if (below !== -1 || pane !== undefined) return { kind: 'inside', pid, how: 'tree', sessionId: pane === undefined ? undefined : panes.get(pane) };
    if (marker !== undefined) return { kind: 'inside', pid, how: 'marker', sessionId: marker.slice(0, 100) || undefined };
    return { kind: 'outside' };
  } catch (error) {
    if (error instanceof Gone) return { kind: 'gone' };
    return { kind: 'unreadable', pid, reason: (error as Error).message };
  }
}

/** The process and its ancestors up to pid 1, nearest first. */
async function ancestry(pid: number): Promise<number[]> {
  for (let attempt = 0; attempt < WALK_ATTEMPTS; attempt++) {
    const chain = await walk(pid);
    if (chain) return chain;
  }
  throw new Error(`its ancestors kept exiting while they were read`);
}

/** Undefined when an ancestor exited during the walk. */
async function walk(pid: number): Promise<number[] | undefined> {
  const chain = [pid];
  for (let current = pid; current > 1 && chain.length < MAX_DEPTH; ) {
    let parent: number;
    try {
      parent = await parentPid(current);
    } catch (error) {
      if (error instanceof Gone && current !== pid) return undefined;
      throw error;
    }
    if (parent <= 0) break;
    chain.push(parent);
    current = parent;
  }
  return chain;
}

/** `pid (comm) state ppid ...`: comm may hold spaces and parentheses, so the fields start after the last `)`. */
export function parseParentPid(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 1).trim().split(/\s+/);
  const ppid = Number(fields[1]);
  if (!Number.isInteger(ppid) || ppid < 0) throw new Error(`unexpected /proc stat line: ${JSON.stringify(stat.slice(0, 100))}`);
  return ppid;
}

/** Linux: a process's parent and command line can be read from /proc. */
export const HAS_PROC = existsSync('/proc/self/stat');

/** The parent of a running process, from /proc; throws if it has exited or /proc cannot tell. */
export async function parentPid(pid: number): Promise<number> {
  return parseParentPid(await readProc(pid, 'stat'));
}

/** The marker's value in the environment the process was started with, if there. */
async function sessionMarker(pid: number): Promise<string | undefined> {
  const prefix = `${SESSION_MARKER}=`;
  return (await readProc(pid, 'environ')).split('\0').find((entry) => entry.startsWith(prefix))?.slice(prefix.length);
}

async function readProc(pid: number, file: 'stat' | 'environ'): Promise<string> {
  try {
    return await readFile(`/proc/${pid}/${file}`, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ESRCH: it exited while being read.
    if (code === 'ENOENT' || code === 'ESRCH') throw new Gone(`pid ${pid} has exited`, { cause: error });
    throw new Error(`cannot read /proc/${pid}/${file}: ${code ?? (error as Error).message}`, { cause: error });
  }
}
