import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../local/clock';
import { CloudWatchService, type MetricDataQuery } from '../../../local/cloudwatch/cloudwatch-service';
import { AwsServiceError } from '../../../local/edge/errors';
import { LocalDatabase } from '../../../local/shared/database';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const M = 60_000;
const DAY = 24 * 60 * M;
const utilization: MetricDataQuery[] = [
  { Id: 'm1', MetricStat: { Metric: { Namespace: 'ImageGen', MetricName: 'UtilizationRate', Dimensions: [{ Name: 'EndpointName', Value: 'e' }] }, Period: 60, Stat: 'Average' } },
];

describe('CloudWatchService (in process)', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cloudwatch-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('serves MetricsPort data through getMetricData with Date timestamps, truncated to the minute', () => {
    const clock = new ManualClock(T0 + 10 * M);
    const service = new CloudWatchService({ clock });
    service.putMetricData('ImageGen', [
      { metricName: 'UtilizationRate', dimensions: { EndpointName: 'e' }, value: 0.4, timestamp: T0 + 15_000 },
      { metricName: 'UtilizationRate', dimensions: { EndpointName: 'e' }, value: 0.8, timestamp: T0 + 45_000, unit: 'None' },
    ]);
    const out = service.getMetricData(utilization, T0, T0 + 5 * M);
    expect(out.MetricDataResults).toEqual([
      { Id: 'm1', Label: 'UtilizationRate', Timestamps: [new Date(T0)], Values: [expect.closeTo(0.6, 10)], StatusCode: 'Complete', Messages: [] },
    ]);
    expect(service.listMetrics({ Namespace: 'ImageGen' }).Metrics).toEqual([
      { Namespace: 'ImageGen', MetricName: 'UtilizationRate', Dimensions: [{ Name: 'EndpointName', Value: 'e' }] },
    ]);
  });

  it('marks a result cut short by MaxDatapoints as PartialData', () => {
    const clock = new ManualClock(T0 + 10 * M);
    const service = new CloudWatchService({ clock });
    service.putMetricData('ImageGen', [0, 1, 2].map((m) => ({ metricName: 'UtilizationRate', dimensions: { EndpointName: 'e' }, value: m, timestamp: T0 + m * M })));
    const [result] = service.getMetricData(utilization, T0, T0 + 5 * M, { maxDatapoints: 2, scanBy: 'TimestampAscending' }).MetricDataResults;
    expect(result).toMatchObject({ StatusCode: 'PartialData', Values: [0, 1] });
  });

  it('rejects invalid port data with the service error', () => {
    const service = new CloudWatchService({ clock: new ManualClock(T0) });
    expect(() => service.putMetricData('ImageGen', [{ metricName: 'X', dimensions: {}, value: NaN, timestamp: T0 }])).toThrow(AwsServiceError);
    expect(() => service.putMetricData('ImageGen', [{ metricName: 'X', dimensions: {}, value: 1, timestamp: T0, unit: 'Parsecs' }])).toThrow(/Unit/);
  });

  it('commits each data point before it returns, and reads it back after a restart', () => {
    const clock = new ManualClock(T0);
    const database = LocalDatabase.open(dir);
    const first = new CloudWatchService({ clock, database });
    first.putMetricData('ImageGen', [{ metricName: 'UtilizationRate', dimensions: { EndpointName: 'e' }, value: 0.5, timestamp: T0 }]);
    expect(database.all('SELECT t FROM cloudwatch_points')).toEqual([{ t: T0 }]);
    database.close();

    const reopened = LocalDatabase.open(dir);
    const second = new CloudWatchService({ clock, database: reopened });
    expect(second.getMetricData(utilization, T0, T0 + M).MetricDataResults[0]?.Values).toEqual([0.5]);
    reopened.close();
  });

  it('drops data older than the 15-day retention', async () => {
    const clock = new ManualClock(T0);
    const service = new CloudWatchService({ clock });
    service.putMetricData('ImageGen', [{ metricName: 'UtilizationRate', dimensions: { EndpointName: 'e' }, value: 1, timestamp: T0 }]);
    await clock.advance(16 * DAY);
    service.putMetricData('ImageGen', [{ metricName: 'Other', dimensions: {}, value: 1, timestamp: clock.now() }]);
    expect(service.getMetricData(utilization, T0 - M, T0 + M).MetricDataResults[0]?.Values).toEqual([]);
    expect(service.listMetrics().Metrics.map((m) => m.MetricName)).toEqual(['Other']);
  });

  it('lists only recently active metrics when asked', async () => {
    const clock = new ManualClock(T0);
    const service = new CloudWatchService({ clock });
    service.putMetricData('ImageGen', [{ metricName: 'Old', dimensions: {}, value: 1, timestamp: T0 }]);
    await clock.advance(4 * 60 * M);
    service.putMetricData('ImageGen', [{ metricName: 'New', dimensions: {}, value: 1, timestamp: clock.now() }]);
    expect(service.listMetrics({ RecentlyActive: 'PT3H' }).Metrics.map((m) => m.MetricName)).toEqual(['New']);
    expect(service.listMetrics().Metrics).toHaveLength(2);
  });
});
