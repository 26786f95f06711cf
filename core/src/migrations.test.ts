import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { Migration } from '@codepiper/sdk';
import { runMigrations } from './migrations.js';
import { openStore, type KernelStore } from './store.js';
import { tempDir } from './testing.js';

async function store(t: TestContext): Promise<KernelStore> {
  const opened = await openStore(path.join(tempDir(t), 'test.db'));
  t.after(() => opened.close());
  return opened;
}

const notes: Migration[] = [
  { version: 2, name: 'notes-title', up: 'ALTER TABLE notes ADD COLUMN title TEXT' },
  { version: 1, name: 'notes', up: 'CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)' },
];

const recorded = (db: KernelStore) => db.all<{ plugin: string; version: number; name: string }>('SELECT plugin, version, name FROM _migrations ORDER BY plugin, version');

describe('runMigrations', () => {
  it('applies each migration once, in version order, and records it', async (t) => {
    const db = await store(t);
    const plan = [{ plugin: 'notes', migrations: notes }];
    await runMigrations(db, plan);
    await runMigrations(db, plan);
    assert.deepEqual(await recorded(db), [
      { plugin: 'notes', version: 1, name: 'notes' },
      { plugin: 'notes', version: 2, name: 'notes-title' },
    ]);
    await db.run('INSERT INTO notes (text, title) VALUES (?, ?)', ['body', 'title']);
  });

  it('applies only the migrations added since', async (t) => {
    const db = await store(t);
    await runMigrations(db, [{ plugin: 'notes', migrations: notes.slice(1) }]);
    const calls: number[] = [];
    const third: Migration = { version: 3, name: 'fill', up: async (tx) => void calls.push((await tx.run("UPDATE notes SET title = 'x'")).changes) };
    await runMigrations(db, [{ plugin: 'notes', migrations: [...notes, third] }]);
    assert.deepEqual(calls, [0]);
    assert.equal((await recorded(db)).length, 3);
  });

  it('rolls a failing migration back and names its plugin', async (t) => {
    const db = await store(t);
    const broken: Migration = { version: 1, name: 'broken', up: 'CREATE TABLE half (id INTEGER); INSERT INTO nowhere VALUES (1)' };
    await assert.rejects(runMigrations(db, [{ plugin: 'notes', migrations: [broken] }]), {
      message: 'plugin "notes": migration 1 "broken" failed: SQLITE_ERROR: no such table: nowhere',
    });
    assert.deepEqual(await db.all("SELECT name FROM sqlite_master WHERE name = 'half'"), []);
    assert.deepEqual(await recorded(db), []);
  });

  it('refuses versions that are not 1, 2, 3…, naming the plugin', async (t) => {
    const db = await store(t);
    await assert.rejects(runMigrations(db, [{ plugin: 'notes', migrations: [notes[0]!] }]), {
      message: 'plugin "notes" declares migrations 2: versions must be 1, 2, 3... with no gap or repeat',
    });
    await assert.rejects(runMigrations(db, [{ plugin: 'notes', migrations: [notes[1]!, notes[1]!] }]), /plugin "notes" declares migrations 1, 1/);
  });

  it('refuses a database migrated further than the plugin knows', async (t) => {
    const db = await store(t);
    await runMigrations(db, [{ plugin: 'notes', migrations: notes }]);
    await assert.rejects(runMigrations(db, [{ plugin: 'notes', migrations: notes.slice(1) }]), /database is at its migration 2, but the plugin knows only 1/);
  });
});
