/**
 * Where Step Functions keeps its executions. Every change the service acknowledges (a new execution,
 * each history event and state transition, a task token's completion, a stop or a redrive) goes
 * through `save`, synchronous, so a durable store can commit it before the answer is sent.
 *
 * Today's store: one JSON file per execution under `<dataDir>/stepfunctions/executions/`, written
 * atomically (temp file + rename) and debounced, so a busy execution costs one write per burst of
 * history events rather than one per event; in memory only without a data directory.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionRecord } from './models';

export interface ExecutionStore {
  get(executionArn: string): ExecutionRecord | undefined;
  all(): Iterable<ExecutionRecord>;
  save(record: ExecutionRecord): void;
  /** Resolves when every saved change is on disk. */
  flush(): Promise<void>;
}

const DEBOUNCE_MS = 25;

export class FileExecutionStore implements ExecutionStore {
  private readonly records = new Map<string, ExecutionRecord>();
  private readonly dir: string | undefined;
  private readonly dirty = new Map<string, ExecutionRecord>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  /** Reads back every persisted execution; unreadable files are skipped (a crash mid-rename leaves only `.tmp`). */
  constructor(dataDir: string | undefined) {
    this.dir = dataDir ? join(dataDir, 'stepfunctions', 'executions') : undefined;
    if (!this.dir) return;
    mkdirSync(this.dir, { recursive: true });
    for (const file of readdirSync(this.dir)) {
      if (!file.endsWith('.json')) continue;
      try {
        const record = JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as ExecutionRecord;
        this.records.set(record.executionArn, record);
      } catch {
        continue;
      }
    }
  }

  get(executionArn: string): ExecutionRecord | undefined {
    return this.records.get(executionArn);
  }

  all(): Iterable<ExecutionRecord> {
    return this.records.values();
  }

  save(record: ExecutionRecord): void {
    this.records.set(record.executionArn, record);
    if (!this.dir) return;
    this.dirty.set(record.executionArn, record);
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), DEBOUNCE_MS);
      this.timer.unref();
    }
  }

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
