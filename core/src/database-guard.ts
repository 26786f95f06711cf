import fs from 'node:fs';
import path from 'node:path';

/** A file in the home saying it has had a database: a missing one is then an accident, not a first start. */
const markerOf = (home: string): string => path.join(home, 'database.json');

/**
 * Refuses to start on a new, empty database where this home had one: the
 * sessions it recorded (whose programs may still run in tmux) would be lost
 * from view, and their plugins would take them for strangers.
 */
export function refuseLostDatabase(home: string, database: string): void {
  const marker = markerOf(home);
  if (fs.existsSync(database) || !fs.existsSync(marker)) return;
  let since = 'before';
  try {
    since = `since ${(JSON.parse(fs.readFileSync(marker, 'utf8')) as { created: string }).created}`;
  } catch {
    // An unreadable marker still says there was a database.
  }
  throw new Error(
    `the database ${database} is missing, though this home has had one ${since}. Not starting on an empty one: put the file back (with its -wal file, if any); or, to start afresh, remove ${marker} (programs still running are left running)`,
  );
}

/** Records that this home has a database, once. */
export function markDatabase(home: string, database: string): void {
  const marker = markerOf(home);
  if (fs.existsSync(marker)) return;
  fs.writeFileSync(marker, `${JSON.stringify({ database, created: new Date().toISOString() })}\n`, { mode: 0o600 });
}
