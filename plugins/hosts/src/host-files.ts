import type { PrivateFile } from '@codepiper/sessions-contract';
import { shQuote } from './ssh.js';

/**
 * A script for sh on a host that writes `files` there, each private (its
 * directory made 0700), their contents as base64: sent as a command's input,
 * so that nothing of them is in a command line. Each is written beside and
 * renamed into place: a hook running the script it replaces reads the old one
 * to its end.
 */
export function writeFilesScript(files: readonly PrivateFile[]): string {
  const lines = ['set -e', 'umask 077'];
  for (const file of files) {
    const dir = shQuote(file.path.slice(0, file.path.lastIndexOf('/')) || '/');
    const target = shQuote(file.path);
    const aside = shQuote(`${file.path}.new`);
    lines.push(
      `mkdir -p ${dir}`,
      `chmod 700 ${dir}`,
      `echo ${Buffer.from(file.content).toString('base64')} | base64 -d > ${aside}`,
      `chmod ${file.mode.toString(8)} ${aside}`,
      `mv -f ${aside} ${target}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A script for sh on a host that prints `file` from byte `from` (0 = the
 * start) as it grows, waiting for it to appear; it ends when its input does
 * (the ssh that runs it going away), so that no tail is left behind there.
 */
export const followScript = (file: string, from: number): string =>
  `tail -c +${from + 1} -F -- ${shQuote(file)} 2>/dev/null & follower=$!; cat > /dev/null; kill "$follower"`;

/** A script for sh on a host that prints `file` and removes it (moved aside first, so that what is appended meanwhile is kept for the next time). */
export const takeScript = (file: string): string => {
  const taken = shQuote(`${file}.taken`);
  return `mv -f ${shQuote(file)} ${taken} 2>/dev/null || exit 0; cat ${taken} && rm -f ${taken}`;
};

/** A script for sh on a host that removes what every plugin kept there for one session (`~/.codepiper/<plugin>/<id>`). */
export function removeSessionFilesScript(sessionId: string): string {
  if (!/^[0-9a-f-]{36}$/.test(sessionId)) throw new Error(`unexpected session id ${JSON.stringify(sessionId)}`);
  return `rm -rf -- "$HOME"/.codepiper/*/${sessionId}`;
}
