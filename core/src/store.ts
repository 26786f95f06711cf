import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import { Mutex, type PreparedStatement, type Queryable, type RunResult, type SqlParams, type Store } from '@codepiper/sdk';
import sqlite3 from 'sqlite3';

export type Transaction = Queryable & { prepare(sql: string): Promise<PreparedStatement> };

export interface KernelStore extends Store {
  /** Waits for queued queries, then closes the database. */
  close(): Promise<void>;
}

/** SQLite's name for a database that lives in memory only. */
export const IN_MEMORY = ':memory:';

/**
 * What the write-ahead log is cut back to once checkpointed. SQLite otherwise keeps
 * the log at the largest size one transaction ever gave it (an import, a retention
 * sweep), for as long as the daemon runs.
 */
export const WAL_KEPT_BYTES = 16 * 1024 * 1024;

/** Opens (creating it, mode 0600) the daemon's database on one connection in WAL mode, after checking it is sound. */
export async function openStore(file: string): Promise<KernelStore> {
  if (file !== IN_MEMORY) {
    fs.closeSync(fs.openSync(file, 'a', 0o600));
    fs.chmodSync(file, 0o600);
  }
  const connection = await Connection.open(file);
  try {
    await connection.exec(
      `PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA journal_size_limit = ${WAL_KEPT_BYTES};`,
    );
    const checks = await connection.all<{ quick_check: string }>('PRAGMA quick_check');
    if (checks[0]?.quick_check !== 'ok') throw new Error(checks.map((c) => c.quick_check).slice(0, 3).join('; '));
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw new Error(
      `the database ${file} is damaged (${error instanceof Error ? error.message : String(error)}). Nothing was changed: move it aside and restore a backup, or salvage what it holds with \`sqlite3 ${file} .recover\``,
      { cause: error },
    );
  }

  // One connection: a transaction holds the lock from BEGIN to COMMIT so that
  // no other query lands inside it.
  const lock = new Mutex();
  const currentTransaction = new AsyncLocalStorage<TransactionState>();
  const exclusive: Use = (op) => {
    if (currentTransaction.getStore()?.open) {
      // Waiting for the lock here would wait for ourselves forever.
      return Promise.reject(new Error('the store was used inside one of its transactions: use the transaction handle instead'));
    }
    return lock.run(() => op(connection));
  };

  return {
    path: file,
    ...queryable(exclusive),
    transaction: (fn) => exclusive((c) => runTransaction(c, currentTransaction, fn)),
    close: () => lock.run(() => connection.close()),
  };
}

interface TransactionState {
  open: boolean;
}

async function runTransaction<T>(
  connection: Connection,
  currentTransaction: AsyncLocalStorage<TransactionState>,
  fn: (tx: Transaction) => Promise<T>,
): Promise<T> {
  const state: TransactionState = { open: true };
  const use: Use = (op) => (state.open ? op(connection) : Promise.reject(new Error('this transaction has ended')));
  const statements: Statement[] = [];
  const tx: Transaction = {
    ...queryable(use),
    prepare: (sql) =>
      use(async (c) => {
        const statement = await c.prepare(sql);
        statements.push(statement);
        return { run: (params) => use(() => statement.run(params)), finalize: () => statement.finalize() };
      }),
  };
  const end = async (): Promise<void> => {
    state.open = false;
    await Promise.allSettled(statements.map((statement) => statement.finalize()));
  };

  await connection.exec('BEGIN IMMEDIATE');
  try {
    const result = await currentTransaction.run(state, () => fn(tx));
    await end();
    await connection.exec('COMMIT');
    return result;
  } catch (error) {
    await end();
    // SQLite may have rolled back already (e.g. after SQLITE_FULL); the first error is the one to report.
    await connection.exec('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

type Use = <T>(op: (connection: Connection) => Promise<T>) => Promise<T>;

function queryable(use: Use): Queryable {
  return {
    run: (sql, params) => use((c) => c.run(sql, params)),
    get: <T>(sql: string, params?: SqlParams) => use((c) => c.get<T>(sql, params)),
    all: <T>(sql: string, params?: SqlParams) => use((c) => c.all<T>(sql, params)),
    exec: (sql) => use((c) => c.exec(sql)),
  };
}

/** Promises over one `sqlite3` connection. */
class Connection {
  private constructor(private readonly db: sqlite3.Database) {}

  static open(file: string): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const db = new sqlite3.Database(file, sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE, (error) =>
        error ? reject(error) : resolve(new Connection(db)),
      );
    });
  }

  run(sql: string, params: SqlParams = []): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      this.db.run(sql, params, function (error) {
        if (error) reject(error);
        else resolve({ changes: this.changes, lastID: this.lastID });
      });
    });
  }

  get<T>(sql: string, params: SqlParams = []): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      this.db.get<T>(sql, params, (error, row) => (error ? reject(error) : resolve(row)));
    });
  }

  all<T>(sql: string, params: SqlParams = []): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.db.all<T>(sql, params, (error, rows) => (error ? reject(error) : resolve(rows)));
    });
  }

  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.db.exec(sql, (error) => (error ? reject(error) : resolve()));
    });
  }

  prepare(sql: string): Promise<Statement> {
    return new Promise((resolve, reject) => {
      const statement = this.db.prepare(sql, (error) => (error ? reject(error) : resolve(new Statement(statement))));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.db.close((error) => (error ? reject(error) : resolve()));
    });
  }
}

class Statement {
  private finalized?: Promise<void>;

  constructor(private readonly statement: sqlite3.Statement) {}

  run(params: SqlParams = []): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      this.statement.run(params, function (error) {
        if (error) reject(error);
        else resolve({ changes: this.changes, lastID: this.lastID });
      });
    });
  }

  /** Idempotent: the transaction finalizes whatever its caller did not. */
  finalize(): Promise<void> {
    this.finalized ??= new Promise((resolve, reject) => {
      this.statement.finalize((error) => (error ? reject(error) : resolve()));
    });
    return this.finalized;
  }
}
