import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestKernel, type TestKernel } from '@codepiper/core/test-kernel';
import { eventLogRef, type CodePiperEvent, type EventLog } from '@codepiper/events-contract';
import { definePlugin, type Store } from '@codepiper/sdk';
import type { SqliteEventLog } from './event-log.js';
import events from './index.js';

/** A database that refuses to store events of type `refused`: what a full disk does to every write, for one kind only. */
const refusing = definePlugin({
  name: 'refusing',
  api: '*',
  description: 'Makes SQLite refuse one type of event',
  uses: [eventLogRef],
  register: (ctx) => ({
    start: () => ctx.store.exec(`CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.type = 'refused' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`),
  }),
});

let store: Store | undefined;
/** Gives the test the database, to age events as time would. */
const storeAccess = definePlugin({
  name: 'store-access',
  api: '*',
  description: 'Hands the test the store',
  uses: [eventLogRef],
  register: (ctx) => ({ start: () => void (store = ctx.store) }),
});

describe('the event log, appended to by many at once', () => {
  let kernel: TestKernel;
  let log: EventLog;
  before(async () => {
    kernel = await createTestKernel({ plugins: [events, refusing, storeAccess] });
    log = kernel.service(eventLogRef);
  });
  after(() => kernel.stop());

  it('stores a burst of appends each once, numbered in the order they were made, and publishes them in that order', async () => {
    const published: CodePiperEvent[] = [];
    const unsubscribe = log.subscribe({ type: 'burst.*' }, (event) => published.push(event));
    const appended = await Promise.all(Array.from({ length: 1200 }, (_, i) => log.append({ sessionId: i % 2 ? 'odd' : null, type: `burst.${i % 3}`, payload: { i } }, 'test')));
    unsubscribe();
    assert.deepEqual(appended.map((event) => (event.payload as { i: number }).i), [...Array(1200).keys()]);
    const ids = appended.map((event) => event.id);
    assert.ok(ids.every((id, i) => i === 0 || id === ids[i - 1]! + 1), 'consecutive ids, in the order of the calls');
    assert.deepEqual(published, appended, 'published once each, in id order, as the appends returned them');
    const stored = await log.list({ type: 'burst.*', limit: 2000 });
    assert.deepEqual(stored, appended, 'stored as returned: id, session, type, time, source and payload');
  });

  it('an append the database refuses rejects alone: those made with it are stored, and appends after go on', async () => {
    const first = log.append({ sessionId: null, type: 'before', payload: 1 }, 'test');
    // Made in the same turn as `first`: the four are stored together, by one statement, which SQLite refuses.
    const together = [log.append({ sessionId: null, type: 'with', payload: 2 }, 'test'), log.append({ sessionId: null, type: 'refused', payload: 3 }, 'test'), log.append({ sessionId: null, type: 'with', payload: 4 }, 'test')];
    const outcomes = await Promise.allSettled([first, ...together]);
    assert.deepEqual(outcomes.map((outcome) => outcome.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    assert.match(String((outcomes[2] as PromiseRejectedResult).reason), /refused by the test/);
    const next = await log.append({ sessionId: null, type: 'after', payload: 5 }, 'test');
    const stored = await log.list({ after: (await first).id - 1 });
    assert.deepEqual(stored.map((event) => [event.type, event.payload]), [['before', 1], ['with', 2], ['with', 4], ['after', 5]]);
    assert.deepEqual(stored.at(-1), next);
  });

  it('removes the events stored before a time, over several statements; newer ones stay, and ids are not given again', async () => {
    const first = await log.append({ sessionId: null, type: 'aging.old', payload: 0 }, 'test');
    await Promise.all(Array.from({ length: 11_999 }, (_, i) => log.append({ sessionId: null, type: 'aging.old', payload: i + 1 }, 'test')));
    const recent = await log.append({ sessionId: null, type: 'aging.recent', payload: 'kept' }, 'test');
    await store!.run(`UPDATE events SET ts = '2020-01-01T00:00:00.000Z' WHERE type = 'aging.old'`);
    const aging = log as SqliteEventLog;
    assert.equal(await aging.removeBefore(new Date('2021-01-01T00:00:00Z')), 12_000);
    assert.deepEqual(await log.list({ type: 'aging.*', after: first.id - 1 }), [recent]);
    assert.ok((await log.list({ limit: 10_000 })).length > 1, 'the other tests’ events, newer, stay');
    assert.equal(await aging.removeBefore(new Date('2021-01-01T00:00:00Z')), 0);
    assert.ok((await log.append({ sessionId: null, type: 'aging.next', payload: null }, 'test')).id > recent.id);
  });
});
