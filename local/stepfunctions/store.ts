/**
 * Where Step Functions keeps its executions: the local cloud's database, tables `sfn_executions`
 * (one row per execution: the columns ListExecutions reads, and the record without its history)
 * and `sfn_history` (one row per history event).
 *
 * Every change the service acknowledges (a new execution, each history event and state transition,
 * a task token's completion, a stop or a redrive) goes through `save`, which commits the execution
 * and its new history events in one transaction before it returns, so the answer (or the next step)
 * follows a durable write.
 *
 * Only RUNNING executions are held in memory (the executor changes them in place); finished ones
 * are read by ARN and listed a page at a time, so a data directory of many executions opens fast.
 */
import type { LocalDatabase } from '../shared/database';
import type { ExecutionRecord, ExecutionStatus, HistoryEvent } from './models';

/** What ListExecutions shows of an execution. */
export interface ExecutionSummary {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: ExecutionStatus;
  readonly startDate: number;
  readonly stopDate?: number;
  readonly redriveCount: number;
  readonly redriveDate?: number;
}

export interface ExecutionStore {
  /** The execution with its history; a RUNNING one is the very record the executor changes. */
  get(executionArn: string): ExecutionRecord | undefined;
  /** Executions left RUNNING by the previous process, to resume. */
  running(): readonly ExecutionRecord[];
  /** A window of a state machine's executions, newest first (start date, then name, descending). */
  list(stateMachineArn: string, status: ExecutionStatus | undefined, offset: number, limit: number): ExecutionSummary[];
  /** Commits the execution and the history events appended since its last save. */
  save(record: ExecutionRecord): void;
}

interface SummaryRow {
  arn: string;
  machine: string;
  name: string;
  status: ExecutionStatus;
  start_date: number;
  stop_date: number | null;
  redrive_count: number;
  redrive_date: number | null;
}

interface RecordRow {
  input: string;
  record: string;
}

const SUMMARY_COLUMNS = 'arn, machine, name, status, start_date, stop_date, redrive_count, redrive_date';

export class SqliteExecutionStore implements ExecutionStore {
  /** RUNNING executions, by ARN. */
  private readonly live = new Map<string, ExecutionRecord>();
  /** What of a record is already in the database: its row as written last, and how many history events. */
  private readonly saved = new WeakMap<ExecutionRecord, { row: string; events: number }>();

  constructor(private readonly db: LocalDatabase) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS sfn_executions (
        arn TEXT PRIMARY KEY,
        machine TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        start_date INTEGER NOT NULL,
        stop_date INTEGER,
        redrive_count INTEGER NOT NULL,
        redrive_date INTEGER,
        input TEXT NOT NULL,
        record TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS sfn_executions_newest ON sfn_executions (machine, start_date DESC, name DESC);
      CREATE INDEX IF NOT EXISTS sfn_executions_by_status ON sfn_executions (machine, status, start_date DESC, name DESC);
      CREATE TABLE IF NOT EXISTS sfn_history (arn TEXT NOT NULL, id INTEGER NOT NULL, event TEXT NOT NULL);
      CREATE UNIQUE INDEX IF NOT EXISTS sfn_history_by_execution ON sfn_history (arn, id);
    `);
    for (const row of db.all<RecordRow>("SELECT input, record FROM sfn_executions WHERE status = 'RUNNING'")) {
      const loaded = this.withHistory(row);
      this.live.set(loaded.executionArn, loaded);
    }
  }

  get(executionArn: string): ExecutionRecord | undefined {
    const live = this.live.get(executionArn);
    if (live) return live;
    const row = this.db.get<RecordRow>('SELECT input, record FROM sfn_executions WHERE arn = ?', executionArn);
    return row && this.withHistory(row);
  }

  running(): readonly ExecutionRecord[] {
    return [...this.live.values()];
  }

  list(stateMachineArn: string, status: ExecutionStatus | undefined, offset: number, limit: number): ExecutionSummary[] {
    const rows =
      status === undefined
        ? this.db.all<SummaryRow>(`SELECT ${SUMMARY_COLUMNS} FROM sfn_executions WHERE machine = ? ORDER BY start_date DESC, name DESC LIMIT ? OFFSET ?`, stateMachineArn, limit, offset)
        : this.db.all<SummaryRow>(
            `SELECT ${SUMMARY_COLUMNS} FROM sfn_executions WHERE machine = ? AND status = ? ORDER BY start_date DESC, name DESC LIMIT ? OFFSET ?`,
            stateMachineArn,
            status,
            limit,
            offset,
          );
    return rows.map(summaryOf);
  }

  save(record: ExecutionRecord): void {
    const saved = this.saved.get(record);
    const { history, input, ...rest } = record;
    // The row is written when something in it changed, not at every history event.
    const row = JSON.stringify(rest);
    this.db.transaction(() => {
      if (!saved) {
        this.db.run(
          `INSERT INTO sfn_executions (${SUMMARY_COLUMNS}, input, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          record.executionArn,
          record.stateMachineArn,
          record.name,
          record.status,
          record.startDate,
          record.stopDate ?? null,
          record.redriveCount,
          record.redriveDate ?? null,
          input,
          row,
        );
      } else if (saved.row !== row) {
        this.db.run(
          'UPDATE sfn_executions SET status = ?, stop_date = ?, redrive_count = ?, redrive_date = ?, record = ? WHERE arn = ?',
          record.status,
          record.stopDate ?? null,
          record.redriveCount,
          record.redriveDate ?? null,
          row,
          record.executionArn,
        );
      }
      for (const event of history.slice(saved?.events ?? 0)) this.db.run('INSERT INTO sfn_history (arn, id, event) VALUES (?, ?, ?)', record.executionArn, event.id, JSON.stringify(event));
    });
    this.saved.set(record, { row, events: history.length });
    if (record.status === 'RUNNING') this.live.set(record.executionArn, record);
    else this.live.delete(record.executionArn);
  }

  private withHistory(row: RecordRow): ExecutionRecord {
    const record = JSON.parse(row.record) as Omit<ExecutionRecord, 'history' | 'input'>;
    const history = this.db
      .all<{ event: string }>('SELECT event FROM sfn_history WHERE arn = ? ORDER BY id', record.executionArn)
      .map((event) => JSON.parse(event.event) as HistoryEvent);
    const full: ExecutionRecord = { ...record, input: row.input, history };
    this.saved.set(full, { row: row.record, events: history.length });
    return full;
  }
}

function summaryOf(row: SummaryRow): ExecutionSummary {
  return {
    executionArn: row.arn,
    stateMachineArn: row.machine,
    name: row.name,
    status: row.status,
    startDate: row.start_date,
    redriveCount: row.redrive_count,
    ...(row.stop_date === null ? {} : { stopDate: row.stop_date }),
    ...(row.redrive_date === null ? {} : { redriveDate: row.redrive_date }),
  };
}
