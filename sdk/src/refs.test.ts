import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodePiperError } from './errors.js';
import { resolveRef, type RefLookup } from './refs.js';

interface Thing {
  id: string;
  name: string;
}

const things: Thing[] = [
  { id: '3f2a1b9c-0000-4000-8000-000000000001', name: 'build' },
  { id: '3f2b77aa-0000-4000-8000-000000000002', name: 'test' },
  { id: 'abcdef01-0000-4000-8000-000000000003', name: '3f2a' },
  { id: 'c0ffee00-0000-4000-8000-000000000004', name: 'twin' },
  { id: 'c0ffee11-0000-4000-8000-000000000005', name: 'twin' },
];

const lookup: RefLookup<Thing> = {
  kind: 'thing',
  byIdPrefix: (prefix, limit) => things.filter((t) => t.id.startsWith(prefix)).slice(0, limit),
  byName: (name, limit) => things.filter((t) => t.name === name).slice(0, limit),
  id: (t) => t.id,
  name: (t) => t.name,
};

const refused = (code: string, message: RegExp) => (error: unknown) =>
  error instanceof CodePiperError && error.code === code && message.test(error.message);

test('a full id, a name, or a unique prefix (in any case) names one thing', async () => {
  assert.equal((await resolveRef(things[1]!.id, lookup)).name, 'test');
  assert.equal((await resolveRef('build', lookup)).id, things[0]!.id);
  assert.equal((await resolveRef('3F2B', lookup)).name, 'test');
  assert.equal((await resolveRef('abc', lookup)).name, '3f2a');
});

test('a name wins over an id it happens to prefix', async () => {
  assert.equal((await resolveRef('3f2a', lookup)).id, things[2]!.id);
});

test('an ambiguous prefix or name is refused with its candidates; nothing matching is not found', async () => {
  await assert.rejects(resolveRef('3f2', lookup), refused('ambiguous_id', /thing "3f2" is ambiguous: it matches 3f2a1b9c \(build\), 3f2b77aa \(test\)/));
  await assert.rejects(resolveRef('twin', lookup), (error) => refused('ambiguous_id', /c0ffee00 \(twin\), c0ffee11 \(twin\)/)(error) && (error as CodePiperError).details?.candidates !== undefined);
  await assert.rejects(resolveRef('nothing', lookup), refused('not_found', /thing "nothing" not found/));
  await assert.rejects(resolveRef('', lookup), refused('not_found', /thing "" not found/));
});

test('kinds without names match ids only', async () => {
  const { byName: _byName, ...idsOnly } = lookup;
  await assert.rejects(resolveRef('build', idsOnly), refused('not_found', /thing "build"/));
  assert.equal((await resolveRef('c0ffee1', idsOnly)).id, things[4]!.id);
});
