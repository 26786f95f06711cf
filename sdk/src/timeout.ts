/**
 * What `promise` settles with, or `fallback` once `ms` have passed without it
 * settling. The timer is cleared either way: none is left to hold the process
 * open, or to fire after the answer came. A rejection passes through.
 */
export function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined>;
export function raceTimeout<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F>;
export async function raceTimeout<T, F>(promise: Promise<T>, ms: number, fallback?: F): Promise<T | F | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<F | undefined>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
