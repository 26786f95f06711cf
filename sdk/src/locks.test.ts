import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyedLock, Mutex } from './locks.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('a Mutex runs tasks one at a time, in call order, and goes on after a task that fails', async () => {
  const mutex = new Mutex();
  const log: string[] = [];
  const task = (name: string, fail = false) => async () => {
    log.push(`${name} starts`);
    await tick();
    log.push(`${name} ends`);
    if (fail) throw new Error(name);
    return name;
  };
  const results = await Promise.allSettled([mutex.run(task('a')), mutex.run(task('b', true)), mutex.run(task('c'))]);
  assert.deepEqual(log, ['a starts', 'a ends', 'b starts', 'b ends', 'c starts', 'c ends']);
  assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)), ['a', 'b', 'c']);
});

test('a KeyedLock serialises each key and runs different keys at once', async () => {
  const lock = new KeyedLock();
  const running = new Set<string>();
  let overlapSameKey = false;
  let overlapOtherKeys = false;
  const task = (key: string) => async () => {
    if ([...running].some((r) => r === key)) overlapSameKey = true;
    if (running.size > 0) overlapOtherKeys = true;
    running.add(key);
    await tick();
    running.delete(key);
  };
  await Promise.all([lock.run('x', task('x')), lock.run('y', task('y')), lock.run('x', task('x')), lock.run('y', task('y'))]);
  assert.equal(overlapSameKey, false, 'two tasks of one key never overlap');
  assert.equal(overlapOtherKeys, true, 'tasks of different keys do');
});
