/**
 * Where CloudWatch keeps its metrics. Accepted data points go through `add`, synchronous, so a
 * durable store can commit them before PutMetricData answers; pruning past retention goes through
 * `prune`.
 *
 * Today's store: every metric in memory, written whole to `<dataDir>/cloudwatch/metrics.json`
 * (temp file + rename) a debounce delay of clock time after a change, and on `flush`.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../clock';
import { Metrics, type MetricIdentity, type StoredPoint } from './models';

export interface MetricsStore {
  readonly metrics: Metrics;
  add(points: readonly { readonly identity: MetricIdentity; readonly point: StoredPoint }[]): void;
  /** Drops points past retention; scans everything, so at most once a minute of clock time. */
  prune(now: number): void;
  /** Resolves when every accepted point is on disk. */
  flush(): Promise<void>;
}

export interface FileMetricsStoreOptions {
  readonly clock: Clock;
  /** Metrics persist to `<dataDir>/cloudwatch/metrics.json` when set. */
  readonly dataDir?: string;
  /** Delay before a change is written to disk. @default 1000 ms (clock time) */
  readonly persistDelayMs?: number;
}

export class FileMetricsStore implements MetricsStore {
  readonly metrics = new Metrics();
  private readonly clock: Clock;
  private readonly file: string | undefined;
  private readonly persistDelayMs: number;
  private cancelPersist: (() => void) | undefined;
  private writing: Promise<void> = Promise.resolve();
  private lastPrune = -Infinity;

  constructor(options: FileMetricsStoreOptions) {
    this.clock = options.clock;
    this.persistDelayMs = options.persistDelayMs ?? 1000;
    if (options.dataDir === undefined) return;
    const dir = join(options.dataDir, 'cloudwatch');
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'metrics.json');
    this.load(this.file);
  }

  add(points: readonly { readonly identity: MetricIdentity; readonly point: StoredPoint }[]): void {
    for (const { identity, point } of points) this.metrics.add(identity, point);
    this.prune(this.clock.now());
    if (!this.file || this.cancelPersist) return;
    const file = this.file;
    this.cancelPersist = this.clock.schedule(this.persistDelayMs, () => {
      this.cancelPersist = undefined;
      // A failed background write must not take the process down; the next write retries.
      this.persist(file).catch((error: unknown) => process.emitWarning(`cloudwatch: could not persist metrics: ${String(error)}`));
    });
  }

  prune(now: number): void {
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    this.metrics.prune(now);
  }

  async flush(): Promise<void> {
    this.cancelPersist?.();
    this.cancelPersist = undefined;
    if (this.file) await this.persist(this.file);
  }

  private persist(file: string): Promise<void> {
    const document = JSON.stringify(this.metrics.toJSON());
    this.writing = this.writing.catch(() => undefined).then(async () => {
      const temporary = `${file}.${process.pid}.tmp`;
      await writeFile(temporary, document);
      await rename(temporary, file);
    });
    return this.writing;
  }

  private load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    this.metrics.load(JSON.parse(text));
    this.metrics.prune(this.clock.now());
  }
}
