import { watch, type FSWatcher } from 'node:fs';

export interface WatchTarget {
  dir: string;
  recursive?: boolean;
}

/**
 * Waits, without polling, until `check` finds something: `check` runs once at
 * once, then on every change in the watched directories. Directories that do
 * not exist yet are watched as soon as a change elsewhere reveals them (list
 * the parent first). Resolves `undefined` on timeout or abort.
 */
export function watchUntil<T>(targets: readonly WatchTarget[], check: () => Promise<T | undefined>, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<T | undefined> {
  return new Promise((resolve) => {
    const watchers = new Map<string, FSWatcher>();
    let done = false;
    let running = false;
    let again = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (value: T | undefined) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      for (const w of watchers.values()) w.close();
      watchers.clear();
      resolve(value);
    };
    const onAbort = () => finish(undefined);
    const addWatchers = () => {
      for (const target of targets) {
        if (watchers.has(target.dir)) continue;
        try {
          const w = watch(target.dir, { recursive: target.recursive ?? false, persistent: false }, () => void run());
          w.on('error', () => {
            w.close();
            watchers.delete(target.dir);
          });
          watchers.set(target.dir, w);
        } catch {
          // Not there yet; a change in a parent brings us back here.
        }
      }
    };
    const run = async (): Promise<void> => {
      if (done) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          addWatchers();
          const found = await check().catch(() => undefined);
          if (found !== undefined) return finish(found);
        } while (again && !done);
      } finally {
        running = false;
      }
    };
    if (options.signal?.aborted) return finish(undefined);
    options.signal?.addEventListener('abort', onAbort);
    if (options.timeoutMs !== undefined) timer = setTimeout(() => finish(undefined), options.timeoutMs);
    void run();
  });
}
