/** SQLite values as the driver accepts them. */
export type SqlValue = string | number | bigint | boolean | null | Buffer;
/** Positional (`?`) or named (`$name`) parameters. */
export type SqlParams = readonly SqlValue[] | Readonly<Record<string, SqlValue>>;

export interface RunResult {
  changes: number;
  lastID: number;
}

export interface Queryable {
  run(sql: string, params?: SqlParams): Promise<RunResult>;
  get<T>(sql: string, params?: SqlParams): Promise<T | undefined>;
  all<T>(sql: string, params?: SqlParams): Promise<T[]>;
  /** Runs several `;`-separated statements without parameters. */
  exec(sql: string): Promise<void>;
}

/** A compiled statement for batches: prepare once, run many times, finalize. */
export interface PreparedStatement {
  run(params?: SqlParams): Promise<RunResult>;
  finalize(): Promise<void>;
}

export interface Store extends Queryable {
  /** Absolute path of the database file. */
  readonly path: string;
  /**
   * Runs `fn` in one transaction (`BEGIN IMMEDIATE`), committing when it
   * resolves and rolling back when it throws. Other queries wait meanwhile.
   */
  transaction<T>(fn: (tx: Queryable & { prepare(sql: string): Promise<PreparedStatement> }) => Promise<T>): Promise<T>;
}

/**
 * A plugin's schema change. Versions are numbered from 1 per plugin; each is
 * applied once, in its own transaction, and recorded in `_migrations`.
 */
export interface Migration {
  version: number;
  name: string;
  up: string | ((tx: Queryable) => Promise<void>);
}
