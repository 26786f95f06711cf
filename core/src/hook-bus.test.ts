import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CodePiperError, defineBailHook, defineParallelHook, defineSeriesHook, defineWaterfallHook, Stage } from '@codepiper/sdk';
import { HookBus, HookTapError } from './hook-bus.js';
import { memoryLogger } from './testing.js';

const announced = defineParallelHook<string[]>({ name: 'test.announced', owner: 'test', description: 'Something happened', payload: 'string[]' });
const recorded = defineSeriesHook<string[]>({ name: 'test.recorded', owner: 'test', description: 'Something was stored', payload: 'string[]' });
const allowed = defineBailHook<string, { allow: false; reason: string }>({ name: 'test.allowed', owner: 'test', description: 'May it?', payload: 'string → Verdict' });
const shaped = defineWaterfallHook<string>({ name: 'test.shaped', owner: 'test', description: 'Reshape the text', payload: 'string' });

/** A bus and the hooks of plugins `a`, `b` and `c`, logging to memory. */
function setup() {
  const bus = new HookBus();
  const { log, lines } = memoryLogger();
  const hooksOf = (plugin: string) => bus.forPlugin(plugin, log.child({ plugin }));
  return { bus, lines, a: hooksOf('a'), b: hooksOf('b'), c: hooksOf('c') };
}

describe('HookBus', () => {
  it('names every tap after its plugin in the catalog', () => {
    const { bus, a, b } = setup();
    a.tap(announced, () => undefined);
    b.tap(announced, () => undefined);
    b.tap(shaped, (text) => text);
    assert.deepEqual(bus.catalog(), [
      { name: 'test.announced', kind: 'parallel', owner: 'test', description: 'Something happened', taps: ['a', 'b'] },
      { name: 'test.shaped', kind: 'waterfall', owner: 'test', description: 'Reshape the text', taps: ['b'] },
    ]);
  });

  for (const hook of [announced, recorded]) {
    it(`logs a failing ${hook.kind} tap with its plugin and hook, and runs the others`, async () => {
      const { lines, a, b, c } = setup();
      a.tap(hook, (seen) => void seen.push('a'));
      b.tap(hook, () => {
        throw new Error('disk full');
      });
      c.tap(hook, async (seen) => void seen.push('c'));
      const seen: string[] = [];
      await a.call(hook, seen);
      assert.deepEqual(seen.sort(), ['a', 'c']);
      const [line] = lines;
      assert.equal(lines.length, 1);
      assert.equal(line?.plugin, 'b');
      assert.equal(line?.hook, hook.name);
      assert.equal((line?.err as { message: string }).message, 'disk full');
    });
  }

  it('runs bail taps in stage order until one decides', async () => {
    const { a, b, c } = setup();
    const asked: string[] = [];
    a.tap(allowed, () => void asked.push('a'), { stage: Stage.LATE });
    b.tap(allowed, () => {
      asked.push('b');
      return { allow: false, reason: 'b says no' };
    });
    c.tap(allowed, () => void asked.push('c'), { stage: Stage.EARLY });
    assert.deepEqual(await a.call(allowed, 'rm -rf /'), { allow: false, reason: 'b says no' });
    assert.deepEqual(asked, ['c', 'b']);
  });

  it('resolves a bail hook nobody decides to undefined', async () => {
    const { a } = setup();
    a.tap(allowed, () => undefined);
    assert.equal(await a.call(allowed, 'ls'), undefined);
  });

  it('passes a bail tap’s error to the caller, prefixed with its plugin', async () => {
    const { a, b } = setup();
    b.tap(allowed, async () => {
      throw new Error('policy file unreadable');
    });
    await assert.rejects(a.call(allowed, 'ls'), (error: unknown) => {
      assert.ok(error instanceof HookTapError);
      assert.equal(error.message, 'b: policy file unreadable');
      assert.equal(error.hook, 'test.allowed');
      return true;
    });
  });

  it('passes a bail tap’s refusal with a catalog code to the caller as it is: the code is the answer', async () => {
    const { a, b } = setup();
    b.tap(allowed, async () => {
      throw new CodePiperError('not_a_repository', '/tmp is not in a git repository');
    });
    await assert.rejects(a.call(allowed, 'ls'), (error: unknown) => {
      assert.ok(error instanceof CodePiperError);
      assert.deepEqual([error.code, error.status, error.message], ['not_a_repository', 400, '/tmp is not in a git repository']);
      return true;
    });
  });

  it('passes each waterfall tap the previous result, in stage order', async () => {
    const { a, b, c } = setup();
    a.tap(shaped, (text) => `${text}+a`, { stage: Stage.LAST });
    b.tap(shaped, async (text) => `${text}+b`);
    c.tap(shaped, (text) => `${text}+c`, { stage: Stage.FIRST });
    assert.equal(await a.call(shaped, 'x'), 'x+c+b+a');
  });

  it('refuses a hook name used with another kind', () => {
    const { a } = setup();
    a.tap(announced, () => undefined);
    const impostor = defineBailHook<string[], string>({ name: announced.name, owner: 'other', description: '', payload: 'string[] → string' });
    assert.throws(() => a.tap(impostor, () => undefined), { message: 'hook "test.announced" is a parallel hook; it was used as a bail hook' });
  });
});
