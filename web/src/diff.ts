/** One line of a hunk: added, removed, or context. */
export interface DiffLine {
  kind: 'add' | 'remove' | 'context';
  text: string;
}

export interface Hunk {
  /** `@@ -3,4 +3,5 @@ function name`: where the hunk is. */
  header: string;
  lines: DiffLine[];
}

export interface FilePatch {
  path: string;
  /** Set for a binary file: git's words for it, and no hunks. */
  binary?: string;
  hunks: Hunk[];
}

const KIND: Record<string, DiffLine['kind']> = { '+': 'add', '-': 'remove', ' ': 'context' };

/** A unified diff (`git diff`) split into its files and their hunks. */
export function parsePatch(patch: string): FilePatch[] {
  const files: FilePatch[] = [];
  let file: FilePatch | undefined;
  let hunk: Hunk | undefined;
  for (const line of patch.split('\n')) {
    const start = /^diff --git a\/(.*) b\/(.*)$/.exec(line);
    if (start) {
      file = { path: start[2]!, hunks: [] };
      files.push(file);
      hunk = undefined;
    } else if (!file) {
      continue;
    } else if (line.startsWith('@@')) {
      hunk = { header: line, lines: [] };
      file.hunks.push(hunk);
    } else if (hunk && KIND[line.charAt(0)]) {
      hunk.lines.push({ kind: KIND[line.charAt(0)]!, text: line.slice(1) });
    } else if (line.startsWith('Binary files')) {
      file.binary = line;
    }
  }
  return files;
}
