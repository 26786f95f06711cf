import { answerCell, answerColumns, answerFields, answerRows } from '@codepiper/sdk';
import type { CodePiperEvent } from '@codepiper/events-contract';
import type { SessionRecord } from '@codepiper/sessions-contract';

const CONTROL = /\p{Cc}/u;

/** Shows control characters as `\xNN` so that text from sessions cannot drive the terminal. */
export const printable = (text: string): string =>
  CONTROL.test(text) ? text.replace(/\p{Cc}/gu, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`) : text;

export const shortId = (id: string): string => id.slice(0, 8);

/** Columns separated by two spaces; the last column is not padded. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [header, ...rows].map((row) => row.map(printable));
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i]?.length ?? 0)));
  return cells.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

/** `label:  value` lines, values aligned. */
export function formatFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(...fields.map(([label]) => label.length)) + 1;
  return fields.map(([label, value]) => `${`${label}:`.padEnd(width)}  ${printable(value)}`).join('\n');
}

/** `12.3 MB` (of 2^20 bytes). */
export const formatMegabytes = (bytes: number): string => `${(bytes / 1_048_576).toFixed(1)} MB`;

/** `42s`, `5m`, `3h`, `2d`: the largest whole unit. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export const formatAge = (isoTime: string, now: number = Date.now()): string => formatDuration((now - Date.parse(isoTime)) / 1000);

/** `waiting (permission)`, `exited (code 1)`, `running`. */
export function statusText(session: Pick<SessionRecord, 'status' | 'statusDetail' | 'exitCode'>): string {
  const notes = [session.statusDetail, session.exitCode === null ? null : `code ${session.exitCode}`].filter((n) => n);
  return notes.length > 0 ? `${session.status} (${notes.join(', ')})` : session.status;
}

const quoteArg = (arg: string): string => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

/** An argv as a shell user would type it (for display only). */
export const formatCommand = (argv: readonly string[]): string => argv.map(quoteArg).join(' ');

const summaryValue = (value: unknown): string =>
  typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : String(JSON.stringify(value));

/** A one-line summary of an event payload: `key=value` pairs for an object, at most `max` characters. */
export function summarizePayload(payload: unknown, max = 120): string {
  const text =
    payload === null || payload === undefined
      ? ''
      : typeof payload === 'object' && !Array.isArray(payload)
        ? Object.entries(payload)
            .map(([key, value]) => `${key}=${summaryValue(value)}`)
            .join(' ')
        : summaryValue(payload);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `<time> <type> <payload summary>`: one line, for humans and `awk`. */
export const formatEvent = (event: CodePiperEvent): string =>
  printable(`${event.ts} ${event.type} ${summarizePayload(event.payload)}`.trimEnd());

/**
 * An answer the CLI knows nothing about (a plugin's command) as text: a list
 * of objects (alone or as an object's only field) as a table, an object as
 * fields, anything else as JSON.
 */
export function formatAnswer(answer: unknown): string {
  const rows = answerRows(answer);
  if (rows) {
    if (rows.length === 0) return 'nothing';
    const columns = answerColumns(rows);
    return formatTable(columns.map((column) => column.toUpperCase()), rows.map((row) => columns.map((column) => answerCell(row[column]))));
  }
  const fields = answerFields(answer);
  if (fields && fields.length > 0) return formatFields(fields.map(([key, value]) => [key, answerCell(value)] as const));
  return JSON.stringify(answer, null, 2);
}
