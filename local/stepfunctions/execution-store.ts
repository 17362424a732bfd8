/**
 * Executions and their history on disk: one JSON file per execution under
 * `<dataDir>/stepfunctions/executions/`, written atomically (temp file + rename) and debounced, so
 * a busy execution costs one write per burst of history events rather than one per event.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly type: string;
  readonly detailsKey?: string;
  readonly details?: Record<string, unknown>;
}

export interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly name: string;
  readonly input: string;
  readonly startDate: number;
  status: ExecutionStatus;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  redriveCount: number;
  redriveDate?: number;
  /** The top-level state in progress (entered, not exited) and its input: where a redrive resumes. */
  current?: { readonly stateName: string; readonly input: string };
  readonly history: HistoryEvent[];
}

const DEBOUNCE_MS = 25;

export class ExecutionStore {
  private readonly dir: string | undefined;
  private readonly dirty = new Map<string, ExecutionRecord>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(dataDir: string | undefined) {
    this.dir = dataDir ? join(dataDir, 'stepfunctions', 'executions') : undefined;
    if (this.dir) mkdirSync(this.dir, { recursive: true });
  }

  /** Every persisted execution; unreadable files are skipped (a crash mid-rename leaves only `.tmp`). */
  loadAll(): ExecutionRecord[] {
    if (!this.dir) return [];
    const records: ExecutionRecord[] = [];
    for (const file of readdirSync(this.dir)) {
      if (!file.endsWith('.json')) continue;
      try {
        records.push(JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as ExecutionRecord);
      } catch {
        continue;
      }
    }
    return records;
  }

  save(record: ExecutionRecord): void {
    if (!this.dir) return;
    this.dirty.set(record.executionArn, record);
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), DEBOUNCE_MS);
      this.timer.unref();
    }
  }

  /** Writes everything pending; resolves when it is on disk. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const dir = this.dir;
    if (!dir || this.dirty.size === 0) return this.writing;
    const batch = [...this.dirty.values()].map((record) => ({ arn: record.executionArn, text: JSON.stringify(record) }));
    this.dirty.clear();
    this.writing = this.writing.then(async () => {
      for (const { arn, text } of batch) {
        const file = join(dir, `${createHash('sha256').update(arn).digest('hex').slice(0, 32)}.json`);
        await writeFile(`${file}.tmp`, text);
        await rename(`${file}.tmp`, file);
      }
    });
    return this.writing;
  }
}
