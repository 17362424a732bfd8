/**
 * Where CloudWatch keeps its metrics: table `cloudwatch_points` of the local cloud's database, one
 * row per accepted data point, beside the in-memory series the queries read. `add` commits a
 * PutMetricData's points in one transaction before it returns, so the call answers after a durable
 * write; `prune` drops points past retention from both.
 */
import type { Clock } from '../clock';
import type { LocalDatabase } from '../shared/database';
import { HIGH_RESOLUTION_RETENTION_MS, Metrics, RETENTION_MS, type MetricIdentity, type StoredPoint } from './models';

export interface MetricsStore {
  readonly metrics: Metrics;
  add(points: readonly { readonly identity: MetricIdentity; readonly point: StoredPoint }[]): void;
  /** Drops points past retention; scans everything, so at most once a minute of clock time. */
  prune(now: number): void;
}

export class SqliteMetricsStore implements MetricsStore {
  readonly metrics = new Metrics();
  private lastPrune = -Infinity;

  /** Reads back every point still within retention. */
  constructor(
    private readonly db: LocalDatabase,
    private readonly clock: Clock,
  ) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS cloudwatch_points (
        metric TEXT NOT NULL,
        t INTEGER NOT NULL,
        resolution INTEGER NOT NULL,
        point TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS cloudwatch_points_by_time ON cloudwatch_points (resolution, t);
    `);
    this.prune(clock.now());
    const identities = new Map<string, MetricIdentity>();
    for (const row of db.all<{ metric: string; point: string }>('SELECT metric, point FROM cloudwatch_points ORDER BY rowid')) {
      let identity = identities.get(row.metric);
      if (!identity) {
        identity = JSON.parse(row.metric) as MetricIdentity;
        identities.set(row.metric, identity);
      }
      this.metrics.add(identity, JSON.parse(row.point) as StoredPoint);
    }
  }

  add(points: readonly { readonly identity: MetricIdentity; readonly point: StoredPoint }[]): void {
    this.db.transaction(() => {
      for (const { identity, point } of points) {
        const metric = JSON.stringify({ namespace: identity.namespace, metricName: identity.metricName, dimensions: identity.dimensions });
        this.db.run('INSERT INTO cloudwatch_points (metric, t, resolution, point) VALUES (?, ?, ?, ?)', metric, point.t, point.resolution, JSON.stringify(point));
      }
    });
    for (const { identity, point } of points) this.metrics.add(identity, point);
    this.prune(this.clock.now());
  }

  prune(now: number): void {
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    this.metrics.prune(now);
    this.db.run(
      'DELETE FROM cloudwatch_points WHERE (resolution = 1 AND t < ?) OR (resolution <> 1 AND t < ?)',
      now - HIGH_RESOLUTION_RETENTION_MS,
      now - RETENTION_MS,
    );
  }
}
