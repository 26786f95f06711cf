import type { Logger } from '@codepiper/sdk';
import type { SqliteEventLog } from './event-log.js';

const DAY_MS = 24 * 3600 * 1000;
/** How often events past their time are looked for, after the first time at start. */
const EVERY_MS = 6 * 3600 * 1000;

/**
 * Keeps the event log to its last `keepDays` days: removes older events now
 * and every few hours, in the background. Returns what stops it.
 */
export function keepEventsFor(keepDays: number, events: SqliteEventLog, log: Logger): () => void {
  const removeOld = async (): Promise<void> => {
    try {
      const removed = await events.removeBefore(new Date(Date.now() - keepDays * DAY_MS));
      if (removed > 0) log.info({ removed, keepDays }, `removed ${removed} events older than ${keepDays} days`);
    } catch (error) {
      log.warn({ err: error }, 'could not remove old events; they are tried again later');
    }
  };
  void removeOld();
  const timer = setInterval(() => void removeOld(), EVERY_MS).unref();
  return () => clearInterval(timer);
}
