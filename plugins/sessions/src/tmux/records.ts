/** The hidden session the command channel attaches to; never listed. */
export const CONTROL_SESSION = '_codepiper';

/** A tmux session as the server reports it (`list-sessions -F PANE_FORMAT`), one pane each. */
export interface TmuxSessionInfo {
  name: string;
  paneId: string;
  pid: number | null;
  /** The program has ended; the pane stays (remain-on-exit) with its last screen. */
  dead: boolean;
  exitCode: number | null;
  /** Number of the signal that ended the program. */
  signal: number | null;
  width: number;
  height: number;
}

/** Session names cannot contain `:` or `.` (tmux replaces them), so these delimit fields and records. */
export const PANE_FORMAT = [
  '#{session_name}',
  '#{pane_id}',
  '#{pane_pid}',
  '#{pane_dead}',
  '#{pane_dead_status}',
  '#{pane_dead_signal}',
  '#{pane_width}',
  '#{pane_height}',
].join(':');

export function parseRecords(lines: readonly string[]): TmuxSessionInfo[] {
  const records: TmuxSessionInfo[] = [];
  for (const line of lines) {
    const fields = line.split(':');
    if (fields.length !== 8) continue;
    const [name, paneId, pid, dead, status, signal, width, height] = fields as [string, string, string, string, string, string, string, string];
    const int = (text: string): number | null => (/^\d+$/.test(text) ? Number(text) : null);
    records.push({
      name,
      paneId,
      pid: int(pid),
      dead: dead === '1',
      exitCode: int(status),
      signal: int(signal),
      width: int(width) ?? 0,
      height: int(height) ?? 0,
    });
  }
  return records;
}
