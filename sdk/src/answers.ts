/**
 * Showing an answer no client knows the shape of: a plugin's contributed
 * command's or page's. No imports, so a CLI command loads nothing more.
 */

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The rows of an answer that is a list of objects, alone or as an object's only field: a table; undefined otherwise. */
export function answerRows(answer: unknown): Record<string, unknown>[] | undefined {
  const fields = isRecord(answer) ? Object.values(answer) : [];
  const list = Array.isArray(answer) ? answer : fields.length === 1 && Array.isArray(fields[0]) ? (fields[0] as unknown[]) : undefined;
  return list?.every(isRecord) ? list : undefined;
}

/** The fields of an answer that is an object (and not a table); undefined otherwise. */
export const answerFields = (answer: unknown): [string, unknown][] | undefined => (isRecord(answer) && answerRows(answer) === undefined ? Object.entries(answer) : undefined);

/** The columns of a table's rows: every key, in the order first seen. */
export const answerColumns = (rows: readonly Record<string, unknown>[]): string[] => [...new Set(rows.flatMap((row) => Object.keys(row)))];

/** A value as one cell: a string as is, nothing as `-`, anything else as JSON. */
export const answerCell = (value: unknown): string => (typeof value === 'string' ? value : value === null || value === undefined ? '-' : JSON.stringify(value));
