import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ControlGate } from './control-gate.js';

/** A promise settled from outside. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ControlGate: what makes tmux notify control clients never meets one of ours connecting', () => {
  it('lets clients connect one at a time, each once the one before has connected or failed', async () => {
    const gate = new ControlGate(() => Promise.resolve());
    const log: string[] = [];
    const first = deferred();
    const second = deferred();
    gate.connect(() => (log.push('first starts'), first.promise));
    gate.connect(() => (log.push('second starts'), second.promise.then(() => Promise.reject(new Error('refused')))));
    gate.connect(() => (log.push('third starts'), Promise.resolve()));
    await tick();
    assert.deepEqual(log, ['first starts']);
    first.resolve();
    await tick();
    assert.deepEqual(log, ['first starts', 'second starts']);
    second.resolve();
    await tick();
    assert.deepEqual(log, ['first starts', 'second starts', 'third starts']);
  });

  it('runs a change once the client connecting has connected; clients that come later wait for the changes under way, which run side by side', async () => {
    const gate = new ControlGate(() => Promise.resolve());
    const log: string[] = [];
    const connecting = deferred();
    gate.connect(() => connecting.promise);
    const [a, b] = [deferred(), deferred()];
    const changes = [
      gate.change(async () => (log.push('a starts'), await a.promise, 'a')),
      gate.change(async () => (log.push('b starts'), await b.promise, 'b')),
    ];
    await tick();
    assert.equal(log.length, 0, 'nothing changes while a client connects');
    connecting.resolve();
    await tick();
    assert.deepEqual(log, ['a starts', 'b starts']);
    gate.connect(() => (log.push('client starts'), Promise.resolve()));
    a.resolve();
    await tick();
    assert.deepEqual(log, ['a starts', 'b starts'], 'the client waits for every change');
    b.resolve();
    await tick();
    assert.deepEqual(log, ['a starts', 'b starts', 'client starts']);
    assert.deepEqual(await Promise.all(changes), ['a', 'b']);
  });

  it('a change that fails fails its caller and holds nothing up', async () => {
    const gate = new ControlGate(() => Promise.resolve());
    await assert.rejects(gate.change(() => Promise.reject(new Error('no such session'))), /no such session/);
    let started = false;
    gate.connect(async () => {
      started = true;
    });
    await tick();
    assert.ok(started);
  });

  it('a client leaving holds the next one until it has ended and the server has taken that in', async () => {
    const log: string[] = [];
    const gate = new ControlGate(async () => {
      log.push('settled');
    });
    const ended = deferred();
    const left = gate.leave(() => log.push('ended it'), ended.promise);
    gate.connect(() => (log.push('next starts'), Promise.resolve()));
    await tick();
    assert.deepEqual(log, ['ended it']);
    ended.resolve();
    await left;
    await tick();
    assert.deepEqual(log, ['ended it', 'settled', 'next starts']);
  });
});
