/** A database file in a scratch directory, to write through a store, close, reopen and read back. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalDatabase } from '../../../local/shared/database';

export interface ScratchDatabase {
  readonly dir: string;
  /** The database open now. */
  readonly db: LocalDatabase;
  /** Closes the database and opens the same file again, as a restart does. */
  reopen(): LocalDatabase;
  remove(): void;
}

export function scratchDatabase(prefix: string): ScratchDatabase {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  let db = LocalDatabase.open(dir);
  return {
    dir,
    get db() {
      return db;
    },
    reopen() {
      db.close();
      db = LocalDatabase.open(dir);
      return db;
    },
    remove() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
