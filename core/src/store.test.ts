import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { openStore, WAL_KEPT_BYTES, type KernelStore } from './store.js';
import { tempDir } from './testing.js';

async function store(t: TestContext): Promise<KernelStore> {
  const opened = await openStore(path.join(tempDir(t), 'test.db'));
  t.after(() => opened.close());
  await opened.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)');
  return opened;
}

describe('store', () => {
  it('opens a private database in WAL mode with foreign keys on', async (t) => {
    const db = await store(t);
    assert.equal(fs.statSync(db.path).mode & 0o777, 0o600);
    assert.deepEqual(await db.get('PRAGMA journal_mode'), { journal_mode: 'wal' });
    assert.deepEqual(await db.get('PRAGMA foreign_keys'), { foreign_keys: 1 });
    assert.deepEqual(await db.get('PRAGMA busy_timeout'), { timeout: 5000 });
  });

  it('cuts the write-ahead log back after one large transaction has grown it', async (t) => {
    const db = await store(t);
    const wal = `${db.path}-wal`;
    await db.transaction(async (tx) => {
      const insert = await tx.prepare('INSERT INTO notes (text) VALUES (?)');
      for (let i = 0; i < 40; i++) await insert.run(['x'.repeat(1024 * 1024)]);
    });
    // The commit checkpoints the log (it is past 1,000 pages); the next write starts it over, cut back.
    await db.run('INSERT INTO notes (text) VALUES (?)', ['after']);
    const size = fs.statSync(wal).size;
    assert.ok(size <= WAL_KEPT_BYTES, `the log kept ${size} bytes`);
    assert.deepEqual(await db.get('SELECT count(*) AS n FROM notes'), { n: 41 });
  });

  it('runs, gets and lists with positional and named parameters', async (t) => {
    const db = await store(t);
    assert.deepEqual(await db.run('INSERT INTO notes (text) VALUES (?)', ['one']), { changes: 1, lastID: 1 });
    await db.run('INSERT INTO notes (text) VALUES ($text)', { $text: 'two' });
    assert.deepEqual(await db.get('SELECT text FROM notes WHERE id = ?', [2]), { text: 'two' });
    assert.equal(await db.get('SELECT text FROM notes WHERE id = ?', [3]), undefined);
    assert.deepEqual(await db.all('SELECT id, text FROM notes ORDER BY id'), [
      { id: 1, text: 'one' },
      { id: 2, text: 'two' },
    ]);
  });

  it('commits a transaction, prepared statements included', async (t) => {
    const db = await store(t);
    const count = await db.transaction(async (tx) => {
      const insert = await tx.prepare('INSERT INTO notes (text) VALUES (?)');
      for (const text of ['a', 'b', 'c']) await insert.run([text]);
      await insert.finalize();
      return (await tx.get<{ n: number }>('SELECT count(*) AS n FROM notes'))?.n;
    });
    assert.equal(count, 3);
    assert.deepEqual(await db.get('SELECT count(*) AS n FROM notes'), { n: 3 });
  });

  it('rolls a failing transaction back entirely', async (t) => {
    const db = await store(t);
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO notes (text) VALUES (?)', ['kept?']);
        await (await tx.prepare('INSERT INTO notes (text) VALUES (?)')).run(['left unfinalized']);
        throw new Error('changed my mind');
      }),
      { message: 'changed my mind' },
    );
    assert.deepEqual(await db.all('SELECT * FROM notes'), []);
  });

  it('makes other queries wait until a transaction ends', async (t) => {
    const db = await store(t);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const transaction = db.transaction(async (tx) => {
      await tx.run('INSERT INTO notes (text) VALUES (?)', ['inside']);
      await released;
      throw new Error('rolled back');
    });
    const outside = db.run('INSERT INTO notes (text) VALUES (?)', ['outside']);
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    await assert.rejects(transaction, { message: 'rolled back' });
    await outside;
    assert.deepEqual(await db.all('SELECT text FROM notes'), [{ text: 'outside' }]);
  });

  it('refuses the store inside its own transaction instead of waiting forever', async (t) => {
    const db = await store(t);
    await assert.rejects(
      db.transaction(() => db.run('INSERT INTO notes (text) VALUES (?)', ['x'])),
      /used inside one of its transactions/,
    );
    let handle!: Parameters<Parameters<KernelStore['transaction']>[0]>[0];
    await db.transaction(async (tx) => void (handle = tx));
    await assert.rejects(handle.run('SELECT 1'), /this transaction has ended/);
  });

  it('a damaged database is refused at open, naming the file and what to do; a good one opens', async (t) => {
    const file = path.join(tempDir(t), 'damaged.db');
    const db = await openStore(file);
    await db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL); CREATE INDEX notes_text ON notes (text)');
    for (let i = 0; i < 400; i++) await db.run('INSERT INTO notes (text) VALUES (?)', [`note ${i} ${'x'.repeat(100)}`]);
    await db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    await db.close();
    await (await openStore(file)).close();

    const pageSize = 4096;
    const bytes = fs.readFileSync(file);
    assert.ok(bytes.length > pageSize * 6);
    bytes.fill(0x5a, pageSize * 4 + 100, pageSize * 5);
    fs.writeFileSync(file, bytes);
    await assert.rejects(openStore(file), (error: Error) => error.message.includes(`the database ${file} is damaged`) && error.message.includes('.recover'));
    assert.deepEqual(fs.readFileSync(file), bytes, 'nothing was written to it');

    const truncated = path.join(tempDir(t), 'truncated.db');
    fs.writeFileSync(truncated, bytes.subarray(0, 1000));
    await assert.rejects(openStore(truncated), (error: Error) => error.message.includes(`the database ${truncated} is damaged`));
  });
});
