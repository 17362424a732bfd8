/**
 * The local cloud's one embedded database: every emulated service keeps what it acknowledged here,
 * committed before the answer leaves. `node:sqlite` (`DatabaseSync`), one file per data directory
 * (`<dataDir>/local-cloud.db`), in WAL mode; each store creates its own tables.
 *
 * `synchronous` is how far a commit goes before it returns:
 * - `NORMAL` (default): the commit is in the operating system's hands, so it survives the process
 *   being killed (kill -9, an out-of-memory kill, a crash); an OS crash or power loss may lose the
 *   last commits (never corrupting the file).
 * - `FULL`: the write-ahead log is synced at every commit, so commits survive those too; slower.
 *
 * Commits are grouped: the writes of one turn of the event loop go into one transaction, committed
 * at the end of that turn (`flush`), and the edge flushes before it sends any answer. So nothing is
 * acknowledged outside the process before it is on disk, a crash loses at most the unacknowledged
 * writes of the turn under way (all of them, never a part), and a burst of writes pays for one
 * commit instead of one each. `transaction` still makes an operation all-or-nothing within the
 * group (a savepoint).
 *
 * One process at a time: the file is locked exclusively while open, and a second local cloud on the
 * same data directory fails at start with `DataDirectoryInUseError` instead of resuming the same
 * work twice.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';

export type Synchronous = 'NORMAL' | 'FULL';

export const DATABASE_FILE = 'local-cloud.db';

export class DataDirectoryInUseError extends Error {
  override readonly name = 'DataDirectoryInUseError';
}

/** A SQL parameter as node:sqlite binds it. */
export type SqlValue = null | number | bigint | string | Uint8Array;

export class LocalDatabase {
  private readonly statements = new Map<string, StatementSync>();
  /** Whether the group transaction of this turn is open. */
  private grouped = false;
  /** Open operation levels inside the group: 0 outside `transaction`. */
  private depth = 0;
  private afterCommitQueue: (() => void)[] = [];

  private constructor(
    private readonly db: DatabaseSync,
    /** The database file, or `:memory:`. */
    readonly location: string,
  ) {}

  /** Opens (creating) `<dataDir>/local-cloud.db`; without a data directory, a private in-memory database. */
  static open(dataDir: string | undefined, options: { readonly synchronous?: Synchronous } = {}): LocalDatabase {
    const { DatabaseSync: Database } = loadSqlite();
    let location = ':memory:';
    if (dataDir !== undefined) {
      mkdirSync(dataDir, { recursive: true });
      location = join(dataDir, DATABASE_FILE);
    }
    const db = new Database(location, { timeout: 0 });
    try {
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      db.exec('PRAGMA journal_mode = WAL');
      db.exec(`PRAGMA synchronous = ${options.synchronous ?? 'NORMAL'}`);
      // Takes the exclusive lock now, so a second process fails here rather than at its first write.
      db.exec('BEGIN IMMEDIATE; COMMIT');
    } catch (error) {
      db.close();
      if (/locked|busy/i.test(String(error))) {
        throw new DataDirectoryInUseError(`${location} is in use by another process: run one local cloud per data directory`, { cause: error });
      }
      throw error;
    }
    return new LocalDatabase(db, location);
  }

  /** Runs DDL (a store's `CREATE TABLE IF NOT EXISTS …`). */
  exec(sql: string): void {
    this.db.exec(sql);
  }

  /** A prepared statement, prepared once per SQL text. */
  statement(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** A write: part of this turn's group, committed by `flush`. */
  run(sql: string, ...params: SqlValue[]): void {
    this.group();
    this.statement(sql).run(...params);
  }

  all<T>(sql: string, ...params: SqlValue[]): T[] {
    return this.statement(sql).all(...params) as T[];
  }

  get<T>(sql: string, ...params: SqlValue[]): T | undefined {
    return this.statement(sql).get(...params) as T | undefined;
  }

  /**
   * Runs `fn` as one operation: all of its writes or, when it throws, none of them. Nested calls
   * nest (an SNS fan-out is one operation made of several stores' writes).
   */
  transaction<T>(fn: () => T): T {
    this.group();
    const level = this.depth;
    const queued = this.afterCommitQueue.length;
    this.db.exec(`SAVEPOINT s${level}`);
    this.depth = level + 1;
    let result: T;
    try {
      result = fn();
    } catch (error) {
      this.depth = level;
      this.db.exec(`ROLLBACK TO s${level}; RELEASE s${level}`);
      this.afterCommitQueue.length = queued;
      throw error;
    }
    this.depth = level;
    this.db.exec(`RELEASE s${level}`);
    if (level === 0) {
      const due = this.afterCommitQueue;
      this.afterCommitQueue = [];
      for (const work of due) work();
    }
    return result;
  }

  /** Runs `work` once the enclosing operation has succeeded (at once outside one); never if it is rolled back. */
  afterCommit(work: () => void): void {
    if (this.depth === 0) work();
    else this.afterCommitQueue.push(work);
  }

  /** Commits this turn's writes. The edge calls it before every answer; it also runs at the end of each turn. */
  flush(): void {
    if (!this.grouped) return;
    this.grouped = false;
    this.db.exec('COMMIT');
  }

  /** Commits and closes the file (a clean shutdown checkpoints the write-ahead log into it). Safe to call twice. */
  close(): void {
    if (!this.db.isOpen) return;
    this.flush();
    this.statements.clear();
    this.db.close();
  }

  private group(): void {
    if (this.grouped) return;
    this.db.exec('BEGIN');
    this.grouped = true;
    setImmediate(() => {
      if (this.db.isOpen) this.flush();
    });
  }
}

let sqlite: typeof import('node:sqlite') | undefined;

/**
 * node:sqlite announces itself with an ExperimentalWarning when first loaded on Node 22. The local
 * cloud's commands print no warning banner, so exactly that warning is swallowed here; every other
 * warning still prints.
 */
function loadSqlite(): typeof import('node:sqlite') {
  if (sqlite) return sqlite;
  const emitWarning = process.emitWarning;
  process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]) {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const message = typeof warning === 'string' ? warning : warning.message;
    if (type === 'ExperimentalWarning' && message.startsWith('SQLite')) return;
    return (emitWarning as (...args: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    sqlite = process.getBuiltinModule('node:sqlite');
  } finally {
    process.emitWarning = emitWarning;
  }
  return sqlite;
}
