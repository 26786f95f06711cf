import fs from 'node:fs';
import { pino, type DestinationStream, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import type { LogLevel } from './config.js';

export interface KernelLogger {
  readonly log: Logger;
  /** Closes the log file; later log calls write nothing. */
  close(): void;
}

const SECRETS = ['password', 'token', 'secret', 'apiKey', 'env', 'headers.authorization', 'headers.cookie'];
/** pino's `*` matches one level: secrets are redacted at the top level and one level down. */
const REDACT = [...SECRETS, ...SECRETS.map((key) => `*.${key}`)];

/** The size at which the log file is moved aside (to `<file>.1`, replacing the one before) and begun again. */
export const LOG_FILE_MAX_BYTES = 10 * 1024 * 1024;

/**
 * JSON lines to `file` (mode 0600), and pretty lines to stderr in the
 * foreground. Every line is written synchronously so that none is lost when
 * the daemon exits or crashes; a daemon logs little, but runs for months: the
 * file is kept under `maxBytes`, with the one before it beside it.
 */
export function createLogger(options: {
  file: string;
  level: LogLevel;
  foreground: boolean;
  /** Told when lines start being lost (the problem, in words) and when they go through again (null). */
  onLostLines?: (problem: string | null) => void;
  maxBytes?: number;
}): KernelLogger {
  let closed = false;
  const unlessClosed = (write: (line: string) => void): DestinationStream => ({
    write: (line) => {
      if (!closed) write(line);
    },
  });

  const file = pino.destination({ dest: options.file, sync: true, mode: 0o600 });
  // A file made by an older daemon, or by hand, is made private too.
  fs.chmodSync(options.file, 0o600);
  const maxBytes = options.maxBytes ?? LOG_FILE_MAX_BYTES;
  let size = fs.statSync(options.file).size;
  const rotateIfFull = (): void => {
    if (size < maxBytes) return;
    size = 0;
    try {
      fs.renameSync(options.file, `${options.file}.1`);
      file.reopen();
    } catch {
      // Kept writing where it was; tried again after another maxBytes.
    }
  };
  // A log line that cannot be written (a full disk) is counted, never thrown at
  // the code that logged it; the count is written once lines go through again.
  let lost = 0;
  const lose = (): void => {
    if (lost++ === 0) options.onLostLines?.(`log lines cannot be written to ${options.file} (disk full?)`);
  };
  file.on('error', lose);
  const writeToFile = (line: string): void => {
    try {
      if (lost > 0) {
        file.write(`${JSON.stringify({ level: 40, time: Date.now(), pid: process.pid, msg: `${lost} log line(s) could not be written (disk full?)` })}\n`);
        lost = 0;
        options.onLostLines?.(null);
      }
      file.write(line);
      size += Buffer.byteLength(line);
      rotateIfFull();
    } catch {
      lose();
    }
  };
  const streams = [{ level: 'trace' as const, stream: unlessClosed(writeToFile) }];
  if (options.foreground) {
    const format = prettyFactory({});
    // The terminal can go away under a foreground daemon (a closed SSH session,
    // a parent that died): stop writing to it rather than log each failed write.
    let terminalGone = false;
    process.stderr.on('error', () => (terminalGone = true));
    streams.push({
      level: 'trace',
      stream: unlessClosed((line) => {
        if (!terminalGone) process.stderr.write(format(line));
      }),
    });
  }

  const log = pino({ level: options.level, redact: { paths: REDACT, censor: '[redacted]' } }, pino.multistream(streams));
  return {
    log,
    close() {
      closed = true;
      file.end();
    },
  };
}
