import assert from 'node:assert/strict';
import { test } from 'node:test';
import { raceTimeout } from './timeout.js';

const after = <T>(ms: number, value: T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), ms));
const timers = (): number => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;

test('raceTimeout gives the promise’s value when it comes in time, or its rejection, and leaves no timer behind', async () => {
  const before = timers();
  assert.equal(await raceTimeout(after(5, 'answer'), 60_000, 'late'), 'answer');
  await assert.rejects(raceTimeout(Promise.reject(new Error('refused')), 60_000), /refused/);
  assert.equal(timers(), before);
});

test('raceTimeout gives the fallback, undefined if none, when the promise is late', async () => {
  const never = new Promise<string>(() => {});
  assert.equal(await raceTimeout(never, 5, false), false);
  assert.equal(await raceTimeout(never, 5), undefined);
});
